// The converter's any-size rewrite: a Resize whose target size TF froze takes
// it from the map it is added to, so the graph runs at other input sizes.
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxBuilder } from '../scripts/models/onnx-builder.js';
import { topologicalOrder } from '../scripts/models/dynamic-size.js';

/** x [1,1,H,W] → MaxPool 2×2 → Resize back to a frozen [4, 4] → Add x (a pyramid's top-down step). */
function pyramidStep(consumer: 'Add' | 'Mul') {
  const b = new OnnxBuilder();
  b.reserve('x');
  const pooled = b.op('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2] }, 'pool');
  const shape = b.op('Shape', [pooled], {}, 'up/shape');
  const nc = b.op('Slice', [shape, b.int64('up/s0', [0]), b.int64('up/s1', [2])], {}, 'up/nc');
  const sizes = b.op('Concat', [nc, b.int64('up/hw', [4, 4])], { axis: 0 }, 'up/sizes');
  const up = b.op('Resize', [pooled, '', '', sizes], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, 'up');
  const out = b.op(consumer, ['x', up], {}, 'out');
  return { b, out };
}

async function run(bytes: Uint8Array, x: Float32Array, h: number, w: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ x: new ort.Tensor('float32', x, [1, 1, h, w]) });
  return r['out']!.data as Float32Array;
}

const encode = (b: OnnxBuilder, out: string, dims: Array<number | string>) =>
  b.encode({ graphName: 't', inputs: [{ name: 'x', dtype: 'float32', shape: dims }], outputs: [{ name: out, dtype: 'float32', shape: dims }], doc: '', metadata: {} });

/** What the step computes, in plain JS: x + nearest-upsampled 2×2 max-pool. */
function expected(x: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let c = 0; c < w; c++) {
      const py = Math.floor(y / 2) * 2;
      const px = Math.floor(c / 2) * 2;
      const m = Math.max(x[py * w + px]!, x[py * w + px + 1]!, x[(py + 1) * w + px]!, x[(py + 1) * w + px + 1]!);
      out[y * w + c] = x[y * w + c]! + m;
    }
  return out;
}

describe('any-size rewrite', () => {
  it('runs at the frozen size as before and at other sizes after the rewrite', async () => {
    const frozen = pyramidStep('Add');
    const fixedBytes = encode(frozen.b, frozen.out, [1, 1, 4, 4]);
    const x4 = Float32Array.from({ length: 16 }, (_, i) => (i * 7) % 5);
    expect(Array.from(await run(fixedBytes, x4, 4, 4))).toEqual(Array.from(expected(x4, 4, 4)));
    // Frozen, it cannot add a [4,4] upsample to an [8,6] map.
    const x86 = Float32Array.from({ length: 48 }, (_, i) => (i * 3) % 7);
    await expect(run(encode(frozen.b, frozen.out, [1, 1, 'H', 'W']), x86, 8, 6)).rejects.toThrow();

    const dyn = pyramidStep('Add');
    expect(dyn.b.initializerCount).toBe(3); // up/s0, up/s1, up/hw
    expect(dyn.b.makeSpatiallyDynamic()).toEqual({ resizes: 1 });
    // The frozen [4, 4] is gone (onnxruntime would warn about it at every load); the slice bounds are new.
    expect(dyn.b.initializerCount).toBe(4);
    const bytes = encode(dyn.b, dyn.out, [1, 1, 'H', 'W']);
    expect(Array.from(await run(bytes, x4, 4, 4))).toEqual(Array.from(expected(x4, 4, 4)));
    expect(Array.from(await run(bytes, x86, 8, 6))).toEqual(Array.from(expected(x86, 8, 6)));
  });

  it('refuses, naming the node, a Resize whose size it cannot take from a partner', () => {
    const { b } = pyramidStep('Mul');
    expect(() => b.makeSpatiallyDynamic()).toThrow(/Resize up: its output feeds something other than one Add/);
  });

  it('orders nodes so each comes after what it reads, keeping the given order otherwise', () => {
    const n = (name: string, input: string[]) => ({ op_type: 'Identity', input, output: [name], name, attribute: [] });
    const sorted = topologicalOrder([n('c', ['b']), n('a', ['x']), n('b', ['a']), n('d', ['x'])]).map((x) => x.name);
    expect(sorted).toEqual(['a', 'b', 'c', 'd']);
    expect(() => topologicalOrder([n('a', ['b']), n('b', ['a'])])).toThrow(/cycle/);
  });
});
