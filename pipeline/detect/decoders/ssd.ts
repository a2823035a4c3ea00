import type { RawDetection } from '../nms.js';
import { type BoxFormat, DecodeError, type DecodeContext, type Decoder, type OutputTensors, floats, numberAt, output, toXyxy, validBox } from './common.js';

export interface SsdOptions {
  /** boxes, scores, classes[, num_detections] */
  names: readonly string[];
  boxFormat: BoxFormat;
  normalized: boolean;
  classIndexBase: 0 | 1;
}

/**
 * SSD-style post-processed outputs (TensorFlow Object Detection API, many
 * ONNX exports with NMS inside): boxes [N, K, 4], scores [N, K],
 * classes [N, K] and optionally num_detections [N] limiting the valid rows.
 */
export function ssdDecoder(opts: SsdOptions): Decoder {
  const [boxesName = '', scoresName = '', classesName = '', numName] = opts.names;
  return (outputs: OutputTensors, ctx: DecodeContext): RawDetection[] => {
    const boxesT = output(outputs, boxesName, 'ssd');
    const scoresT = output(outputs, scoresName, 'ssd');
    const classesT = output(outputs, classesName, 'ssd');
    const k = boxesT.dims[1] ?? 0;
    if (boxesT.dims.length !== 3 || boxesT.dims[2] !== 4) {
      throw new DecodeError(`ssd decoder: boxes output "${boxesName}" has shape [${boxesT.dims.join(',')}], expected [N, K, 4]`);
    }
    for (const [name, t] of [[scoresName, scoresT], [classesName, classesT]] as const) {
      if (t.dims.length !== 2 || t.dims[1] !== k) {
        throw new DecodeError(`ssd decoder: output "${name}" has shape [${t.dims.join(',')}], expected [N, ${k}] to match the boxes`);
      }
    }
    let count = k;
    if (numName !== undefined) {
      const numT = output(outputs, numName, 'ssd');
      count = Math.min(k, Math.max(0, Math.round(numberAt(numT.data, ctx.item))));
    }
    const boxes = floats(boxesT);
    const scores = floats(scoresT);
    const sx = opts.normalized ? ctx.inputWidth : 1;
    const sy = opts.normalized ? ctx.inputHeight : 1;
    const found: RawDetection[] = [];
    for (let i = 0; i < count; i++) {
      const row = ctx.item * k + i;
      const score = scores[row]!;
      if (!(score >= ctx.threshold)) continue;
      const classIndex = Math.round(numberAt(classesT.data, row)) - opts.classIndexBase;
      if (classIndex < 0 || classIndex >= ctx.numClasses) continue;
      const o = row * 4;
      const box = toXyxy(boxes[o]!, boxes[o + 1]!, boxes[o + 2]!, boxes[o + 3]!, opts.boxFormat, sx, sy);
      if (validBox(box)) found.push({ classIndex, score, box });
    }
    return found;
  };
}
