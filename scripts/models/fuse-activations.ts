// Peephole fusion of MobileNetV3's hard activations. TF writes them as
// elementwise chains (x+3 → Relu6 → ×1/6 → ×x) that the converter maps one to
// one; in onnxruntime each link is a pass over the whole feature map and a
// break in the NCHWc blocked layout, so about a third of a CenterNet run went
// to Mul, Add, Clip and the layout reorders around them (29 of 91 ms,
// profiled). One HardSigmoid / HardSwish node computes the same in one pass.

import type { GraphNode } from './onnx-builder.js';

/** Reads a scalar float initializer, or undefined when `name` is not one. */
export type ScalarLookup = (name: string) => number | undefined;

export interface FusionCounts {
  hardSwish: number;
  hardSigmoid: number;
}

const near = (a: number | undefined, b: number, tol: number) => a !== undefined && Math.abs(a - b) <= tol;
// The models store 1/6 as float16 (0.16662598); accept that rounding, no more.
const SIXTH_TOL = 1e-4;

/**
 * Rewrites, in place of the chain's last node:
 *   r = Clip(Add(x, 3), 0, 6); y = Mul(r, c≈1/6)        → y = HardSigmoid(x, alpha=c, beta=3c)
 *   y = Mul(Mul(x, c≈1/6), Clip(Add(x, 3), 0, 6))       → y = HardSwish(x)
 * Only when every intermediate has no other consumer and is not a graph
 * output, so the rewrite cannot change any other value.
 */
export function fuseHardActivations(nodes: GraphNode[], scalar: ScalarLookup, graphOutputs: Set<string>): { nodes: GraphNode[]; counts: FusionCounts } {
  const producer = new Map<string, GraphNode>();
  const uses = new Map<string, number>();
  for (const n of nodes) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  const private1 = (t: string) => (uses.get(t) ?? 0) === 1 && !graphOutputs.has(t);
  const removed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, GraphNode>();
  const counts: FusionCounts = { hardSwish: 0, hardSigmoid: 0 };

  /** x when `t` = Clip(Add(x, 3), 0, 6) with private intermediates; else undefined. */
  const relu6Plus3 = (t: string): { x: string; clip: GraphNode; add: GraphNode } | undefined => {
    const clip = producer.get(t);
    if (!clip || clip.op_type !== 'Clip' || removed.has(clip) || clip.input.length !== 3) return undefined;
    if (!near(scalar(clip.input[1]!), 0, 0) || !near(scalar(clip.input[2]!), 6, 0)) return undefined;
    const add = producer.get(clip.input[0]!);
    if (!add || add.op_type !== 'Add' || removed.has(add) || !private1(clip.input[0]!)) return undefined;
    const k = add.input.findIndex((i) => near(scalar(i), 3, 0));
    if (k < 0) return undefined;
    return { x: add.input[1 - k]!, clip, add };
  };

  for (const mul of nodes) {
    if (mul.op_type !== 'Mul' || mul.input.length !== 2) continue;
    const [a, b] = mul.input as [string, string];
    // HardSwish: Mul(Mul(x, c), Clip(Add(x,3),0,6)), either operand order.
    for (const [scaledT, clipT] of [[a, b], [b, a]] as const) {
      const scaled = producer.get(scaledT);
      const r = private1(clipT) ? relu6Plus3(clipT) : undefined;
      if (!r || !scaled || scaled.op_type !== 'Mul' || removed.has(scaled) || !private1(scaledT)) continue;
      const k = scaled.input.findIndex((i) => near(scalar(i), 1 / 6, SIXTH_TOL));
      if (k < 0 || scaled.input[1 - k] !== r.x) continue;
      removed.add(scaled).add(r.clip).add(r.add);
      replaced.set(mul, { op_type: 'HardSwish', input: [r.x], output: mul.output, name: mul.name, attribute: [] });
      counts.hardSwish++;
      break;
    }
    if (replaced.has(mul)) continue;
    // HardSigmoid: Mul(Clip(Add(x,3),0,6), c).
    for (const [clipT, cT] of [[a, b], [b, a]] as const) {
      const c = scalar(cT);
      const r = private1(clipT) ? relu6Plus3(clipT) : undefined;
      if (!r || !near(c, 1 / 6, SIXTH_TOL)) continue;
      removed.add(r.clip).add(r.add);
      replaced.set(mul, {
        op_type: 'HardSigmoid',
        input: [r.x],
        output: mul.output,
        name: mul.name,
        attribute: [
          { name: 'alpha', type: 1, f: c! },
          { name: 'beta', type: 1, f: 3 * c! },
        ],
      });
      counts.hardSigmoid++;
      break;
    }
  }
  const out = nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { nodes: out, counts };
}
