import type { RawDetection } from '../nms.js';
import { DecodeError, type DecodeContext, type Decoder, type OutputTensors, floats, output } from './common.js';

export interface NanodetOptions {
  names: readonly string[];
  strides: readonly number[];
  regMax: number;
  centerOffset: number;
}

interface Level {
  stride: number;
  columns: number;
  cells: number;
  scores: string;
  distances: string;
}

/**
 * NanoDet (GFL head): per stride, a class-score map [N, cells, C] (sigmoid
 * already applied) and a distance map [N, cells, 4 * (reg_max + 1)] holding,
 * for the left, top, right and bottom sides in turn, logits over the bins
 * 0..reg_max. Distance = softmax expectation over the bins × stride, measured
 * from the cell centre. Outputs are matched to strides by their cell count,
 * so the manifest may list them in any order.
 */
export function nanodetDecoder(opts: NanodetOptions): Decoder {
  const bins = opts.regMax + 1;
  // Per input size: a model that takes any size has other grids at other sizes.
  const levelsBySize = new Map<string, Level[]>();

  const findLevels = (outputs: OutputTensors, ctx: DecodeContext): Level[] => {
    const tensors = opts.names.map((n) => ({ name: n, t: output(outputs, n, 'nanodet') }));
    if (ctx.numClasses === 4 * bins) {
      throw new DecodeError(`nanodet decoder: ${ctx.numClasses} labels equals 4 × (reg_max + 1), so score and distance maps cannot be told apart`);
    }
    return opts.strides.map((stride) => {
      const columns = Math.ceil(ctx.inputWidth / stride);
      const cells = columns * Math.ceil(ctx.inputHeight / stride);
      const at = (last: number) => tensors.find(({ t }) => t.dims.length === 3 && t.dims[1] === cells && t.dims[2] === last);
      const scores = at(ctx.numClasses);
      const distances = at(4 * bins);
      if (!scores || !distances) {
        const shapes = tensors.map(({ name, t }) => `${name} [${t.dims.join(',')}]`).join(', ');
        throw new DecodeError(
          `nanodet decoder: stride ${stride} needs outputs [N, ${cells}, ${ctx.numClasses}] and [N, ${cells}, ${4 * bins}], model gives ${shapes}; check strides, reg_max and labels in the manifest`,
        );
      }
      return { stride, columns, cells, scores: scores.name, distances: distances.name };
    });
  };

  const dist = new Float64Array(4);
  return (outputs: OutputTensors, ctx: DecodeContext): RawDetection[] => {
    // Which output serves which stride does not change between runs of one size (the batch dimension is indexed by ctx.item).
    const key = `${ctx.inputWidth}x${ctx.inputHeight}`;
    let levels = levelsBySize.get(key);
    if (!levels) levelsBySize.set(key, (levels = findLevels(outputs, ctx)));
    const found: RawDetection[] = [];
    const nc = ctx.numClasses;
    for (const level of levels) {
      const scores = floats(output(outputs, level.scores, 'nanodet'));
      const distances = floats(output(outputs, level.distances, 'nanodet'));
      const scoreBase = ctx.item * level.cells * nc;
      const distBase = ctx.item * level.cells * 4 * bins;
      for (let cell = 0; cell < level.cells; cell++) {
        const so = scoreBase + cell * nc;
        let box: RawDetection['box'] | null = null;
        for (let c = 0; c < nc; c++) {
          const score = scores[so + c]!;
          if (!(score >= ctx.threshold)) continue;
          if (!box) {
            const dOff = distBase + cell * 4 * bins;
            for (let side = 0; side < 4; side++) {
              const o = dOff + side * bins;
              let max = -Infinity;
              for (let j = 0; j < bins; j++) max = Math.max(max, distances[o + j]!);
              let sum = 0;
              let weighted = 0;
              for (let j = 0; j < bins; j++) {
                const e = Math.exp(distances[o + j]! - max);
                sum += e;
                weighted += e * j;
              }
              dist[side] = (weighted / sum) * level.stride;
            }
            const cx = ((cell % level.columns) + opts.centerOffset) * level.stride;
            const cy = (Math.floor(cell / level.columns) + opts.centerOffset) * level.stride;
            box = [
              Math.max(0, cx - dist[0]!),
              Math.max(0, cy - dist[1]!),
              Math.min(ctx.inputWidth, cx + dist[2]!),
              Math.min(ctx.inputHeight, cy + dist[3]!),
            ];
          }
          found.push({ classIndex: c, score, box });
        }
      }
    }
    return found;
  };
}
