import { describe, expect, it } from 'vitest';
import type { Box } from '../pipeline/events/types.js';
import { fillAtSize, fillPad } from '../pipeline/detect/preprocess.js';
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

describe('fillAtSize at scale 1 (a crop at its own size)', () => {
  for (const layout of ['NCHW', 'NHWC'] as const) {
    it(`${layout}: copies the region's pixels normalised, exactly as the bilinear path computes them`, () => {
      const image = { width: 20, height: 14, data: new Uint8Array(20 * 14 * 3) };
      for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 37 + 11) % 256;
      const region: Box = [3, 2, 15, 10]; // 12 × 8
      const size = { width: 16, height: 8 };
      const i = input(layout);
      const got = new Float32Array(size.width * size.height * 3).fill(-1);
      const placement = fillAtSize(image, region, i, got, 0, size, 1);
      expect(placement).toMatchObject({ scaleX: 1, scaleY: 1, padX: 0, padY: 0 });
      const plane = size.width * size.height;
      for (let y = 0; y < size.height; y++) {
        for (let x = 0; x < size.width; x++) {
          for (let c = 0; c < 3; c++) {
            // BGR model: channel 0 is the source's blue (byte 2).
            const src = x < 12 ? image.data[((region[1] + y) * image.width + region[0] + x) * 3 + (2 - c)]! : i.pad_value;
            const want = (src * i.scale - i.mean[c]!) / i.std[c]!;
            const at = layout === 'NCHW' ? c * plane + y * size.width + x : (y * size.width + x) * 3 + c;
            expect(got[at]).toBeCloseTo(want, 5);
          }
        }
      }
      // Half a pixel off the grid takes the interpolating path: values between neighbours, not copies.
      const shifted = new Float32Array(got.length);
      fillAtSize(image, [3.5, 2, 15.5, 10], i, shifted, 0, size, 1);
      expect(shifted[0]).not.toBeCloseTo(got[0]!, 5);
    });
  }
});
