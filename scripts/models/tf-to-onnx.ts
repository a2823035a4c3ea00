// Converts a TF.js graph (see tfjs-graph.ts) to an ONNX graph (opset 13).
//
// Layout: TF convolutions are NHWC, ONNX Conv is NCHW. Every TF tensor is kept
// as an ONNX tensor plus a permutation `perm` with onnx = transpose(tf, perm);
// ops that care about layout (Conv, pools, Resize) ask for the NCHW view
// ([0,3,1,2]), layout-neutral ops (elementwise, Pad, Concat, Mean, Split)
// work on whatever view they get and remap their axes, and TF Transpose ops
// only change the bookkeeping. A real ONNX Transpose is emitted only where an
// op needs a view the tensor is not in (Reshape, TopK, graph outputs). This
// keeps the external input/output layout exactly as in TF.js while the inside
// runs NCHW, and removes the Transpose pairs that onnx-tf left in NanoDet.
//
// Batch: TF.js graphs are traced with batch 1. Dim 0 of every tensor is
// tracked as "batch"; Reshape targets starting with 1 become 0 (copy N), and a
// batch-flattening gather (TF's BatchGather idiom) is rewritten to GatherND
// with batch_dims=1. Anything else that mixes the batch axis is recorded in
// `batchIssues`, and the model is then exported with a fixed batch of 1.
import { OnnxBuilder, type AttrValue, type OnnxDType, type ValueInfo } from './onnx-builder.js';
import type { FusionCounts } from './fuse-activations.js';
import { nodeOf, outputIndex, tensorName, type DType, type TfAttr, type TfGraph, type TfNode, type TfTensor } from './tfjs-graph.js';

type Perm = number[] | null;

interface Dyn {
  kind: 'dyn';
  onnx: string;
  perm: Perm;
  rank: number;
  dtype: DType;
  batched: boolean;
}

interface Const {
  kind: 'const';
  t: TfTensor;
}

type Value = Dyn | Const;

const NCHW: Perm = [0, 3, 1, 2];

export interface ConvertOptions {
  /** TF tensor names to export, with the ONNX output name for each. */
  outputs: Array<{ tf: string; onnx: string }>;
  graphName: string;
  doc: string;
  metadata: Record<string, string>;
  /** Let the input take any height and width (fully convolutional graphs; see dynamic-size.ts). */
  spatiallyDynamic?: boolean;
}

export interface ConvertResult {
  bytes: Uint8Array;
  /** The TF.js graph's own input shapes (the size it was built for, even when the ONNX input is dynamic). */
  placeholderShapes: number[][];
  batchable: boolean;
  batchIssues: string[];
  /** Hard activation chains folded into single nodes. */
  fused: FusionCounts;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  tfOps: Record<string, number>;
  onnxOps: Record<string, number>;
  initializers: number;
}

export function convertGraph(graph: TfGraph, opts: ConvertOptions): ConvertResult {
  rewriteBatchGather(graph);
  const c = new Converter(graph);
  const outs = opts.outputs.map((o) => {
    const v = c.value(tensorName(o.tf));
    if (v.kind === 'const') throw new Error(`${graph.path}: output ${o.tf} is a constant; nothing to convert`);
    const name = c.b.op('Identity', [c.view(v, null)], {}, o.onnx);
    if (name !== o.onnx) throw new Error(`${graph.path}: output name ${o.onnx} clashes with another tensor`);
    return { v, name };
  });
  const batchable = c.batchIssues.length === 0 && outs.every((o) => o.v.batched);
  const sigShape = (tfName: string) => graph.outputs.find((s) => s.name === tensorName(tfName))?.shape;
  const dim = (d: number, i: number, prefix: string): number | string =>
    i === 0 ? (batchable ? 'N' : 1) : d < 0 ? `${prefix}_${i}` : d;
  const dynamic = opts.spatiallyDynamic === true;
  // Spatially dynamic: the input's height and width, and each output's cell count, become symbols.
  const spatial = (shape: number[]) => (shape.length === 4 && shape[1] === 3 ? [2, 3] : [1, 2]);
  const inputs: ValueInfo[] = c.placeholders.map((p) => ({
    name: p.name,
    dtype: p.dtype as OnnxDType,
    shape: p.shape.map((d, i) => (dynamic && spatial(p.shape).includes(i) ? (i === spatial(p.shape)[0] ? 'H' : 'W') : dim(d, i, p.name))),
  }));
  const outputs: ValueInfo[] = outs.map((o, k) => {
    const shape = sigShape(opts.outputs[k]!.tf) ?? Array.from({ length: o.v.rank }, () => -1);
    return { name: o.name, dtype: o.v.dtype as OnnxDType, shape: shape.map((d, i) => (dynamic && i === 1 ? `${o.name}_cells` : dim(d, i, o.name))) };
  });
  const fused = c.b.fuseActivations(outputs.map((o) => o.name));
  if (dynamic) c.b.makeSpatiallyDynamic();
  const bytes = c.b.encode({ graphName: opts.graphName, inputs, outputs, doc: opts.doc, metadata: opts.metadata });
  return {
    bytes,
    placeholderShapes: c.placeholders.map((p) => p.shape),
    batchable,
    batchIssues: c.batchIssues,
    fused,
    inputs,
    outputs,
    tfOps: c.tfOps,
    onnxOps: c.b.opCounts(),
    initializers: c.b.initializerCount,
  };
}

/**
 * TF's batch_gather on a batch-1 graph: GatherV2(Reshape(params,[S,D]),
 * Reshape(idx,[-1]), axis 0) → Reshape([1,K,D]). It flattens the batch into the
 * row index, so it only works for N=1. Replace it by a synthetic node that
 * gathers per image (GatherND, batch_dims=1).
 */
