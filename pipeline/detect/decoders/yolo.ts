import type { RawDetection } from '../nms.js';
import { type BoxFormat, DecodeError, type DecodeContext, type Decoder, type OutputTensors, expectRank, floats, output, toXyxy, validBox } from './common.js';

export interface YoloOptions {
  name: string;
  /** v5: rows of [box(4), objectness, C class scores]; v8/v11: rows of [box(4), C class scores], no objectness. */
  version: 'yolov5' | 'yolov8';
  boxFormat: BoxFormat;
  normalized: boolean;
}

/**
 * Ultralytics YOLO exports. v5 writes [N, boxes, 5 + C]; v8/v11 write
 * [N, 4 + C, boxes] (attributes first). Either orientation is accepted for
 * both, recognised by which dimension equals the attribute count, because
 * re-exported models are often transposed. Score = objectness × best class
 * score (v5) or best class score (v8): one class per box, as Ultralytics'
 * own predict does by default.
 */
export function yoloDecoder(opts: YoloOptions): Decoder {
  const extra = opts.version === 'yolov5' ? 5 : 4;
  return (outputs: OutputTensors, ctx: DecodeContext): RawDetection[] => {
    const t = output(outputs, opts.name, opts.version);
    const attrs = extra + ctx.numClasses;
    expectRank(t, 3, opts.name, opts.version, `[N, boxes, ${attrs}] or [N, ${attrs}, boxes]`);
    const [, d1 = 0, d2 = 0] = t.dims;
    let attrsFirst: boolean;
    if (d2 === attrs) attrsFirst = false;
    else if (d1 === attrs) attrsFirst = true;
    else {
      throw new DecodeError(
        `${opts.version} decoder: output "${opts.name}" has shape [${t.dims.join(',')}], but ${ctx.numClasses} labels need a dimension of ${attrs} (${extra} + classes); check labels in the manifest`,
      );
    }
    const boxes = attrsFirst ? d2 : d1;
    const data = floats(t);
    const base = ctx.item * boxes * attrs;
    // Element `a` of box `b`.
    const at = attrsFirst ? (b: number, a: number) => data[base + a * boxes + b]! : (b: number, a: number) => data[base + b * attrs + a]!;
    const sx = opts.normalized ? ctx.inputWidth : 1;
    const sy = opts.normalized ? ctx.inputHeight : 1;
    const found: RawDetection[] = [];
    for (let b = 0; b < boxes; b++) {
      const objectness = opts.version === 'yolov5' ? at(b, 4) : 1;
      if (!(objectness >= ctx.threshold)) continue;
      let best = -1;
      let bestScore = -Infinity;
      for (let c = 0; c < ctx.numClasses; c++) {
        const s = at(b, extra + c);
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      const score = objectness * bestScore;
      if (!(score >= ctx.threshold)) continue;
      const box = toXyxy(at(b, 0), at(b, 1), at(b, 2), at(b, 3), opts.boxFormat, sx, sy);
      if (validBox(box)) found.push({ classIndex: best, score, box });
    }
    return found;
  };
}
