import type { RawDetection } from '../nms.js';
import { DecodeError, type DecodeContext, type Decoder, type OutputTensors, expectRank, floats, output, validBox } from './common.js';

export interface CenternetOptions {
  name: string;
  classIndexBase: 0 | 1;
}

/**
 * CenterNet with decoding inside the graph: one output [N, K, 6] holding
 * x1, y1, x2, y2 (input pixels), score, class for the K best heatmap peaks.
 */
export function centernetDecoder(opts: CenternetOptions): Decoder {
  return (outputs: OutputTensors, ctx: DecodeContext): RawDetection[] => {
    const t = output(outputs, opts.name, 'centernet');
    expectRank(t, 3, opts.name, 'centernet', '[N, K, 6]');
    const [, k = 0, width = 0] = t.dims;
    if (width !== 6) throw new DecodeError(`centernet decoder: output "${opts.name}" has shape [${t.dims.join(',')}], expected [N, K, 6]`);
    const data = floats(t);
    const found: RawDetection[] = [];
    const base = ctx.item * k * 6;
    for (let i = 0; i < k; i++) {
      const o = base + i * 6;
      const score = data[o + 4]!;
      if (!(score >= ctx.threshold)) continue;
      const classIndex = Math.round(data[o + 5]!) - opts.classIndexBase;
      if (classIndex < 0 || classIndex >= ctx.numClasses) continue;
      const box: RawDetection['box'] = [data[o]!, data[o + 1]!, data[o + 2]!, data[o + 3]!];
      if (validBox(box)) found.push({ classIndex, score, box });
    }
    return found;
  };
}