function rewriteBatchGather(graph: TfGraph): void {
  const constOf = (t: string) => graph.consts.get(t);
  const consumers = new Map<string, TfNode[]>();
  for (const n of graph.nodes.values()) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  for (const g of [...graph.nodes.values()]) {
    if (g.op !== 'GatherV2' || g.inputs.length !== 3) continue;
    const axis = constOf(g.inputs[2]!);
    const params = graph.nodes.get(nodeOf(g.inputs[0]!));
    const idx = graph.nodes.get(nodeOf(g.inputs[1]!));
    const users = consumers.get(tensorName(g.name)) ?? [];
    const out = users[0];
    if (!axis || axis.data[0] !== 0 || params?.op !== 'Reshape' || idx?.op !== 'Reshape' || users.length !== 1 || out?.op !== 'Reshape') continue;
    const pShape = constOf(params.inputs[1]!);
    const iShape = constOf(idx.inputs[1]!);
    const oShape = constOf(out.inputs[1]!);
    if (!pShape || !iShape || !oShape || pShape.shape[0] !== 2 || iShape.shape[0] !== 1 || iShape.data[0] !== -1) continue;
    if (oShape.shape[0] !== 3 || oShape.data[0] !== 1 || oShape.data[2] !== pShape.data[1]) continue;
    graph.nodes.set(out.name, {
      name: out.name,
      op: '_BatchGather',
      inputs: [params.inputs[0]!, idx.inputs[0]!],
      attr: { rowSize: { kind: 'i', value: Number(pShape.data[1]) } },
    });
  }
}

class Converter {
  readonly b = new OnnxBuilder();
  readonly batchIssues: string[] = [];
  readonly tfOps: Record<string, number> = {};
  readonly placeholders: Array<{ name: string; dtype: DType; shape: number[] }> = [];
  private values = new Map<string, Value>();
  private views = new Map<string, string>();
  private visiting = new Set<string>();

  constructor(private graph: TfGraph) {}

  value(tensor: string): Value {
    const hit = this.values.get(tensor);
    if (hit) return hit;
    const nodeName = nodeOf(tensor);
    const node = this.graph.nodes.get(nodeName);
    if (!node) throw new Error(`${this.graph.path}: tensor ${tensor} has no producing node`);
    if (this.visiting.has(nodeName)) throw new Error(`${this.graph.path}: cycle through node ${nodeName}`);
    this.visiting.add(nodeName);
    const outs = this.convertNode(node);
    this.visiting.delete(nodeName);
    outs.forEach((v, i) => this.values.set(`${nodeName}:${i}`, v));
    const v = outs[outputIndex(tensor)];
    if (!v) throw new Error(`${this.graph.path}: node ${nodeName} (${node.op}) has no output ${outputIndex(tensor)}`);
    return v;
  }

  // ---- views and constants -------------------------------------------------

  /** ONNX tensor holding `v` in the layout `perm` (null = TF's own layout). */
  view(v: Value, perm: Perm, base = 'c'): string {
    if (v.kind === 'const') {
      const key = `const:${base}:${permKey(perm)}`;
      const cached = this.constCache.get(v.t);
      const hit = cached?.get(key);
      if (hit) return hit;
      const t = perm && v.t.shape.length > 0 ? transposeConst(padRank(v.t, perm.length), perm) : v.t;
      const name = this.b.initializer(base, onnxDType(t.dtype), t.shape, t.data as ArrayLike<number>);
      const m = cached ?? new Map<string, string>();
      m.set(key, name);
      this.constCache.set(v.t, m);
      return name;
    }
    if (permKey(v.perm) === permKey(perm)) return v.onnx;
    // Several TF tensors can share one ONNX tensor under different perms (a TF
    // Transpose only relabels), so the cache key holds both perms.
    const key = `${v.onnx}|${permKey(v.perm)}>${permKey(perm)}`;
    const hit = this.views.get(key);
    if (hit) return hit;
    const cur = v.perm ?? identity(v.rank);
    const want = perm ?? identity(v.rank);
    const t = this.b.op('Transpose', [v.onnx], { perm: want.map((a) => cur.indexOf(a)) }, `${v.onnx}/to_${permKey(perm)}`);
    this.views.set(key, t);
    return t;
  }

  private constCache = new Map<TfTensor, Map<string, string>>();

  constInput(node: TfNode, i: number, what: string): TfTensor {
    const v = this.value(node.inputs[i]!);
    if (v.kind !== 'const') {
      throw new Error(`${this.graph.path}: node ${node.name} (${node.op}): ${what} (input ${i}) must be a constant; computed ${what} is not supported`);
    }
    return v.t;
  }

  ints(node: TfNode, i: number, what: string): number[] {
    return Array.from(this.constInput(node, i, what).data as ArrayLike<number>, Number);
  }

  private dyn(onnx: string, from: Value[], extra: Partial<Dyn> = {}): Dyn {
    const d = from.filter((x): x is Dyn => x.kind === 'dyn');
    return {
      kind: 'dyn',
      onnx,
      perm: null,
      rank: Math.max(0, ...from.map(rankOf)),
      dtype: d[0]?.dtype ?? 'float32',
      batched: d.every((x) => x.batched),
      ...extra,
    };
  }

  batchIssue(node: TfNode, v: Value, why: string): void {
    if (v.kind === 'dyn' && v.batched) this.batchIssues.push(`${node.name} (${node.op}): ${why}`);
  }

  // ---- node conversion -----------------------------------------------------

  private convertNode(node: TfNode): Value[] {
    this.tfOps[node.op] = (this.tfOps[node.op] ?? 0) + 1;
    const { op } = node;
    if (op === 'Const') {
      const t = this.graph.consts.get(tensorName(node.name));
      if (!t) throw new Error(`${this.graph.path}: Const ${node.name} has no weight data`);
      return [{ kind: 'const', t }];
    }
    if (op === 'Placeholder') {
      const shape = attrInts(node, 'shape');
      const dtype = tfDType(attrStr(node, 'dtype') ?? 'DT_FLOAT');
      this.b.reserve(node.name);
      this.placeholders.push({ name: node.name, dtype, shape });
      return [{ kind: 'dyn', onnx: node.name, perm: null, rank: shape.length, dtype, batched: true }];
    }
    const ins = node.inputs.map((i) => this.value(i));
    if (ins.length > 0 && ins.every((v) => v.kind === 'const')) {
      const folded = foldConst(node, ins.map((v) => (v as Const).t));
      if (folded) return [{ kind: 'const', t: folded }];
    }
    const handler = HANDLERS[op];
    if (!handler) {
      throw new Error(
        `${this.graph.path}: node ${node.name} uses TF op ${op}, which the converter does not map yet; add it to HANDLERS in scripts/models/tf-to-onnx.ts`,
      );
    }
    return handler(this, node, ins);
  }

