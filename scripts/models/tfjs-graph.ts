// Reads a TF.js graph model (model.json + weight shards) from disk into plain
// data: nodes with decoded attributes and constant tensors as typed arrays.
// No TF.js code runs here, so conversion does not depend on a dev dependency.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type DType = 'float32' | 'int32' | 'int64' | 'bool';

export interface TfTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

/** One attribute value, decoded from the TF.js JSON form of AttrValue. */
export type TfAttr =
  | { kind: 'i'; value: number }
  | { kind: 'f'; value: number }
  | { kind: 'b'; value: boolean }
  | { kind: 's'; value: string }
  | { kind: 'type'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'shape'; value: number[] }
  | { kind: 'other'; value: unknown };

export interface TfNode {
  name: string;
  op: string;
  /** Data inputs as tensor names `node:index` (control inputs `^x` dropped). */
  inputs: string[];
  attr: Record<string, TfAttr>;
}

export interface TfGraph {
  /** Path of model.json, for error messages. */
  path: string;
  nodes: Map<string, TfNode>;
  /** Constant tensors by tensor name (`node:0`). */
  consts: Map<string, TfTensor>;
  /** Signature inputs/outputs: tensor name → shape (from model.json). */
  inputs: Array<{ name: string; shape: number[] }>;
  outputs: Array<{ name: string; shape: number[] }>;
  /** Raw model.json metadata useful for manifests. */
  meta: { format?: string; generatedBy?: string; convertedBy?: string };
}

interface JsonWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

interface JsonNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, Record<string, unknown>>;
}

interface JsonModel {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: {
    inputs?: Record<string, JsonTensorInfo>;
    outputs?: Record<string, JsonTensorInfo>;
  };
  modelTopology: { node: JsonNode[]; library?: { function?: unknown[] } };
  weightsManifest: Array<{ paths: string[]; weights: JsonWeight[] }>;
}

interface JsonTensorInfo {
  name: string;
  tensorShape?: { dim?: Array<{ size?: string }> };
}

/** Normalises `x`, `x:0` and `x:1` to `x:0` / `x:1` form. */
export function tensorName(ref: string): string {
  return /:\d+$/.test(ref) ? ref : `${ref}:0`;
}

export function nodeOf(tensor: string): string {
  return tensor.replace(/:\d+$/, '');
}

export function outputIndex(tensor: string): number {
  const m = /:(\d+)$/.exec(tensor);
  return m ? Number(m[1]) : 0;
}

export function loadTfjsGraph(modelJsonPath: string): TfGraph {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as JsonModel;
  if (json.format !== 'graph-model') {
    throw new Error(`${modelJsonPath}: format is "${json.format}", expected "graph-model" (layers models are not supported)`);
  }
  if (json.modelTopology.library?.function?.length) {
    throw new Error(`${modelJsonPath}: graph uses control-flow functions; the converter handles flat graphs only`);
  }
  const consts = readWeights(modelJsonPath, json);
  const nodes = new Map<string, TfNode>();
  for (const n of json.modelTopology.node) {
    nodes.set(n.name, {
      name: n.name,
      op: n.op,
      inputs: (n.input ?? []).filter((i) => !i.startsWith('^')).map(tensorName),
      attr: decodeAttrs(n.attr ?? {}),
    });
  }
  for (const [name] of consts) {
    const node = nodes.get(nodeOf(name));
    if (!node || node.op !== 'Const') {
      throw new Error(`${modelJsonPath}: weight "${name}" has no Const node in the graph`);
    }
  }
  const sig = (rec: Record<string, JsonTensorInfo> | undefined) =>
    Object.values(rec ?? {}).map((t) => ({
      name: tensorName(t.name),
      shape: (t.tensorShape?.dim ?? []).map((d) => Number(d.size ?? -1)),
    }));
  return {
    path: modelJsonPath,
    nodes,
    consts,
    inputs: sig(json.signature?.inputs),
    outputs: sig(json.signature?.outputs),
    meta: { format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy },
  };
}

