// Static int8 quantization of a converted model, in ONNX's QDQ form: weights
// are stored as int8 per output channel, every float activation gets a
// QuantizeLinear → DequantizeLinear pair with a uint8 scale and zero point
// from a calibration table, and onnxruntime fuses DQ → Conv → Q into
// QLinearConv (int8 arithmetic, VNNI where the CPU has it) when it loads the
// model. On NanoDet that halves a detector run (docs/models.md).
//
// The calibration table (the range each activation takes on real frames) is
// committed next to the manifest, so setup is deterministic: quantizing from
// the table needs no onnxruntime run, and the same table gives the same bytes
// and sha256 on every machine. `calibrate()` makes a table from frames.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ONNX_TYPE } from './onnx-builder.js';

// The decoded protobuf objects, as far as this pass reads and writes them.
export interface TensorRecord {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}
export interface NodeRecord {
  op_type: string;
  input: string[];
  output: string[];
  name?: string;
  attribute?: Array<{ name: string; type?: number; i?: number; ints?: number[]; f?: number }>;
}
export interface GraphRecord {
  node: NodeRecord[];
  initializer: TensorRecord[];
  input: Array<{ name: string }>;
  output: Array<{ name: string; type?: unknown }>;
  [k: string]: unknown;
}
export interface ModelRecord {
  graph: GraphRecord;
  doc_string?: string;
  metadata_props?: Array<{ key: string; value: string }>;
  [k: string]: unknown;
}

/**
 * Activation ranges by tensor name: [min, max] seen on the calibration
 * frames; null for an unbounded end (the -inf padding TF puts before a
 * max-pool), which leaves that tensor float.
 */
export type Ranges = Record<string, [number | null, number | null]>;

export interface CalibrationTable {
  /** The float model the ranges were measured on. */
  model: string;
  /** What the frames were, for whoever re-calibrates. */
  frames: string;
  ranges: Ranges;
}

const INT8 = 3;
const INT32 = ONNX_TYPE.int32;
const FLOAT = ONNX_TYPE.float32;
const INT64 = ONNX_TYPE.int64;

let modelType: protobuf.Type | undefined;
function schema(): protobuf.Type {
  modelType ??= new protobuf.Root()
    .loadSync(fileURLToPath(new URL('./onnx-subset.proto', import.meta.url)), { keepCase: true })
    .lookupType('onnx.ModelProto');
  return modelType;
}

export function decodeModel(bytes: Uint8Array): ModelRecord {
  const t = schema();
  return t.toObject(t.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false }) as ModelRecord;
}

export function encodeModel(model: ModelRecord): Uint8Array {
  const t = schema();
  return t.encode(t.fromObject(model)).finish();
}

function floats(t: TensorRecord): Float32Array {
  if (t.data_type !== FLOAT) throw new Error(`initializer ${t.name}: expected float32, got data type ${t.data_type}`);
  return new Float32Array(new Uint8Array(t.raw_data).buffer); // a copy: protobufjs hands out views of the whole file
}

function int64s(t: TensorRecord): number[] {
  if (t.data_type !== INT64) throw new Error(`initializer ${t.name}: expected int64, got data type ${t.data_type}`);
  return Array.from(new BigInt64Array(new Uint8Array(t.raw_data).buffer), Number);
}

function consumersOf(g: GraphRecord): Map<string, NodeRecord[]> {
  const m = new Map<string, NodeRecord[]>();
  for (const n of g.node) for (const i of n.input) m.set(i, [...(m.get(i) ?? []), n]);
  return m;
}

function attr(n: NodeRecord, name: string) {
  return n.attribute?.find((a) => a.name === name);
}

/**
 * Folds what TF left around each convolution into the Conv itself: an
 * explicit zero Pad before it (into `pads`) and a per-channel bias Add after
 * it (into the bias input). onnxruntime does the same for a float model; for
 * the quantized one it must be done first, so the pattern DQ → Conv(bias) → Q
 * that becomes QLinearConv has no float op inside. Changes `g` in place.
 */