  // Helpers used by the handler table below.

  unary(node: TfNode, x: Value, op: string, attrs: Record<string, AttrValue> = {}, extra: Partial<Dyn> = {}): Dyn {
    const perm = x.kind === 'dyn' ? x.perm : null;
    const out = this.b.op(op, [this.view(x, perm)], attrs, node.name);
    return this.dyn(out, [x], { perm, ...extra });
  }

  /** Elementwise op with TF (numpy) broadcasting, in the layout of the widest dynamic operand. */
  binary(node: TfNode, a: Value, c: Value, op: string, extra: Partial<Dyn> = {}): Dyn {
    const rank = Math.max(rankOf(a), rankOf(c));
    const dyns = [a, c].filter((x): x is Dyn => x.kind === 'dyn');
    // Follow a non-TF layout only if every dynamic operand has full rank; a
    // lower-rank dynamic operand broadcasts on TF's axes.
    let perm: Perm = dyns.find((d) => d.rank === rank && d.perm)?.perm ?? null;
    if (perm && dyns.some((d) => d.rank !== rank)) perm = null;
    const arg = (x: Value) => {
      if (x.kind === 'const') return this.view(x, rankOf(x) === 0 ? null : perm, `${node.name}/const`);
      return this.view(x, x.rank === rank ? perm : null);
    };
    const out = this.b.op(op, [arg(a), arg(c)], {}, node.name);
    return this.dyn(out, [a, c], { perm, rank, ...extra });
  }

  /** Axis of TF tensor `v` as an axis of its ONNX view `perm`. */
  axisIn(perm: Perm, rank: number, axis: number): number {
    const a = axis < 0 ? axis + rank : axis;
    return perm ? perm.indexOf(a) : a;
  }
}

type Handler = (c: Converter, node: TfNode, ins: Value[]) => Value[];

function need(node: TfNode, ins: Value[], n: number): void {
  if (ins.length < n) throw new Error(`node ${node.name} (${node.op}) has ${ins.length} inputs, expected ${n}`);
}

function unaryH(op: string, attrs?: (n: TfNode) => Record<string, AttrValue>): Handler {
  return (c, node, ins) => [c.unary(node, ins[0]!, op, attrs?.(node) ?? {})];
}

function binaryH(op: string, dtype?: DType): Handler {
  return (c, node, ins) => {
    need(node, ins, 2);
    return [c.binary(node, ins[0]!, ins[1]!, op, dtype ? { dtype } : {})];
  };
}

const relu6: Handler = (c, node, ins) => {
  const lo = c.b.float(`${node.name}/min`, [0], true);
  const hi = c.b.float(`${node.name}/max`, [6], true);
  const x = ins[0]!;
  const perm = x.kind === 'dyn' ? x.perm : null;
  const out = c.b.op('Clip', [c.view(x, perm), lo, hi], {}, node.name);
  return [dynLike(out, x, perm)];
};

function dynLike(onnx: string, x: Value, perm: Perm, extra: Partial<Dyn> = {}): Dyn {
  return {
    kind: 'dyn',
    onnx,
    perm,
    rank: rankOf(x),
    dtype: x.kind === 'dyn' ? x.dtype : x.t.dtype,
    batched: x.kind === 'dyn' ? x.batched : false,
    ...extra,
  };
}

const conv: Handler = (c, node, ins) => {
  const op = node.op;
  const depthwise = op.includes('Depthwise');
  const fmt = attrStr(node, 'data_format') ?? 'NHWC';
  if (fmt !== 'NHWC') throw new Error(`node ${node.name} (${op}): data_format ${fmt} is not supported, only NHWC`);
  const x = c.view(ins[0]!, NCHW);
  const w = (() => {
    const v = ins[1]!;
    if (v.kind !== 'const') throw new Error(`node ${node.name} (${op}): filter must be a constant`);
    return v.t;
  })();
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  let onnxW: TfTensor;
  let group = 1;
  if (depthwise) {
    // TF [kh,kw,C,M] → ONNX [C*M,1,kh,kw], group C: output channel c*M+m in both.
    const out = new Float32Array(w.data.length);
    const src = w.data as Float32Array;
    for (let y = 0; y < kh; y++)
      for (let xk = 0; xk < kw; xk++)
        for (let ch = 0; ch < ci; ch++)
          for (let m = 0; m < co; m++) out[((ch * co + m) * kh + y) * kw + xk] = src[((y * kw + xk) * ci + ch) * co + m]!;
    onnxW = { dtype: 'float32', shape: [ci * co, 1, kh, kw], data: out };
    group = ci;
  } else {
    onnxW = transposeConst(w, [3, 2, 0, 1]);
  }
  const strides = attrInts(node, 'strides');
  const dil = attrInts(node, 'dilations');
  const attrs: Record<string, AttrValue> = {
    kernel_shape: [kh, kw],
    strides: [strides[1] ?? 1, strides[2] ?? 1],
    dilations: [dil[1] ?? 1, dil[2] ?? 1],
    group,
    ...padAttrs(node),
  };
  const inputs = [x, c.b.initializer(`${node.name}/W`, 'float32', onnxW.shape, onnxW.data as Float32Array)];
  const fused = node.attr.fused_ops?.kind === 'strings' ? node.attr.fused_ops.value : [];
  let argIdx = 2;
  const arg = () => {
    const v = ins[argIdx++];
    if (!v || v.kind !== 'const') throw new Error(`node ${node.name} (${op}): fused argument ${argIdx - 1} must be a constant`);
    return v.t;
  };
  let act: string | undefined;
  for (const f of fused) {
    if (f === 'BiasAdd') {
      const bias = arg();
      inputs.push(c.b.initializer(`${node.name}/B`, 'float32', [bias.data.length], bias.data as Float32Array));
    } else if (act === undefined && ['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Prelu', 'Sigmoid', 'Tanh'].includes(f)) act = f;
    else throw new Error(`node ${node.name} (${op}): fused op ${f} is not supported; add it in conv() in scripts/models/tf-to-onnx.ts`);
  }
  let out = c.b.op('Conv', inputs, attrs, node.name);
  if (act === 'Relu') out = c.b.op('Relu', [out], {}, `${node.name}/relu`);
  else if (act === 'Relu6') out = c.b.op('Clip', [out, c.b.float(`${node.name}/min`, [0], true), c.b.float(`${node.name}/max`, [6], true)], {}, `${node.name}/relu6`);
  else if (act === 'Elu') out = c.b.op('Elu', [out], {}, `${node.name}/elu`);
  else if (act === 'Sigmoid') out = c.b.op('Sigmoid', [out], {}, `${node.name}/sigmoid`);
  else if (act === 'Tanh') out = c.b.op('Tanh', [out], {}, `${node.name}/tanh`);
  else if (act === 'LeakyRelu') {
    const alpha = node.attr.leakyrelu_alpha?.kind === 'f' ? node.attr.leakyrelu_alpha.value : 0.2;
    out = c.b.op('LeakyRelu', [out], { alpha: { float: alpha } }, `${node.name}/leaky`);
  } else if (act === 'Prelu') {
    const slope = arg();
    out = c.b.op('PRelu', [out, c.b.initializer(`${node.name}/slope`, 'float32', [slope.data.length, 1, 1], slope.data as Float32Array)], {}, `${node.name}/prelu`);
  }
  return [{ kind: 'dyn', onnx: out, perm: NCHW, rank: 4, dtype: 'float32', batched: ins[0]!.kind === 'dyn' && ins[0]!.batched }];
};

