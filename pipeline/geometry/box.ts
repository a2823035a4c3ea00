import type { Box } from '../events/types.js';

/** Plain intersection over union of two [x1, y1, x2, y2] boxes; 0 when either is empty. */
export function iou(a: Box, b: Box): number {
  return bufferedIou(a, b, 0);
}

/**
 * IoU after growing each box by `buffer` times its own width and height on
 * every side (C-BIoU, Yang et al. 2023). At the low, irregular detection rates
 * of a motion-gated camera (about 1 frame/s) a walking person's boxes in two
 * consecutive detections barely overlap; the buffer restores an overlap
 * without giving up IoU's scale invariance.
 */
export function bufferedIou(a: Box, b: Box, buffer: number): number {
  const aw = a[2] - a[0];
  const ah = a[3] - a[1];
  const bw = b[2] - b[0];
  const bh = b[3] - b[1];
  if (!(aw > 0 && ah > 0 && bw > 0 && bh > 0)) return 0;
  const ax1 = a[0] - buffer * aw;
  const ay1 = a[1] - buffer * ah;
  const ax2 = a[2] + buffer * aw;
  const ay2 = a[3] + buffer * ah;
  const bx1 = b[0] - buffer * bw;
  const by1 = b[1] - buffer * bh;
  const bx2 = b[2] + buffer * bw;
  const by2 = b[3] + buffer * bh;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return inter / union;
}

/** Share of box `a`'s area that lies inside box `b` (0..1). */
export function coverage(a: Box, b: Box): number {
  const aw = a[2] - a[0];
  const ah = a[3] - a[1];
  if (!(aw > 0 && ah > 0)) return 0;
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  return (iw * ih) / (aw * ah);
}

/** True when the box has four finite numbers and a positive width and height. */
export function isValidBox(box: unknown): box is Box {
  if (!Array.isArray(box) || box.length !== 4) return false;
  const [x1, y1, x2, y2] = box as number[];
  return [x1, y1, x2, y2].every((v) => typeof v === 'number' && Number.isFinite(v)) && x2! > x1! && y2! > y1!;
}
