import type { Box } from '../../events/types.js';
import type { RawDetection } from '../nms.js';

/** The part of an onnxruntime Tensor a decoder reads; plain objects work too (tests). */
export interface OutputTensor {
  readonly dims: readonly number[];
  readonly data: ArrayLike<number> | ArrayLike<bigint>;
}

export type OutputTensors = Readonly<Record<string, OutputTensor>>;

export interface DecodeContext {
  /** Batch slot to read from every output. */
  item: number;
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** Candidates scoring below this are dropped before NMS. */
  threshold: number;
}

export type Decoder = (outputs: OutputTensors, ctx: DecodeContext) => RawDetection[];

export type BoxFormat = 'xyxy' | 'yxyx' | 'cxcywh' | 'xywh';

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Reads element i of a tensor as a number, whatever its element type (int64 comes as bigint). */
export function numberAt(data: OutputTensor['data'], i: number): number {
  const v = data[i];
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** Reads element i of a float tensor; the fast path when the data is known to be numbers. */
export function floats(t: OutputTensor): ArrayLike<number> {
  const d = t.data;
  if (d.length > 0 && typeof d[0] === 'bigint') return Array.from(d as ArrayLike<bigint>, Number);
  return d as ArrayLike<number>;
}

export function output(outputs: OutputTensors, name: string, decoder: string): OutputTensor {
  const t = outputs[name];
  if (!t) {
    throw new DecodeError(`${decoder} decoder: model has no output "${name}" (it has: ${Object.keys(outputs).join(', ')}); fix output.names in the manifest`);
  }
  return t;
}

export function expectRank(t: OutputTensor, rank: number, name: string, decoder: string, what: string): void {
  if (t.dims.length !== rank) {
    throw new DecodeError(`${decoder} decoder: output "${name}" has shape [${t.dims.join(',')}], expected ${what}`);
  }
}

/** Converts four numbers in `format` to [x1, y1, x2, y2], scaled by sx/sy (1 unless the boxes are normalised). */
export function toXyxy(a: number, b: number, c: number, d: number, format: BoxFormat, sx: number, sy: number): Box {
  switch (format) {
    case 'xyxy':
      return [a * sx, b * sy, c * sx, d * sy];
    case 'yxyx':
      return [b * sx, a * sy, d * sx, c * sy];
    case 'cxcywh':
      return [(a - c / 2) * sx, (b - d / 2) * sy, (a + c / 2) * sx, (b + d / 2) * sy];
    case 'xywh':
      return [a * sx, b * sy, (a + c) * sx, (b + d) * sy];
  }
}

/** Drops degenerate boxes (zero or negative width/height) a decoder may produce from noise. */
export function validBox(box: Box): boolean {
  return box[2] > box[0] && box[3] > box[1] && box.every(Number.isFinite);
}