function padAttrs(node: TfNode): Record<string, AttrValue> {
  const padding = attrStr(node, 'padding') ?? 'VALID';
  // TF SAME puts the odd pixel at the end, exactly ONNX SAME_UPPER.
  if (padding === 'SAME') return { auto_pad: 'SAME_UPPER' };
  if (padding === 'VALID') return { pads: [0, 0, 0, 0] };
  if (padding === 'EXPLICIT') {
    const p = attrInts(node, 'explicit_paddings'); // NHWC pairs
    return { pads: [p[2] ?? 0, p[4] ?? 0, p[3] ?? 0, p[5] ?? 0] };
  }
  throw new Error(`node ${node.name} (${node.op}): padding ${padding} is not supported`);
}

const pool: Handler = (c, node, ins) => {
  const fmt = attrStr(node, 'data_format') ?? 'NHWC';
  if (fmt !== 'NHWC') throw new Error(`node ${node.name} (${node.op}): data_format ${fmt} is not supported, only NHWC`);
  const k = attrInts(node, 'ksize');
  const s = attrInts(node, 'strides');
  const attrs: Record<string, AttrValue> = { kernel_shape: [k[1] ?? 1, k[2] ?? 1], strides: [s[1] ?? 1, s[2] ?? 1], ...padAttrs(node) };
  // TF AvgPool ignores padded cells, as ONNX does with count_include_pad=0 (the default).
  const out = c.b.op(node.op === 'MaxPool' ? 'MaxPool' : 'AveragePool', [c.view(ins[0]!, NCHW)], attrs, node.name);
  return [dynLike(out, ins[0]!, NCHW)];
};

const resize: Handler = (c, node, ins) => {
  const size = c.ints(node, 1, 'size');
  const x = ins[0]!;
  const xv = c.view(x, NCHW);
  const align = node.attr.align_corners?.kind === 'b' && node.attr.align_corners.value;
  const half = node.attr.half_pixel_centers?.kind === 'b' && node.attr.half_pixel_centers.value;
  const bilinear = node.op === 'ResizeBilinear';
  const attrs: Record<string, AttrValue> = bilinear
    ? { mode: 'linear', coordinate_transformation_mode: align ? 'align_corners' : half ? 'half_pixel' : 'asymmetric' }
    : {
        mode: 'nearest',
        coordinate_transformation_mode: align ? 'align_corners' : half ? 'tf_half_pixel_for_nn' : 'asymmetric',
        nearest_mode: align ? 'round_prefer_ceil' : 'floor',
      };
  // Sizes must include N, which is dynamic: [N, C] from Shape, then TF's [h, w].
  const shape = c.b.op('Shape', [xv], {}, `${node.name}/shape`);
  const nc = c.b.op('Slice', [shape, c.b.int64(`${node.name}/s0`, [0]), c.b.int64(`${node.name}/s1`, [2])], {}, `${node.name}/nc`);
  const sizes = c.b.op('Concat', [nc, c.b.int64(`${node.name}/hw`, size)], { axis: 0 }, `${node.name}/sizes`);
  const out = c.b.op('Resize', [xv, '', '', sizes], attrs, node.name);
  return [dynLike(out, x, NCHW)];
};

const reduce = (onnxOp: string): Handler => (c, node, ins) => {
  const x = ins[0]!;
  const rank = rankOf(x);
  const axes = c.ints(node, 1, 'axes').map((a) => (a < 0 ? a + rank : a));
  const keep = node.attr.keep_dims?.kind === 'b' && node.attr.keep_dims.value;
  if (axes.includes(0)) c.batchIssue(node, x, 'reduces over the batch axis');
  const perm = keep && x.kind === 'dyn' ? x.perm : null;
  const onnxAxes = axes.map((a) => c.axisIn(perm, rank, a));
  // Opset 13 moved ReduceSum's axes to an input; the other reductions keep the attribute until opset 18.
  const out =
    onnxOp === 'ReduceSum'
      ? c.b.op(onnxOp, [c.view(x, perm), c.b.int64(`${node.name}/axes`, onnxAxes)], { keepdims: keep ? 1 : 0 }, node.name)
      : c.b.op(onnxOp, [c.view(x, perm)], { axes: onnxAxes, keepdims: keep ? 1 : 0 }, node.name);
  return [dynLike(out, x, perm, { rank: keep ? rank : rank - axes.length })];
};

