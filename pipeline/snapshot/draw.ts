import type { RgbImage } from '../detect/image.js';
import type { Box } from '../events/types.js';
import type { Point } from '../zones/types.js';

// The detector's image type: one concept, one name (ffmpeg's rgb24 frames).
export type { RgbImage };

export type Rgb = [number, number, number];

/** Distinct, saturated colours that stay visible on grey port scenes. */
export const PALETTE: readonly Rgb[] = [
  [255, 0, 0],
  [0, 200, 0],
  [0, 90, 255],
  [255, 200, 0],
  [255, 0, 200],
  [0, 220, 220],
  [255, 120, 0],
  [150, 0, 255],
];

/** A stable colour for a class name or a track id. */
export function colourFor(key: string | number): Rgb {
  let h = 2166136261;
  for (const ch of String(key)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return PALETTE[(h >>> 0) % PALETTE.length]!;
}

export function assertFrame(frame: RgbImage): void {
  if (!(Number.isInteger(frame.width) && Number.isInteger(frame.height) && frame.width > 0 && frame.height > 0)) {
    throw new RangeError(`snapshot: frame size ${frame.width}×${frame.height} is not a positive integer size`);
  }
  const expected = frame.width * frame.height * 3;
  if (frame.data.length !== expected) {
    throw new RangeError(`snapshot: frame data has ${frame.data.length} bytes, an RGB24 ${frame.width}×${frame.height} frame has ${expected}`);
  }
}

function fillRect(frame: RgbImage, x1: number, y1: number, x2: number, y2: number, c: Rgb): void {
  const xa = Math.max(0, Math.floor(x1));
  const ya = Math.max(0, Math.floor(y1));
  const xb = Math.min(frame.width - 1, Math.floor(x2));
  const yb = Math.min(frame.height - 1, Math.floor(y2));
  for (let y = ya; y <= yb; y++) {
    let o = (y * frame.width + xa) * 3;
    for (let x = xa; x <= xb; x++, o += 3) {
      frame.data[o] = c[0];
      frame.data[o + 1] = c[1];
      frame.data[o + 2] = c[2];
    }
  }
}

/** Outline of a box, `thickness` pixels wide, drawn inside the box so it never covers a neighbour. Clipped to the frame. */
export function drawBox(frame: RgbImage, box: Box, colour: Rgb, thickness = 2): void {
  const [x1, y1, x2, y2] = box;
  const t = Math.max(1, Math.round(thickness)) - 1;
  fillRect(frame, x1, y1, x2, y1 + t, colour);
  fillRect(frame, x1, y2 - t, x2, y2, colour);
  fillRect(frame, x1, y1, x1 + t, y2, colour);
  fillRect(frame, x2 - t, y1, x2, y2, colour);
}

/** A line by Bresenham's algorithm with a square pen of `thickness` pixels. */
export function drawLine(frame: RgbImage, a: Point, b: Point, colour: Rgb, thickness = 1): void {
  let x0 = Math.round(a[0]);
  let y0 = Math.round(a[1]);
  const x1 = Math.round(b[0]);
  const y1 = Math.round(b[1]);
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  const r = (Math.max(1, Math.round(thickness)) - 1) / 2;
  let err = dx + dy;
  // Bounded by the line's length; clipping happens per pixel in fillRect.
  for (let steps = 0; steps <= dx - dy; steps++) {
    fillRect(frame, x0 - Math.floor(r), y0 - Math.floor(r), x0 + Math.ceil(r), y0 + Math.ceil(r), colour);
    if (x0 === x1 && y0 === y1) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

/** A polygon given in normalised coordinates (0..1), as zones are configured. */
export function drawPolygon(frame: RgbImage, polygon: readonly Point[], colour: Rgb, thickness = 1, closed = true): void {
  const px = polygon.map((p) => [p[0] * (frame.width - 1), p[1] * (frame.height - 1)] as Point);
  const last = closed ? px.length : px.length - 1;
  for (let i = 0; i < last; i++) drawLine(frame, px[i]!, px[(i + 1) % px.length]!, colour, thickness);
}
