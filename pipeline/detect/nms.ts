import type { Box } from '../events/types.js';
import { iou } from '../geometry/index.js';

/** A detection before labels and source mapping: box in model-input pixels. */
export interface RawDetection {
  classIndex: number;
  score: number;
  box: Box;
}

/**
 * Greedy class-wise non-maximum suppression: within each class, a box whose
 * IoU with a higher-scored kept box exceeds `iouThreshold` is dropped; boxes
 * of different classes never suppress each other (a person standing by a
 * truck stays). Returns the kept detections sorted by score, highest first.
 */
export function nmsByClass<T extends RawDetection>(detections: readonly T[], iouThreshold: number, maxDetections = Infinity): T[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  const keptByClass = new Map<number, T[]>();
  for (const d of sorted) {
    if (kept.length >= maxDetections) break;
    const same = keptByClass.get(d.classIndex);
    if (same?.some((k) => iou(k.box, d.box) > iouThreshold)) continue;
    kept.push(d);
    if (same) same.push(d);
    else keptByClass.set(d.classIndex, [d]);
  }
  return kept;
}