const concat: Handler = (c, node, ins) => {
  const parts = ins.slice(0, -1);
  const axisT = ins[ins.length - 1]!;
  if (axisT.kind !== 'const') throw new Error(`node ${node.name}: concat axis must be constant`);
  const rank = Math.max(...parts.map(rankOf));
  const axis = Number(axisT.t.data[0]) < 0 ? Number(axisT.t.data[0]) + rank : Number(axisT.t.data[0]);
  const dyns = parts.filter((p): p is Dyn => p.kind === 'dyn');
  // Use the layout most parts already have; ties go to TF's own layout.
  const counts = new Map<string, { perm: Perm; n: number }>();
  for (const d of dyns) {
    const k = permKey(d.perm);
    counts.set(k, { perm: d.perm, n: (counts.get(k)?.n ?? 0) + 1 });
  }
  let best: Perm = null;
  let bestN = -1;
  for (const { perm, n } of counts.values()) if (n > bestN || (n === bestN && perm === null)) [best, bestN] = [perm, n];
  if (axis === 0) for (const d of dyns) c.batchIssue(node, d, 'concatenates along the batch axis');
  const out = c.b.op('Concat', parts.map((p, i) => c.view(p, best, `${node.name}/part${i}`)), { axis: c.axisIn(best, rank, axis) }, node.name);
  return [{ kind: 'dyn', onnx: out, perm: best, rank, dtype: dyns[0]?.dtype ?? 'float32', batched: dyns.every((d) => d.batched) && axis !== 0 }];
};

const reshape: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const target = c.ints(node, 1, 'shape');
  let batched = x.kind === 'dyn' && x.batched;
  if (batched) {
    if (target[0] === 1) target[0] = 0; // copy N from the input
    else {
      c.batchIssue(node, x, `reshape to [${target}] merges the batch axis`);
      batched = false;
    }
  }
  const out = c.b.op('Reshape', [c.view(x, null), c.b.int64(`${node.name}/shape`, target)], {}, node.name);
  return [dynLike(out, x, null, { rank: target.length, batched })];
};

const transpose: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const t = c.ints(node, 1, 'perm');
  if (x.kind === 'const') {
    return [{ kind: 'const', t: transposeConst(x.t, t) }];
  }
  if (t[0] !== 0) c.batchIssue(node, x, 'moves the batch axis');
  // onnx = transpose(in, P) and out = transpose(in, T)  ⇒  onnx = transpose(out, T⁻¹∘P).
  const p = x.perm ?? identity(x.rank);
  const next = p.map((a) => t.indexOf(a));
  return [{ ...x, perm: isIdentity(next) ? null : next, batched: x.batched && t[0] === 0 }];
};

const pad: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const rank = rankOf(x);
  const p = c.ints(node, 1, 'paddings');
  const perm = x.kind === 'dyn' ? x.perm : null;
  const order = perm ?? identity(rank);
  const pads = [...order.map((a) => p[a * 2]!), ...order.map((a) => p[a * 2 + 1]!)];
  if ((p[0] ?? 0) !== 0 || (p[1] ?? 0) !== 0) c.batchIssue(node, x, 'pads the batch axis');
  const inputs = [c.view(x, perm), c.b.int64(`${node.name}/pads`, pads)];
  const attrs: Record<string, AttrValue> = {};
  if (node.op === 'PadV2') {
    const v = c.constInput(node, 2, 'constant_values');
    inputs.push(c.b.float(`${node.name}/value`, [Number(v.data[0])], true));
  } else if (node.op === 'MirrorPad') {
    const mode = attrStr(node, 'mode');
    if (mode !== 'REFLECT') throw new Error(`node ${node.name}: MirrorPad mode ${mode} is not supported (ONNX reflect excludes the edge, as REFLECT)`);
    attrs.mode = 'reflect';
  }
  const out = c.b.op('Pad', inputs, attrs, node.name);
  return [dynLike(out, x, perm)];
};

const split: Handler = (c, node, ins) => {
  // Split(axis, value) vs SplitV(value, sizes, axis).
  const isV = node.op === 'SplitV';
  const x = isV ? ins[0]! : ins[1]!;
  const rank = rankOf(x);
  let axis = Number(c.constInput(node, isV ? 2 : 0, 'axis').data[0]);
  if (axis < 0) axis += rank;
  const n = node.attr.num_split?.kind === 'i' ? node.attr.num_split.value : 1;
  if (axis === 0) c.batchIssue(node, x, 'splits the batch axis');
  const perm = x.kind === 'dyn' ? x.perm : null;
  const inputs = [c.view(x, perm)];
  if (isV) {
    const sizes = c.ints(node, 1, 'size_splits');
    if (sizes.some((s) => s < 0)) throw new Error(`node ${node.name}: SplitV with an inferred (-1) size is not supported`);
    inputs.push(c.b.int64(`${node.name}/split`, sizes));
  }
  const outs = c.b.node('Split', inputs, n, { axis: c.axisIn(perm, rank, axis) }, node.name);
  return outs.map((o) => dynLike(o, x, perm));
};

