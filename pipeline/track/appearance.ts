import type { Box } from '../events/types.js';

/**
 * An RGB24 picture (or a crop of one) the detector looked at, placed in
 * source pixels: `x`, `y` is where its top-left pixel sits in the camera frame.
 */
export interface AppearanceImage {
  width: number;
  height: number;
  data: Uint8Array | Buffer;
  x?: number;
  y?: number;
}

/** Levels per colour channel (8 × 8 × 8 bins) and bands down the box (upper and lower body), measured on this camera's footage: see docs/tracking-and-zones.md. */
const LEVELS = 8;
const BANDS = 2;
const PER_BAND = LEVELS * LEVELS * LEVELS;
export const HISTOGRAM_BINS = PER_BAND * BANDS;

/**
 * Normalised colour histogram of the middle of a box (the central 60 % of its
 * width, 10–90 % of its height, in an upper and a lower band): what a person
 * wears, top and bottom, not the ground or the wall beside them. Pixels are
 * sampled on a grid of at most ~24 × 24 per band, so a large box costs no more
 * than a small one. Null when the box is not inside the image (no evidence
 * rather than wrong evidence).
 */
export function colourHistogram(image: AppearanceImage, box: Box): number[] | null {
  const ox = image.x ?? 0;
  const oy = image.y ?? 0;
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  const x1 = Math.max(0, Math.floor(box[0] + 0.2 * w - ox));
  const x2 = Math.min(image.width, Math.ceil(box[2] - 0.2 * w - ox));
  if (x2 - x1 < 2) return null;
  const sx = Math.max(1, Math.floor((x2 - x1) / 24));
  const hist = new Array<number>(HISTOGRAM_BINS).fill(0);
  const shift = 8 - Math.log2(LEVELS);
  for (let band = 0; band < BANDS; band++) {
    const y1 = Math.max(0, Math.floor(box[1] + h * (0.1 + (0.8 * band) / BANDS) - oy));
    const y2 = Math.min(image.height, Math.ceil(box[1] + h * (0.1 + (0.8 * (band + 1)) / BANDS) - oy));
    if (y2 - y1 < 2) return null;
    const sy = Math.max(1, Math.floor((y2 - y1) / 24));
    const base = band * PER_BAND;
    let n = 0;
    for (let y = y1; y < y2; y += sy) {
      let i = (y * image.width + x1) * 3;
      for (let x = x1; x < x2; x += sx, i += 3 * sx) {
        const r = image.data[i]! >> shift;
        const g = image.data[i + 1]! >> shift;
        const b = image.data[i + 2]! >> shift;
        hist[base + (r * LEVELS + g) * LEVELS + b]!++;
        n++;
      }
    }
    if (n === 0) return null;
    // Each band weighs the same, however tall: the coefficient below stays 0..1.
    for (let k = base; k < base + PER_BAND; k++) hist[k]! /= n * BANDS;
  }
  return hist;
}

/** Bhattacharyya coefficient of two normalised histograms: 1 = the same colours, 0 = nothing in common. */
export function histogramSimilarity(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) s += Math.sqrt(a[k]! * b[k]!);
  return s;
}

/** Running mean of a track's histograms: `weight` for the newest (one odd frame does not repaint the object). */
export function blendHistogram(current: readonly number[] | null, next: readonly number[], weight = 0.3): number[] {
  if (!current) return [...next];
  return current.map((v, k) => (1 - weight) * v + weight * next[k]!);
}

export interface ObjectEvidence {
  box: Box;
  appearance?: readonly number[] | null;
}

/**
 * Is `next` plausibly the object last seen as `last`, after a gap long enough
 * that position alone proves nothing? Boxes of similar size (no side more than
 * `maxSizeRatio` apart) and, when both have colours, similar colours. Without
 * colours the answer is `withoutColours` (the caller decides: a parked truck
 * may come back on size alone, a person may not).
 */
export function sameObject(last: ObjectEvidence, next: ObjectEvidence, o: { maxSizeRatio: number; minAppearance: number; withoutColours: boolean }): boolean {
  const [a, b] = [last.box, next.box];
  const rw = (a[2] - a[0]) / (b[2] - b[0]);
  const rh = (a[3] - a[1]) / (b[3] - b[1]);
  if (!(Math.max(rw, 1 / rw, rh, 1 / rh) <= o.maxSizeRatio)) return false;
  if (last.appearance && next.appearance) return histogramSimilarity(last.appearance, next.appearance) >= o.minAppearance;
  return o.withoutColours;
}
