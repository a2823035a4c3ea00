// The converter's hard-activation fusion: the rewrite happens where it may and
// nowhere else, and onnxruntime computes the fused graph as the chain did.
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxBuilder } from '../scripts/models/onnx-builder.js';

const SIXTH_F16 = 0.1666259765625; // 1/6 as the source models store it

/** x → hard-swish (TF's chain) → h; h → hard-sigmoid chain → g; y = h * g. Optionally lets `tap` read the Clip output too. */
function chainGraph(tapClip: boolean) {
  const b = new OnnxBuilder();
  b.reserve('x');
  const three = b.float('three', [3], true);
  const zero = b.float('zero', [0], true);
  const six = b.float('six', [6], true);
  const c = b.float('c', [SIXTH_F16], true);
  const scaled = b.op('Mul', [c, 'x'], {}, 'hs/mul');
  const plus3 = b.op('Add', ['x', three], {}, 'hs/add');
  const relu6 = b.op('Clip', [plus3, zero, six], {}, 'hs/relu6');
  const h = b.op('Mul', [scaled, relu6], {}, 'hs/out');
  const plus3b = b.op('Add', [h, three], {}, 'hsig/add');
  const relu6b = b.op('Clip', [plus3b, zero, six], {}, 'hsig/relu6');
  const g = b.op('Mul', [relu6b, c], {}, 'hsig/out');
  const y = b.op('Mul', [h, g], {}, 'y');
  const outputs = [y, ...(tapClip ? [relu6] : [])];
  return { b, outputs };
}

function encode(b: OnnxBuilder, outputs: string[]): Uint8Array {
  return b.encode({
    graphName: 't',
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3, 4, 4] }],
    outputs: outputs.map((name) => ({ name, dtype: 'float32', shape: [2, 3, 4, 4] })),
    doc: '',
    metadata: {},
  });
}

const hardSigmoid = (x: number, c: number) => Math.min(1, Math.max(0, c * x + 3 * c));

describe('hard activation fusion', () => {
  it('folds hard-swish and hard-sigmoid chains into one node each and drops their constants', () => {
    const { b, outputs } = chainGraph(false);
    const before = b.opCounts();
    const counts = b.fuseActivations(outputs);
    expect(counts).toEqual({ hardSwish: 1, hardSigmoid: 1 });
    expect(before).toMatchObject({ Mul: 4, Add: 2, Clip: 2 });
    expect(b.opCounts()).toEqual({ HardSwish: 1, HardSigmoid: 1, Mul: 1 });
    // three, zero, six and c were only used by the chains.
    expect(b.initializerCount).toBe(0);
  });

  it('leaves a chain alone when one of its links is read elsewhere', () => {
    const { b, outputs } = chainGraph(true);
    const counts = b.fuseActivations(outputs);
    expect(counts.hardSwish).toBe(0);
    expect(counts.hardSigmoid).toBe(1);
    expect(b.opCounts().Clip).toBe(1);
  });

  it('computes what the chain computes, to the float16 rounding of 1/6', async () => {
    const x = Float32Array.from({ length: 96 }, (_, i) => (i - 48) / 6); // -8 .. 7.8, across both kinks
    const run = async (fuse: boolean) => {
      const { b, outputs } = chainGraph(false);
      if (fuse) b.fuseActivations(outputs);
      const s = await ort.InferenceSession.create(encode(b, outputs));
      const r = await s.run({ x: new ort.Tensor('float32', x, [2, 3, 4, 4]) });
      return r[outputs[0]!]!.data as Float32Array;
    };
    const chain = await run(false);
    const fused = await run(true);
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const h = v * Math.min(6, Math.max(0, v + 3)) * SIXTH_F16;
      const want = h * Math.min(6, Math.max(0, h + 3)) * SIXTH_F16;
      expect(chain[i]!).toBeCloseTo(want, 5);
      const hExact = (v * Math.min(6, Math.max(0, v + 3))) / 6;
      expect(fused[i]!).toBeCloseTo(hExact * hardSigmoid(hExact, SIXTH_F16), 5);
      worst = Math.max(worst, Math.abs(fused[i]! - chain[i]!) / Math.max(1, Math.abs(chain[i]!)));
    }
    expect(worst).toBeGreaterThan(0); // the two really are different graphs
    expect(worst).toBeLessThan(1e-3);
  });
});