const stridedSlice: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const rank = rankOf(x);
  const begin = c.ints(node, 1, 'begin');
  const end = c.ints(node, 2, 'end');
  const strides = c.ints(node, 3, 'strides');
  const m = (k: string) => (node.attr[k]?.kind === 'i' ? (node.attr[k] as { value: number }).value : 0);
  if (m('ellipsis_mask') || m('new_axis_mask')) {
    throw new Error(`node ${node.name}: StridedSlice with ellipsis_mask/new_axis_mask is not supported`);
  }
  const BIG = 2 ** 53 - 1;
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  const shrink: number[] = [];
  for (let i = 0; i < begin.length; i++) {
    const step = strides[i] ?? 1;
    const shr = (m('shrink_axis_mask') >> i) & 1;
    let s = (m('begin_mask') >> i) & 1 ? (step > 0 ? 0 : -1) : begin[i]!;
    let e = (m('end_mask') >> i) & 1 ? (step > 0 ? BIG : -BIG) : end[i]!;
    if (shr) {
      s = begin[i]!;
      e = s === -1 ? BIG : s + 1;
      shrink.push(i);
    }
    const full = s === 0 && e >= BIG && step === 1;
    if (!full) {
      if (i === 0) c.batchIssue(node, x, 'slices the batch axis');
      starts.push(s);
      ends.push(e);
      axes.push(i);
      steps.push(step);
    }
  }
  let out = c.view(x, null);
  if (axes.length) {
    out = c.b.op(
      'Slice',
      [out, c.b.int64(`${node.name}/starts`, starts), c.b.int64(`${node.name}/ends`, ends), c.b.int64(`${node.name}/axes`, axes), c.b.int64(`${node.name}/steps`, steps)],
      {},
      node.name,
    );
  }
  if (shrink.length) out = c.b.op('Squeeze', [out, c.b.int64(`${node.name}/squeeze`, shrink)], {}, `${node.name}/shrink`);
  else if (!axes.length) out = c.b.op('Identity', [out], {}, node.name);
  return [dynLike(out, x, null, { rank: rank - shrink.length })];
};

const expandDims: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const rank = rankOf(x);
  let axis = Number(c.constInput(node, 1, 'dim').data[0]);
  if (axis < 0) axis += rank + 1;
  if (axis === 0) c.batchIssue(node, x, 'inserts an axis before the batch axis');
  const out = c.b.op('Unsqueeze', [c.view(x, null), c.b.int64(`${node.name}/axes`, [axis])], {}, node.name);
  return [dynLike(out, x, null, { rank: rank + 1 })];
};

const squeeze: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const rank = rankOf(x);
  const dims = attrInts(node, 'squeeze_dims').map((a) => (a < 0 ? a + rank : a));
  if (!dims.length) throw new Error(`node ${node.name}: Squeeze without squeeze_dims needs static shapes, which the converter does not track`);
  if (dims.includes(0)) c.batchIssue(node, x, 'squeezes the batch axis');
  const out = c.b.op('Squeeze', [c.view(x, null), c.b.int64(`${node.name}/axes`, dims)], {}, node.name);
  return [dynLike(out, x, null, { rank: rank - dims.length })];
};

const topk: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const k = c.ints(node, 1, 'k');
  const sorted = node.attr.sorted?.kind !== 'b' || node.attr.sorted.value;
  const [vals, idx] = c.b.node('TopK', [c.view(x, null), c.b.int64(`${node.name}/k`, k)], 2, { axis: -1, largest: 1, sorted: sorted ? 1 : 0 }, node.name);
  // TF returns int32 indices; keep that so the int arithmetic after TopK matches.
  const idx32 = c.b.op('Cast', [idx!], { to: 6 }, `${node.name}/indices`);
  return [dynLike(vals!, x, null), dynLike(idx32, x, null, { dtype: 'int32' })];
};

const gather: Handler = (c, node, ins) => {
  const [p, i] = [ins[0]!, ins[1]!];
  let axis = Number(c.constInput(node, 2, 'axis').data[0]);
  if (axis < 0) axis += rankOf(p);
  const bd = node.attr.batch_dims?.kind === 'i' ? node.attr.batch_dims.value : 0;
  if (bd !== 0) throw new Error(`node ${node.name}: GatherV2 with batch_dims=${bd} is not supported`);
  if (axis === 0) c.batchIssue(node, p, 'gathers along the batch axis');
  const out = c.b.op('Gather', [c.view(p, null), c.view(i, null, `${node.name}/indices`)], { axis }, node.name);
  return [dynLike(out, p, null, { rank: rankOf(p) + rankOf(i) - 1, batched: p.kind === 'dyn' && p.batched && axis !== 0 })];
};

const batchGather: Handler = (c, node, ins) => {
  // params [N, ...spatial, D] → [N, S, D]; indices [N, K] → [N, K, 1]; GatherND batch_dims=1 → [N, K, D].
  const [p, i] = [ins[0]!, ins[1]!];
  const d = node.attr.rowSize?.kind === 'i' ? node.attr.rowSize.value : -1;
  const rows = c.b.op('Reshape', [c.view(p, null), c.b.int64(`${node.name}/shape`, [0, -1, d])], {}, `${node.name}/rows`);
  const idx64 = c.b.op('Cast', [c.view(i, null)], { to: 7 }, `${node.name}/idx64`);
  const idx = c.b.op('Unsqueeze', [idx64, c.b.int64(`${node.name}/axes`, [-1])], {}, `${node.name}/idx`);
  const out = c.b.op('GatherND', [rows, idx], { batch_dims: 1 }, node.name);
  return [dynLike(out, p, null, { rank: 3, batched: [p, i].every((v) => v.kind === 'dyn' && v.batched) })];
};

const cast: Handler = (c, node, ins) => {
  const to = tfDType(attrStr(node, 'DstT') ?? 'DT_FLOAT');
  return [c.unary(node, ins[0]!, 'Cast', { to: onnxTypeNum(to) }, { dtype: to })];
};

