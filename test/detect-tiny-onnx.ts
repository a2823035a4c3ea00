/**
 * Writes tiny ONNX models for the detector tests, with a hand-rolled
 * protobuf encoder (the ONNX fields used here have been stable since IR 3).
 * The model: out = ReduceMean(image) * weight + bias, so every batch item's
 * output is a known function of its own mean brightness. That lets a test
 * check, through a real onnxruntime session, that batching keeps items
 * apart and that decoding plus letterbox un-mapping land where arithmetic
 * done by hand says they should.
 */

function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

type Field = number[];
const key = (field: number, wire: number) => varint((field << 3) | wire);
const vint = (field: number, value: number | bigint): Field => [...key(field, 0), ...varint(value)];
const bytes = (field: number, data: ArrayLike<number>): Field => [...key(field, 2), ...varint(data.length), ...Array.from(data)];
const str = (field: number, s: string): Field => bytes(field, new TextEncoder().encode(s));
const msg = (field: number, ...parts: Field[]): Field => bytes(field, parts.flat());

function tensor(name: string, dims: number[], values: Float32Array | BigInt64Array): Field {
  const type = values instanceof Float32Array ? 1 : 7;
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return [...dims.map((d) => vint(1, d)).flat(), ...vint(2, type), ...str(8, name), ...bytes(9, raw)];
}

function valueInfo(name: string, dims: (number | string)[], elemType = 1): Field {
  const shape = dims.map((d) => msg(1, typeof d === 'number' ? vint(1, d) : str(2, d)));
  return [...str(1, name), ...msg(2, msg(1, vint(1, elemType), msg(2, ...shape)))];
}

function node(op: string, inputs: string[], outputs: string[], attrs: Field[] = []): Field {
  return [...inputs.map((i) => str(1, i)).flat(), ...outputs.map((o) => str(2, o)).flat(), ...str(3, `${op}_${outputs[0]}`), ...str(4, op), ...attrs.flat()];
}

export interface TinyModelSpec {
  inputName: string;
  /** [batch, 3, H, W]; batch -1 makes it dynamic ("batch"). */
  inputShape: [number, number, number, number];
  outputName: string;
  /** Output dims without batch, e.g. [4 + C, boxes]. */
  outputDims: number[];
  weight: Float32Array;
  bias: Float32Array;
  /** Reshape to batch 1 inside the graph while declaring a dynamic batch, as some converted graphs do. */
  reshapeToOne?: boolean;
  /** Input element type; uint8 adds a Cast to float before the mean. */
  inputType?: 'float32' | 'uint8';
}

/** out[n] = mean(input[n]) * weight + bias, shaped [N, ...outputDims]. */
export function tinyModel(spec: TinyModelSpec): Uint8Array {
  const [batch, ...rest] = spec.inputShape;
  const inDims: (number | string)[] = [batch === -1 ? 'batch' : batch, ...rest];
  const outDims: (number | string)[] = [batch === -1 ? 'batch' : batch, ...spec.outputDims];
  const reshapeTo = new BigInt64Array([spec.reshapeToOne ? 1n : -1n, ...spec.outputDims.map(() => 1n)]);
  const uint8 = spec.inputType === 'uint8';
  const graph: Field[] = [
    ...(uint8 ? [msg(1, node('Cast', [spec.inputName], ['as_float'], [msg(5, str(1, 'to'), vint(3, 1), vint(20, 2))]))] : []),
    msg(1, node('ReduceMean', [uint8 ? 'as_float' : spec.inputName], ['mean'], [msg(5, str(1, 'axes'), ...[1, 2, 3].map((a) => vint(8, a)), vint(20, 7)), msg(5, str(1, 'keepdims'), vint(3, 1), vint(20, 2))])),
    msg(1, node('Reshape', ['mean', 'reshape_to'], ['mean_r'])),
    msg(1, node('Mul', ['mean_r', 'weight'], ['scaled'])),
    msg(1, node('Add', ['scaled', 'bias'], [spec.outputName])),
    str(2, 'tiny'),
    msg(5, tensor('reshape_to', [reshapeTo.length], reshapeTo)),
    msg(5, tensor('weight', [1, ...spec.outputDims], spec.weight)),
    msg(5, tensor('bias', [1, ...spec.outputDims], spec.bias)),
    msg(11, valueInfo(spec.inputName, inDims, uint8 ? 2 : 1)),
    msg(12, valueInfo(spec.outputName, outDims)),
  ];
  const model: Field[] = [vint(1, 7), str(2, 'portwatch-test'), msg(7, ...graph), msg(8, str(1, ''), vint(2, 13))];
  return new Uint8Array(model.flat());
}
