import { describe, expect, it } from 'vitest';
import type { Box } from '../pipeline/events/types.js';
import { fillPad } from '../pipeline/detect/preprocess.js';
import type { ManifestInput } from '../pipeline/detect/manifest.js';

const input = (layout: 'NCHW' | 'NHWC'): ManifestInput =>
  ({ name: 'x', shape: [-1, 3, 8, 12], layout, colour: 'BGR', resize: 'stretch', mean: [10, 20, 30], std: [2, 4, 8], scale: 1, pad_value: 114, dtype: 'float32' }) as unknown as ManifestInput;

/** Every value outside `keep` (x ≥ keep[0] and x < keep[2], the same for y) set to its channel's pad value: the rule, value by value. */
function reference(layout: 'NCHW' | 'NHWC', keep: Box | null, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * 3).fill(-1);
  const i = input(layout);
  for (let c = 0; c < 3; c++) {
    const v = (i.pad_value * i.scale - i.mean[c]!) / i.std[c]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (keep && x >= keep[0] && x < keep[2] && y >= keep[1] && y < keep[3]) continue;
        out[layout === 'NCHW' ? c * w * h + y * w + x : (y * w + x) * 3 + c] = v;
      }
    }
  }
  return out;
}

describe('fillPad', () => {
  for (const layout of ['NCHW', 'NHWC'] as const) {
    it(`${layout}: pads exactly the values outside the kept box, whole or fractional, and leaves the box alone`, () => {
      const size = { width: 12, height: 8 };
      for (const keep of [null, [0, 0, 7, 5], [2.5, 1.2, 9.7, 6.5], [3, 3, 3, 6], [0, 0, 12, 8], [-2, -1, 20, 30]] as (Box | null)[]) {
        const got = new Float32Array(2 * 12 * 8 * 3).fill(-1);
        fillPad(input(layout), got, 1, keep, size);
        expect(Array.from(got.subarray(0, 12 * 8 * 3)).every((v) => v === -1), 'item 0 untouched').toBe(true);
        expect(Array.from(got.subarray(12 * 8 * 3)), JSON.stringify(keep)).toEqual(Array.from(reference(layout, keep, 12, 8)));
      }
    });
  }
});