const floorDivMod = (mod: boolean): Handler => (c, node, ins) => {
  need(node, ins, 2);
  const [a, b] = [ins[0]!, ins[1]!];
  const isFloat = (a.kind === 'dyn' ? a.dtype : a.t.dtype) === 'float32';
  if (isFloat) {
    const div = c.binary(node, a, b, 'Div');
    const q = { ...div, onnx: c.b.op('Floor', [div.onnx], {}, `${node.name}/floor`) };
    if (!mod) return [q];
    // a - floor(a/b)*b, with the same broadcasting as the Div above.
    const back = c.binary(node, q, b, 'Mul');
    return [c.binary(node, a, back, 'Sub')];
  }
  // Integer ONNX Mod (fmod=0) takes the divisor's sign: exactly TF FloorMod.
  const r = c.binary(node, a, b, 'Mod');
  if (mod) return [r];
  // floor(a/b) = (a - floormod(a,b)) / b, exact for any signs.
  const diff = c.b.op('Sub', [c.view(a, r.perm), r.onnx], {}, `${node.name}/diff`);
  const q = c.b.op('Div', [diff, c.view(b, b.kind === 'const' && rankOf(b) === 0 ? null : r.perm, `${node.name}/divisor`)], {}, node.name);
  return [{ ...r, onnx: q }];
};

const pack: Handler = (c, node, ins) => {
  const rank = rankOf(ins[0]!);
  let axis = node.attr.axis?.kind === 'i' ? node.attr.axis.value : 0;
  if (axis < 0) axis += rank + 1;
  const parts = ins.map((v, k) => c.b.op('Unsqueeze', [c.view(v, null, `${node.name}/in${k}`), c.b.int64(`${node.name}/axes${k}`, [axis])], {}, `${node.name}/u${k}`));
  const out = c.b.op('Concat', parts, { axis }, node.name);
  const d = ins.find((v): v is Dyn => v.kind === 'dyn');
  return [{ kind: 'dyn', onnx: out, perm: null, rank: rank + 1, dtype: d?.dtype ?? 'float32', batched: axis !== 0 && ins.every((v) => v.kind === 'dyn' && v.batched) }];
};

const unpack: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const rank = rankOf(x);
  let axis = node.attr.axis?.kind === 'i' ? node.attr.axis.value : 0;
  if (axis < 0) axis += rank;
  const n = node.attr.num?.kind === 'i' ? node.attr.num.value : 0;
  if (axis === 0) c.batchIssue(node, x, 'unpacks the batch axis');
  const parts = c.b.node('Split', [c.view(x, null)], n, { axis }, `${node.name}/split`);
  return parts.map((p, k) => dynLike(c.b.op('Squeeze', [p, c.b.int64(`${node.name}/axes${k}`, [axis])], {}, `${node.name}:${k}`), x, null, { rank: rank - 1 }));
};

const matmul: Handler = (c, node, ins) => {
  const ta = node.attr.transpose_a?.kind === 'b' && node.attr.transpose_a.value;
  const tb = node.attr.transpose_b?.kind === 'b' && node.attr.transpose_b.value;
  const [a, b] = [ins[0]!, ins[1]!];
  const side = (v: Value, t: boolean, tag: string) => {
    if (!t) return c.view(v, null, `${node.name}/${tag}`);
    if (v.kind === 'const' && v.t.shape.length === 2) {
      const tt = transposeConst(v.t, [1, 0]);
      return c.b.initializer(`${node.name}/${tag}T`, 'float32', tt.shape, tt.data as Float32Array);
    }
    const r = rankOf(v);
    const perm = identity(r);
    [perm[r - 1], perm[r - 2]] = [perm[r - 2]!, perm[r - 1]!];
    return c.b.op('Transpose', [c.view(v, null)], { perm }, `${node.name}/${tag}T`);
  };
  const out = c.b.op('MatMul', [side(a, ta, 'a'), side(b, tb, 'b')], {}, node.name);
  return [dynLike(out, a, null, { rank: Math.max(rankOf(a), rankOf(b)) })];
};

const identityH: Handler = (_c, _node, ins) => [ins[0]!];

const rsqrt: Handler = (c, node, ins) => {
  const s = c.unary(node, ins[0]!, 'Sqrt');
  return [{ ...s, onnx: c.b.op('Reciprocal', [s.onnx], {}, `${node.name}/recip`) }];
};

const square: Handler = (c, node, ins) => [c.binary(node, ins[0]!, ins[0]!, 'Mul')];

const squaredDiff: Handler = (c, node, ins) => {
  const d = c.binary(node, ins[0]!, ins[1]!, 'Sub');
  return [{ ...d, onnx: c.b.op('Mul', [d.onnx, d.onnx], {}, `${node.name}/sq`) }];
};

const softmax: Handler = (c, node, ins) => {
  const x = ins[0]!;
  const out = c.b.op('Softmax', [c.view(x, null)], { axis: -1 }, node.name);
  return [dynLike(out, x, null)];
};

const HANDLERS: Record<string, Handler> = {
  Identity: identityH,
  StopGradient: identityH,
  Snapshot: identityH,
  Conv2D: conv,
  _FusedConv2D: conv,
  DepthwiseConv2dNative: conv,
  FusedDepthwiseConv2dNative: conv,
  MaxPool: pool,
  AvgPool: pool,
  ResizeBilinear: resize,
  ResizeNearestNeighbor: resize,
  Mean: reduce('ReduceMean'),
  Max: reduce('ReduceMax'),
  Min: reduce('ReduceMin'),
  Sum: reduce('ReduceSum'),
  Prod: reduce('ReduceProd'),
  ConcatV2: concat,
  Reshape: reshape,
  Transpose: transpose,
  Pad: pad,
  PadV2: pad,
  MirrorPad: pad,
  Split: split,
  SplitV: split,
  StridedSlice: stridedSlice,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  TopKV2: topk,
  GatherV2: gather,
  _BatchGather: batchGather,
  Cast: cast,
  Pack: pack,
  Unpack: unpack,
  MatMul: matmul,
  BatchMatMulV2: matmul,
  Softmax: softmax,
  FloorDiv: floorDivMod(false),
  FloorMod: floorDivMod(true),
  Relu: unaryH('Relu'),
  Relu6: relu6,
  Sigmoid: unaryH('Sigmoid'),
  Tanh: unaryH('Tanh'),
  Exp: unaryH('Exp'),
  Log: unaryH('Log'),
  Sqrt: unaryH('Sqrt'),
  Rsqrt: rsqrt,
  Square: square,
  Neg: unaryH('Neg'),
  Abs: unaryH('Abs'),
  Floor: unaryH('Floor'),
  Ceil: unaryH('Ceil'),
  Reciprocal: unaryH('Reciprocal'),
  Elu: unaryH('Elu'),
  Softplus: unaryH('Softplus'),
  LeakyRelu: unaryH('LeakyRelu', (n) => ({ alpha: { float: n.attr.alpha?.kind === 'f' ? n.attr.alpha.value : 0.2 } })),
  Add: binaryH('Add'),
  AddV2: binaryH('Add'),
  BiasAdd: binaryH('Add'),
  Sub: binaryH('Sub'),
  Mul: binaryH('Mul'),
  RealDiv: binaryH('Div'),
  Div: binaryH('Div'),
  Maximum: binaryH('Max'),
  Minimum: binaryH('Min'),
  Pow: binaryH('Pow'),
  SquaredDifference: squaredDiff,
  Equal: binaryH('Equal', 'bool'),
  Greater: binaryH('Greater', 'bool'),
  GreaterEqual: binaryH('GreaterOrEqual', 'bool'),
  Less: binaryH('Less', 'bool'),
  LessEqual: binaryH('LessOrEqual', 'bool'),
  LogicalAnd: binaryH('And', 'bool'),
};