function readWeights(modelJsonPath: string, json: JsonModel): Map<string, TfTensor> {
  const out = new Map<string, TfTensor>();
  const dir = dirname(modelJsonPath);
  for (const group of json.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
    let off = 0;
    for (const w of group.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      let data: TfTensor['data'];
      let bytes: number;
      if (q) {
        const width = q.dtype === 'float16' || q.dtype === 'uint16' ? 2 : q.dtype === 'uint8' ? 1 : 0;
        if (!width) throw new Error(`${modelJsonPath}: weight "${w.name}" uses quantization dtype "${q.dtype}", which is not supported`);
        bytes = size * width;
        if (off + bytes > buf.length) {
          throw new Error(`${modelJsonPath}: weight shards end before weight "${w.name}" (need ${off + bytes} bytes, have ${buf.length}); reinstall the model package`);
        }
        const raw = new Uint8Array(buf.subarray(off, off + bytes));
        // TF.js shards and ONNX raw_data are little-endian, as are the hosts we run on.
        const codes = width === 2 ? new Uint16Array(raw.buffer) : raw;
        const f = new Float32Array(size);
        if (q.dtype === 'float16') {
          const lut = halfTable();
          for (let i = 0; i < size; i++) f[i] = lut[codes[i]!]!;
        } else {
          for (let i = 0; i < size; i++) f[i] = codes[i]! * (q.scale ?? 1) + (q.min ?? 0);
        }
        if (w.dtype === 'int32') {
          data = Int32Array.from(f, Math.round);
        } else {
          data = f;
        }
      } else {
        const width = w.dtype === 'bool' ? 1 : 4;
        bytes = size * width;
        const copy = new Uint8Array(buf.subarray(off, off + bytes)).buffer;
        if (w.dtype === 'float32') data = new Float32Array(copy);
        else if (w.dtype === 'int32') data = new Int32Array(copy);
        else if (w.dtype === 'bool') data = new Uint8Array(copy);
        else throw new Error(`${modelJsonPath}: weight "${w.name}" has dtype "${w.dtype}", which is not supported`);
      }
      if (off + bytes > buf.length) {
        throw new Error(`${modelJsonPath}: weight shards end before weight "${w.name}" (need ${off + bytes} bytes, have ${buf.length}); reinstall the model package`);
      }
      off += bytes;
      const dtype: DType = w.dtype === 'int32' ? 'int32' : w.dtype === 'bool' ? 'bool' : 'float32';
      out.set(tensorName(w.name), { dtype, shape: w.shape, data });
    }
    if (off !== buf.length) {
      throw new Error(`${modelJsonPath}: weight shards hold ${buf.length} bytes but the manifest describes ${off}; reinstall the model package`);
    }
  }
  return out;
}

let halfLut: Float32Array | undefined;
/** All 65536 half values as float32, so decoding millions of weights is one lookup each. */
function halfTable(): Float32Array {
  if (!halfLut) {
    halfLut = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfLut[h] = halfToFloat(h);
  }
  return halfLut;
}

/** IEEE 754 half → float, exact (the same values TF.js dequantises to). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function decodeAttrs(attr: Record<string, Record<string, unknown>>): Record<string, TfAttr> {
  const out: Record<string, TfAttr> = {};
  for (const [key, v] of Object.entries(attr)) {
    if ('i' in v) out[key] = { kind: 'i', value: Number(v.i) };
    else if ('f' in v) out[key] = { kind: 'f', value: Number(v.f) };
    else if ('b' in v) out[key] = { kind: 'b', value: Boolean(v.b) };
    else if ('s' in v) out[key] = { kind: 's', value: Buffer.from(String(v.s), 'base64').toString('utf8') };
    else if ('type' in v) out[key] = { kind: 'type', value: String(v.type) };
    else if ('shape' in v) {
      const dims = (v.shape as { dim?: Array<{ size?: string }> }).dim ?? [];
      out[key] = { kind: 'shape', value: dims.map((d) => Number(d.size ?? -1)) };
    } else if ('list' in v) {
      const l = v.list as { i?: string[]; f?: number[]; s?: string[] };
      if (l.s) out[key] = { kind: 'strings', value: l.s.map((s) => Buffer.from(s, 'base64').toString('utf8')) };
      else if (l.f) out[key] = { kind: 'floats', value: l.f.map(Number) };
      else out[key] = { kind: 'ints', value: (l.i ?? []).map(Number) };
    } else out[key] = { kind: 'other', value: v };
  }
  return out;
}
