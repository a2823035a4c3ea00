// Collects ONNX nodes and initializers and encodes an onnx.ModelProto with
// protobufjs and the schema subset in onnx-subset.proto. Output bytes depend
// only on the calls made, so a conversion is reproducible (stable sha256).
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { type FusionCounts, fuseHardActivations } from './fuse-activations.js';
import { makeSpatiallyDynamic } from './dynamic-size.js';

/** Opset 14 for HardSwish (see fuse-activations.ts). */
export const OPSET = 14;
/** IR version 7 is what opsets 13 and 14 shipped with (ONNX 1.8, 1.9). */
const IR_VERSION = 7;

export const ONNX_TYPE = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9 } as const;
export type OnnxDType = keyof typeof ONNX_TYPE;

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

/** One ONNX node as the builder and its graph passes (fuse-activations, dynamic-size) hold it. */
export interface GraphNode {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute: Array<Record<string, unknown>>;
}

interface InitRec {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

export interface ValueInfo {
  name: string;
  dtype: OnnxDType;
  /** Numbers are fixed sizes, strings are symbolic (e.g. "N"). */
  shape: Array<number | string>;
}

let rootPromise: protobuf.Root | undefined;
function schema(): protobuf.Root {
  // keepCase: the schema's snake_case field names are used as-is below.
  rootPromise ??= new protobuf.Root().loadSync(fileURLToPath(new URL('./onnx-subset.proto', import.meta.url)), { keepCase: true });
  return rootPromise;
}

export class OnnxBuilder {
  private nodes: GraphNode[] = [];
  private inits: InitRec[] = [];
  private names = new Set<string>();
  private counter = 0;

  /** A fresh tensor name derived from `base`, never reused. */
  unique(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}__${++this.counter}`;
    this.names.add(name);
    return name;
  }

  reserve(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX tensor name "${name}" used twice`);
    this.names.add(name);
  }

  node(op: string, inputs: string[], outputs: string[] | number, attrs: Record<string, AttrValue> = {}, base?: string): string[] {
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) => this.unique(`${base ?? op}${outputs > 1 ? `:${i}` : ''}`))
        : outputs;
    this.nodes.push({
      op_type: op,
      input: inputs,
      output: outs,
      name: outs[0] ?? op,
      attribute: Object.entries(attrs).map(([name, v]) => encodeAttr(name, v)),
    });
    return outs;
  }

  /** Shorthand for one-output nodes. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, base?: string): string {
    return this.node(op, inputs, 1, attrs, base)[0]!;
  }

  initializer(base: string, dtype: OnnxDType, dims: number[], data: ArrayLike<number> | ArrayLike<bigint>): string {
    const name = this.unique(base);
    let raw: Uint8Array;
    if (dtype === 'float32') raw = new Uint8Array(Float32Array.from(data as ArrayLike<number>).buffer);
    else if (dtype === 'int32') raw = new Uint8Array(Int32Array.from(data as ArrayLike<number>).buffer);
    else if (dtype === 'int64') {
      const src = data as ArrayLike<number | bigint>;
      const big = new BigInt64Array(src.length);
      for (let i = 0; i < src.length; i++) big[i] = BigInt(src[i]!);
      raw = new Uint8Array(big.buffer);
    } else raw = Uint8Array.from(data as ArrayLike<number>);
    const count = dims.reduce((a, b) => a * b, 1);
    if (raw.length !== count * (dtype === 'int64' ? 8 : dtype === 'bool' || dtype === 'uint8' ? 1 : 4)) {
      throw new Error(`initializer ${name}: ${raw.length} bytes do not fit dims [${dims}]`);
    }
    this.inits.push({ name, dims, data_type: ONNX_TYPE[dtype], raw_data: raw });
    return name;
  }

  int64(base: string, values: number[], scalar = false): string {
    return this.initializer(base, 'int64', scalar ? [] : [values.length], values);
  }

  float(base: string, values: number[], scalar = false): string {
    return this.initializer(base, 'float32', scalar ? [] : [values.length], values);
  }

  encode(opts: { graphName: string; inputs: ValueInfo[]; outputs: ValueInfo[]; doc: string; metadata: Record<string, string> }): Uint8Array {
    const root = schema();
    const Model = root.lookupType('onnx.ModelProto');
    const vi = (v: ValueInfo) => ({
      name: v.name,
      type: {
        tensor_type: {
          elem_type: ONNX_TYPE[v.dtype],
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
        },
      },
    });
    const msg = Model.fromObject({
      ir_version: IR_VERSION,
      opset_import: [{ domain: '', version: OPSET }],
      producer_name: 'portwatch-tfjs2onnx',
      producer_version: '1',
      doc_string: opts.doc,
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.inits,
        input: opts.inputs.map(vi),
        output: opts.outputs.map(vi),
      },
      metadata_props: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })),
    });
    return Model.encode(msg).finish();
  }

  /** Folds hard-swish / hard-sigmoid chains into single nodes; call once the graph is complete. */
  fuseActivations(graphOutputs: string[]): FusionCounts {
    const { nodes, counts } = fuseHardActivations(this.nodes, (name) => this.scalarFloat(name), new Set(graphOutputs));
    this.nodes = nodes;
    this.pruneInitializers(graphOutputs);
    return counts;
  }

  /** Lets the input take any height and width (see dynamic-size.ts). */
  makeSpatiallyDynamic(): { resizes: number } {
    const host = {
      nodes: this.nodes,
      int64Values: (name: string) => {
        const init = this.inits.find((i) => i.name === name);
        if (!init || init.data_type !== ONNX_TYPE.int64) return undefined;
        const v = new DataView(init.raw_data.buffer, init.raw_data.byteOffset, init.raw_data.length);
        return Array.from({ length: init.raw_data.length / 8 }, (_, k) => Number(v.getBigInt64(k * 8, true)));
      },
      int64: (base: string, values: number[]) => this.int64(base, values),
      unique: (base: string) => this.unique(base),
    };
    const result = makeSpatiallyDynamic(host);
    this.nodes = host.nodes;
    this.pruneInitializers([]);
    return result;
  }

  /** Drops constants no node reads any more (onnxruntime warns about each one at every load). */
  private pruneInitializers(graphOutputs: string[]): void {
    const used = new Set(this.nodes.flatMap((n) => n.input));
    this.inits = this.inits.filter((i) => used.has(i.name) || graphOutputs.includes(i.name));
  }

  private scalarFloat(name: string): number | undefined {
    const init = this.inits.find((i) => i.name === name);
    if (!init || init.data_type !== ONNX_TYPE.float32 || init.raw_data.length !== 4) return undefined;
    return new DataView(init.raw_data.buffer, init.raw_data.byteOffset, 4).getFloat32(0, true);
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  get initializerCount(): number {
    return this.inits.length;
  }

  opCounts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const n of this.nodes) c[n.op_type] = (c[n.op_type] ?? 0) + 1;
    return c;
  }
}

function encodeAttr(name: string, v: AttrValue): Record<string, unknown> {
  // AttributeType numbers from onnx.proto: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7.
  if (typeof v === 'number') return { name, type: 2, i: v };
  if (typeof v === 'string') return { name, type: 3, s: Buffer.from(v, 'utf8') };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('float' in v) return { name, type: 1, f: v.float };
  return { name, type: 6, floats: v.floats };
}