export function foldIntoConvolutions(g: GraphRecord): { pads: number; biases: number } {
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const producer = new Map<string, NodeRecord>();
  for (const n of g.node) for (const o of n.output) producer.set(o, n);
  const consumers = consumersOf(g);
  const dropped = new Set<NodeRecord>();
  let pads = 0;
  let biases = 0;
  for (const conv of g.node.filter((n) => n.op_type === 'Conv')) {
    const pad = producer.get(conv.input[0]!);
    const padAmounts = pad?.op_type === 'Pad' && pad.input.length === 2 ? inits.get(pad.input[1]!) : undefined;
    // Only a constant-zero Pad (no mode, no value) of height and width, used by this Conv alone.
    if (pad && padAmounts && !pad.attribute?.length && consumers.get(pad.output[0]!)?.length === 1) {
      const p = int64s(padAmounts); // [n, c, h, w begins, n, c, h, w ends]
      if (p.length === 8 && p[0] === 0 && p[1] === 0 && p[4] === 0 && p[5] === 0) {
        const own = attr(conv, 'pads')?.ints ?? [0, 0, 0, 0];
        const merged = [p[2]! + own[0]!, p[3]! + own[1]!, p[6]! + own[2]!, p[7]! + own[3]!];
        conv.attribute = [...(conv.attribute ?? []).filter((a) => a.name !== 'pads'), { name: 'pads', type: 7, ints: merged }];
        conv.input[0] = pad.input[0]!;
        dropped.add(pad);
        pads++;
      }
    }
    const next = consumers.get(conv.output[0]!) ?? [];
    const weights = inits.get(conv.input[1]!);
    if (next.length !== 1 || next[0]!.op_type !== 'Add' || conv.input.length !== 2 || !weights) continue;
    const add = next[0]!;
    const other = add.input.find((i) => i !== conv.output[0]);
    const bias = other === undefined ? undefined : inits.get(other);
    const channels = weights.dims[0]!;
    // A bias is one value per output channel; its shape may be [C] or [1, C, 1, 1].
    if (!bias || bias.data_type !== FLOAT || floats(bias).length !== channels || bias.dims.filter((d) => d !== 1).length > 1) continue;
    const name = `${other}/conv_bias`;
    g.initializer.push({ name, dims: [channels], data_type: FLOAT, raw_data: bias.raw_data });
    conv.input.push(name);
    conv.output[0] = add.output[0]!;
    dropped.add(add);
    biases++;
  }
  g.node = g.node.filter((n) => !dropped.has(n));
  dropUnusedInitializers(g);
  return { pads, biases };
}

/**
 * The float activations worth a Q/DQ pair: the graph input and every node
 * output that holds float data (not the int64 shape arithmetic of a
 * spatially dynamic graph), except the graph outputs, which stay float.
 */
export function activationTensors(g: GraphRecord): string[] {
  const nonFloat = new Set(g.initializer.filter((t) => t.data_type !== FLOAT).map((t) => t.name));
  const out: string[] = g.input.map((i) => i.name);
  const outputs = new Set(g.output.map((o) => o.name));
  for (const n of g.node) {
    // Shape makes int64; what is computed from int64 data (sliced, joined, gathered) stays int64.
    const isInt = n.op_type === 'Shape' || (n.input.length > 0 && nonFloat.has(n.input[0]!));
    for (const o of n.output) {
      if (isInt) nonFloat.add(o);
      else if (!outputs.has(o)) out.push(o);
    }
  }
  return out;
}

/** The model with `tensors` added as graph outputs, for calibration. */
export function withOutputs(model: ModelRecord, tensors: string[]): ModelRecord {
  const copy = decodeModel(encodeModel(model));
  const have = new Set(copy.graph.output.map((o) => o.name));
  for (const t of tensors) if (!have.has(t)) copy.graph.output.push({ name: t, type: { tensor_type: { elem_type: FLOAT } } });
  return copy;
}

/**
 * Measures each activation's range on real inputs (min and max, the range
 * always including 0 so that zero pads stay exact). The float model runs
 * unoptimised so every tensor named in the graph exists.
 */
export async function calibrate(model: ModelRecord, inputs: Array<{ data: Float32Array; dims: number[] }>): Promise<Ranges> {
  const ort = await import('onnxruntime-node');
  const g = model.graph;
  const tensors = activationTensors(g);
  const session = await ort.InferenceSession.create(encodeModel(withOutputs(model, tensors)), { graphOptimizationLevel: 'disabled' });
  const ranges = new Map<string, [number, number]>();
  const see = (name: string, data: Float32Array) => {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
    }
    const was = ranges.get(name);
    ranges.set(name, was ? [Math.min(was[0], lo), Math.max(was[1], hi)] : [lo, hi]);
  };
  const inputName = g.input[0]!.name;
  try {
    for (const x of inputs) {
      const result = await session.run({ [inputName]: new ort.Tensor('float32', x.data, x.dims) });
      see(inputName, x.data);
      for (const t of tensors) {
        const v = result[t];
        if (v && v.type === 'float32') see(t, v.data as Float32Array);
      }
    }
  } finally {
    await session.release();
  }
  // Six significant digits: the committed table reads well and diffs little.
  const round = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : null);
  return Object.fromEntries([...ranges].map(([k, [lo, hi]]) => [k, [round(lo), round(hi)]]));
}

export interface QuantizeCounts {
  /** Activations given a Q/DQ pair. */
  activations: number;
  /** Activations left float: not in the table, or an unbounded range (the -inf padding before a max-pool). */
  skipped: string[];
  convolutions: number;
}

/**
 * Rewrites `model` (folded: see foldIntoConvolutions) into QDQ form with the
 * table's ranges: uint8 asymmetric activations, int8 symmetric per-channel
 * weights, int32 biases at scale = input scale × weight scale (what
 * QLinearConv expects). Every reader of a quantized tensor reads its DQ,
 * Shape included: onnxruntime fuses a Conv into QLinearConv only when its
 * output's one reader is the Q. Changes `model` in place.
 */
