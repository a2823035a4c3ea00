import type { Box } from '../events/types.js';

/** A detection before labels and source mapping: box in model-input pixels. */
export interface RawDetection {
  classIndex: number;
  score: number;
  box: Box;
}

export function iou(a: Box, b: Box): number {
  const ix = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
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