// ---- constant folding (small int/shape arithmetic only) --------------------

function foldConst(node: TfNode, ins: TfTensor[]): TfTensor | undefined {
  const [a, b] = [ins[0], ins[1]];
  switch (node.op) {
    case 'Identity':
      return a;
    case 'Add':
    case 'AddV2':
    case 'Sub':
    case 'Mul': {
      if (!a || !b) return undefined;
      const f = node.op === 'Sub' ? (x: number, y: number) => x - y : node.op === 'Mul' ? (x: number, y: number) => x * y : (x: number, y: number) => x + y;
      const n = Math.max(a.data.length, b.data.length);
      const sameShape = a.shape.join() === b.shape.join();
      if (!sameShape && a.data.length !== 1 && b.data.length !== 1) return undefined;
      const out = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f(Number(a.data[a.data.length === 1 ? 0 : i]), Number(b.data[b.data.length === 1 ? 0 : i]));
      return { dtype: a.dtype, shape: a.data.length >= b.data.length ? a.shape : b.shape, data: out };
    }
    case 'SparseToDense': {
      const [idx, shape, vals, def] = ins;
      if (!idx || !shape || !vals || !def) return undefined;
      const dims = Array.from(shape.data as Int32Array);
      const size = dims.reduce((x, y) => x * y, 1);
      const out = vals.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
      out.fill(Number(def.data[0]));
      const r = idx.shape.length === 2 ? (idx.shape[1] ?? 1) : 1;
      const count = idx.shape[0] ?? 0;
      for (let k = 0; k < count; k++) {
        let flat = 0;
        for (let j = 0; j < r; j++) flat = flat * (dims[j] ?? 1) + Number(idx.data[k * r + j]);
        out[flat] = Number(vals.data[vals.data.length === 1 ? 0 : k]);
      }
      return { dtype: vals.dtype, shape: dims, data: out };
    }
    case 'Cast': {
      if (!a) return undefined;
      const to = tfDType(attrStr(node, 'DstT') ?? 'DT_FLOAT');
      const data = to === 'float32' ? Float32Array.from(a.data as ArrayLike<number>) : to === 'int32' ? Int32Array.from(a.data as ArrayLike<number>, Math.trunc) : undefined;
      return data ? { dtype: to, shape: a.shape, data } : undefined;
    }
    default:
      return undefined;
  }
}

// ---- small utilities -------------------------------------------------------

function rankOf(v: Value): number {
  return v.kind === 'dyn' ? v.rank : v.t.shape.length;
}

function identity(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function isIdentity(p: number[]): boolean {
  return p.every((a, i) => a === i);
}

function permKey(p: Perm): string {
  return p && !isIdentity(p) ? p.join('') : 'tf';
}

function padRank(t: TfTensor, rank: number): TfTensor {
  if (t.shape.length >= rank) return t;
  return { ...t, shape: [...Array.from({ length: rank - t.shape.length }, () => 1), ...t.shape] };
}

/** out axis k = in axis perm[k] (numpy transpose). */
export function transposeConst(t: TfTensor, perm: number[]): TfTensor {
  const shape = t.shape;
  if (perm.length !== shape.length) throw new Error(`cannot transpose a rank-${shape.length} constant by [${perm}]`);
  const outShape = perm.map((a) => shape[a]!);
  const inStrides = stridesOf(shape);
  const n = t.data.length;
  const out = new (t.data.constructor as new (n: number) => Float32Array | Int32Array)(n);
  const idx = new Array<number>(perm.length).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += idx[k]! * inStrides[perm[k]!]!;
    out[o] = (t.data as Float32Array)[src]!;
    for (let k = perm.length - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return { dtype: t.dtype, shape: outShape, data: out };
}

function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

function attrStr(node: TfNode, key: string): string | undefined {
  const a: TfAttr | undefined = node.attr[key];
  return a && (a.kind === 's' || a.kind === 'type') ? a.value : undefined;
}

function attrInts(node: TfNode, key: string): number[] {
  const a = node.attr[key];
  return a && (a.kind === 'ints' || a.kind === 'shape') ? a.value : [];
}

function tfDType(t: string): DType {
  switch (t) {
    case 'DT_FLOAT':
      return 'float32';
    case 'DT_INT32':
      return 'int32';
    case 'DT_INT64':
      return 'int64';
    case 'DT_BOOL':
      return 'bool';
    default:
      throw new Error(`TF dtype ${t} is not supported`);
  }
}

function onnxDType(d: DType): OnnxDType {
  return d;
}

function onnxTypeNum(d: DType): number {
  return { float32: 1, int32: 6, int64: 7, bool: 9 }[d];
}