export function quantizeQdq(model: ModelRecord, ranges: Ranges): QuantizeCounts {
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const addInit = (name: string, dims: number[], data_type: number, data: ArrayBufferView) => {
    g.initializer.push({ name, dims, data_type, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  };
  const outputs = new Set(g.output.map((o) => o.name));
  const scales = new Map<string, number>();
  const after = new Map<string, NodeRecord[]>(); // tensor → its Q and DQ nodes, placed right after its producer
  const renamed = new Map<string, string>();
  const skipped: string[] = [];
  for (const t of activationTensors(g)) {
    const r = ranges[t];
    if (!r || r[0] === null || r[1] === null || !Number.isFinite(r[0]) || !Number.isFinite(r[1]) || outputs.has(t)) {
      skipped.push(t);
      continue;
    }
    const lo = Math.min(0, r[0]);
    const hi = Math.max(0, r[1]);
    const scale = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
    const zero = Math.max(0, Math.min(255, Math.round(-lo / scale)));
    scales.set(t, scale);
    const s = addInit(`${t}/q_scale`, [], FLOAT, new Float32Array([scale]));
    const z = addInit(`${t}/q_zero`, [], ONNX_TYPE.uint8, new Uint8Array([zero]));
    after.set(t, [
      { op_type: 'QuantizeLinear', input: [t, s, z], output: [`${t}/q`], name: `${t}/Q` },
      { op_type: 'DequantizeLinear', input: [`${t}/q`, s, z], output: [`${t}/dq`], name: `${t}/DQ` },
    ]);
    renamed.set(t, `${t}/dq`);
  }
  const weightNodes: NodeRecord[] = [];
  let convolutions = 0;
  for (const n of g.node) {
    const x = n.input[0];
    n.input = n.input.map((i) => renamed.get(i) ?? i);
    const w = n.op_type === 'Conv' ? inits.get(n.input[1]!) : undefined;
    if (!w || x === undefined) continue;
    const wf = floats(w);
    const channels = w.dims[0]!;
    const per = wf.length / channels;
    const wq = new Int8Array(wf.length);
    const ws = new Float32Array(channels);
    for (let o = 0; o < channels; o++) {
      let max = 0;
      for (let i = 0; i < per; i++) max = Math.max(max, Math.abs(wf[o * per + i]!));
      ws[o] = max > 0 ? max / 127 : 1;
      for (let i = 0; i < per; i++) wq[o * per + i] = Math.round(wf[o * per + i]! / ws[o]!);
    }
    const wn = w.name;
    addInit(`${wn}/q`, w.dims, INT8, wq);
    addInit(`${wn}/q_scale`, [channels], FLOAT, ws);
    addInit(`${wn}/q_zero`, [channels], INT8, new Int8Array(channels));
    weightNodes.push({ op_type: 'DequantizeLinear', input: [`${wn}/q`, `${wn}/q_scale`, `${wn}/q_zero`], output: [`${wn}/dq`], name: `${wn}/DQ`, attribute: [{ name: 'axis', type: 2, i: 0 }] });
    n.input[1] = `${wn}/dq`;
    const xs = scales.get(x);
    const b = n.input[2] ? inits.get(n.input[2]) : undefined;
    if (b && xs !== undefined) {
      const bf = floats(b);
      const bq = new Int32Array(channels);
      const bs = new Float32Array(channels);
      for (let o = 0; o < channels; o++) {
        bs[o] = xs * ws[o]!;
        bq[o] = Math.round(bf[o]! / bs[o]!);
      }
      addInit(`${b.name}/q`, [channels], INT32, bq);
      addInit(`${b.name}/q_scale`, [channels], FLOAT, bs);
      addInit(`${b.name}/q_zero`, [channels], INT32, new Int32Array(channels));
      weightNodes.push({ op_type: 'DequantizeLinear', input: [`${b.name}/q`, `${b.name}/q_scale`, `${b.name}/q_zero`], output: [`${b.name}/dq`], name: `${b.name}/DQ`, attribute: [{ name: 'axis', type: 2, i: 0 }] });
      n.input[2] = `${b.name}/dq`;
    }
    convolutions++;
  }
  // Nodes stay in topological order: weights first, each Q/DQ pair right after what it reads.
  const ordered: NodeRecord[] = [...weightNodes];
  for (const i of g.input) ordered.push(...(after.get(i.name) ?? []));
  for (const n of g.node) {
    ordered.push(n);
    for (const o of n.output) ordered.push(...(after.get(o) ?? []));
  }
  g.node = ordered;
  dropUnusedInitializers(g);
  return { activations: after.size, skipped, convolutions };
}

function dropUnusedInitializers(g: GraphRecord): void {
  const used = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name));
}

/** Folds and quantizes float model bytes with a calibration table; returns the int8 model's bytes. */
export function quantizeModel(fp32: Uint8Array, table: CalibrationTable, doc: string): { bytes: Uint8Array; counts: QuantizeCounts & { pads: number; biases: number } } {
  const model = decodeModel(fp32);
  const folded = foldIntoConvolutions(model.graph);
  const counts = quantizeQdq(model, table.ranges);
  model.doc_string = doc;
  return { bytes: encodeModel(model), counts: { ...counts, ...folded } };
}
