import type { Box } from '../events/types.js';
import type { RgbImage } from './image.js';
import { inputSize, type ManifestInput } from './manifest.js';

/**
 * Where the source region landed in the model input:
 * inputX = (sourceX - region[0]) * scaleX + padX (likewise for y).
 */
export interface Placement {
  region: Box;
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

/** Fits a region of `width` x `height` into the model input, per the manifest's resize mode. */
export function placeRegion(region: Box, input: ManifestInput): Placement {
  const { width: inW, height: inH } = inputSize(input);
  const rw = region[2] - region[0];
  const rh = region[3] - region[1];
  if (input.resize === 'stretch') {
    return { region, scaleX: inW / rw, scaleY: inH / rh, padX: 0, padY: 0 };
  }
  const s = Math.min(inW / rw, inH / rh);
  const nw = Math.max(1, Math.min(inW, Math.round(rw * s)));
  const nh = Math.max(1, Math.min(inH, Math.round(rh * s)));
  // Use the rounded content size for the scale, so the mapping back is exact for the pixels actually drawn.
  return { region, scaleX: nw / rw, scaleY: nh / rh, padX: Math.floor((inW - nw) / 2), padY: Math.floor((inH - nh) / 2) };
}

/** Maps a box from model-input pixels back to source pixels, clipped to the region. */
export function toSourceBox(box: Box, p: Placement): Box {
  const [rx1, ry1, rx2, ry2] = p.region;
  const clip = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);
  return [
    clip((box[0] - p.padX) / p.scaleX + rx1, rx1, rx2),
    clip((box[1] - p.padY) / p.scaleY + ry1, ry1, ry2),
    clip((box[2] - p.padX) / p.scaleX + rx1, rx1, rx2),
    clip((box[3] - p.padY) / p.scaleY + ry1, ry1, ry2),
  ];
}

/** Values per batch item in the input tensor. */
export function itemSize(input: ManifestInput): number {
  const { width, height } = inputSize(input);
  return width * height * 3;
}

/**
 * Resizes (bilinear, half-pixel centres like OpenCV and PIL) the region of
 * `image` into batch slot `item` of `target`, converting colour order,
 * layout and normalisation on the way: one pass, no intermediate image.
 * `region` must lie inside the image (see clampRegion).
 */
export function fillInput(image: RgbImage, region: Box, input: ManifestInput, target: Float32Array, item: number): Placement {
  const placement = placeRegion(region, input);
  const size = inputSize(input);
  const contentW = Math.round((region[2] - region[0]) * placement.scaleX);
  const contentH = Math.round((region[3] - region[1]) * placement.scaleY);
  // Fill the letterbox border (or nothing, for stretch).
  if (contentW < size.width || contentH < size.height) fillPad(input, target, item, [placement.padX, placement.padY, placement.padX + contentW, placement.padY + contentH], size);
  drawRegion(image, region, placement, contentW, contentH, input, target, slotBase(size, target, item), size);
  return placement;
}

/**
 * The input size a model with `size_multiple` gets for a region of w × h
 * source pixels: the region's own size, shrunk only as far as the
 * reference's pixel count, rounded up to the multiple; and the scale used.
 */
export function sizeForRegion(region: Box, input: ManifestInput & { size_multiple: number }): { width: number; height: number; scale: number } {
  const ref = inputSize(input);
  const w = region[2] - region[0];
  const h = region[3] - region[1];
  const scale = Math.min(1, Math.sqrt((ref.width * ref.height) / (w * h)));
  const m = input.size_multiple;
  const up = (v: number) => Math.max(m, Math.ceil(v / m) * m);
  return { width: up(Math.round(w * scale)), height: up(Math.round(h * scale)), scale };
}

/**
 * Draws the region at `scale` (aspect kept) into the top-left of batch slot
 * `item` of an input of `size`; the rest is pad value. For models that take
 * any size (see sizeForRegion).
 */
export function fillAtSize(image: RgbImage, region: Box, input: ManifestInput, target: Float32Array, item: number, size: { width: number; height: number }, scale: number): Placement {
  const rw = region[2] - region[0];
  const rh = region[3] - region[1];
  const nw = Math.max(1, Math.min(size.width, Math.round(rw * scale)));
  const nh = Math.max(1, Math.min(size.height, Math.round(rh * scale)));
  const placement: Placement = { region, scaleX: nw / rw, scaleY: nh / rh, padX: 0, padY: 0 };
  if (nw < size.width || nh < size.height) fillPad(input, target, item, [0, 0, nw, nh], size);
  drawRegion(image, region, placement, nw, nh, input, target, slotBase(size, target, item), size);
  return placement;
}

/** A rectangle of the model input, in input pixels. */
export interface Cell {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The four quarters of the model input: several small regions share one
 * inference (see Detector's tiling). Rounded down to even sizes.
 */
export function quarterCells(input: ManifestInput): Cell[] {
  const { width, height } = inputSize(input);
  const w = Math.floor(width / 4) * 2;
  const h = Math.floor(height / 4) * 2;
  return [
    { x: 0, y: 0, width: w, height: h },
    { x: w, y: 0, width: w, height: h },
    { x: 0, y: h, width: w, height: h },
    { x: w, y: h, width: w, height: h },
  ];
}

/**
 * Draws the region into one cell of batch slot `item`, scaled to fit the cell
 * with its aspect ratio kept and centred; the rest of the cell is left as it
 * is (fill the slot with fillPad first). Returns the placement and the
 * rectangle the content covers, in input pixels.
 */
export function fillCell(image: RgbImage, region: Box, input: ManifestInput, target: Float32Array, item: number, cell: Cell): { placement: Placement; content: Box } {
  const rw = region[2] - region[0];
  const rh = region[3] - region[1];
  const s = Math.min(cell.width / rw, cell.height / rh);
  const nw = Math.max(1, Math.min(cell.width, Math.round(rw * s)));
  const nh = Math.max(1, Math.min(cell.height, Math.round(rh * s)));
  const placement: Placement = {
    region,
    scaleX: nw / rw,
    scaleY: nh / rh,
    padX: cell.x + Math.floor((cell.width - nw) / 2),
    padY: cell.y + Math.floor((cell.height - nh) / 2),
  };
  const size = inputSize(input);
  drawRegion(image, region, placement, nw, nh, input, target, slotBase(size, target, item), size);
  return { placement, content: [placement.padX, placement.padY, placement.padX + nw, placement.padY + nh] };
}

/** Sets batch slot `item` to the manifest's pad value, except inside `keep` (input pixels). */
export function fillPad(input: ManifestInput, target: Float32Array, item: number, keep: Box | null = null, size = inputSize(input)): void {
  const { width: inW, height: inH } = size;
  const plane = inW * inH;
  const base = slotBase(size, target, item);
  const nchw = input.layout === 'NCHW';
  if (nchw) {
    // Row runs filled natively: a per-value loop over the whole input cost ~1 ms of a ~15 ms crop run.
    const [kx1, ky1, kx2, ky2] = keep ? keep.map((k, i) => Math.max(0, Math.min(i % 2 === 0 ? inW : inH, Math.ceil(k)))) : [0, 0, 0, 0];
    for (let c = 0; c < 3; c++) {
      const v = (input.pad_value * input.scale - input.mean[c]!) / input.std[c]!;
      const planeBase = base + c * plane;
      for (let y = 0; y < inH; y++) {
        const row = planeBase + y * inW;
        if (keep === null || y < ky1! || y >= ky2! || kx2! <= kx1!) target.fill(v, row, row + inW);
        else {
          target.fill(v, row, row + kx1!);
          target.fill(v, row + kx2!, row + inW);
        }
      }
    }
    return;
  }
  for (let c = 0; c < 3; c++) {
    const v = (input.pad_value * input.scale - input.mean[c]!) / input.std[c]!;
    for (let y = 0; y < inH; y++) {
      const insideRow = keep !== null && y >= keep[1] && y < keep[3];
      for (let x = 0; x < inW; x++) {
        if (insideRow && x >= keep[0] && x < keep[2]) continue;
        target[nchw ? base + c * plane + y * inW + x : base + (y * inW + x) * 3 + c] = v;
      }
    }
  }
}

function slotBase(size: { width: number; height: number }, target: Float32Array, item: number): number {
  const values = size.width * size.height * 3;
  const base = item * values;
  if (target.length < base + values) throw new RangeError(`input buffer holds ${target.length} values, batch item ${item} needs ${base + values}`);
  return base;
}

/** The resampling pass shared by fillInput and fillCell: region → contentW × contentH at (padX, padY). */
function drawRegion(image: RgbImage, region: Box, placement: Placement, contentW: number, contentH: number, input: ManifestInput, target: Float32Array, base: number, size: { width: number; height: number }): void {
  const { width: inW, height: inH } = size;
  const plane = inW * inH;
  const nchw = input.layout === 'NCHW';
  const bgr = input.colour === 'BGR';
  // value = (pixel * scale - mean) / std  ==  pixel * mul + add
  const mul = [0, 1, 2].map((c) => input.scale / input.std[c]!);
  const add = [0, 1, 2].map((c) => -input.mean[c]! / input.std[c]!);
  const m0 = mul[0]!, m1 = mul[1]!, m2 = mul[2]!;
  const a0 = add[0]!, a1 = add[1]!, a2 = add[2]!;
  const { padX, padY, scaleX, scaleY } = placement;
  const [rx1, ry1, rx2, ry2] = region;
  const data = image.data;
  // Model channel 0 reads source byte offset c0 (R, or B for BGR models), channel 2 reads c2.
  const c0 = bgr ? 2 : 0;
  const c2 = bgr ? 0 : 2;
  // Output index steps: NCHW moves 1 per pixel and `plane` per channel; NHWC 3 per pixel and 1 per channel.
  const pixelStep = nchw ? 1 : 3;
  const channelStep = nchw ? plane : 1;

  // A crop at its own size (an any-size model's usual case): every tap lands on a pixel
  // centre with weight 0, so a plain copy gives the same values for a third of the work.
  if (scaleX === 1 && scaleY === 1 && Number.isInteger(rx1) && Number.isInteger(ry1)) {
    const stride = image.width * 3;
    for (let y = 0; y < contentH; y++) {
      let i = (ry1 + y) * stride + rx1 * 3;
      let o = base + ((y + padY) * inW + padX) * pixelStep;
      for (let x = 0; x < contentW; x++, o += pixelStep, i += 3) {
        target[o] = data[i + c0]! * m0 + a0;
        target[o + channelStep] = data[i + 1]! * m1 + a1;
        target[o + 2 * channelStep] = data[i + c2]! * m2 + a2;
      }
    }
    return;
  }

  // Column lookup tables: source byte offsets and weight for each output column.
  const stride = image.width * 3;
  const xo0 = new Int32Array(contentW);
  const xo1 = new Int32Array(contentW);
  const xw = new Float32Array(contentW);
  const tap = { i0: 0, i1: 0, w: 0 };
  for (let x = 0; x < contentW; x++) {
    sourceTap(x, scaleX, rx1, rx2, tap);
    xo0[x] = tap.i0 * 3;
    xo1[x] = tap.i1 * 3;
    xw[x] = tap.w;
  }
  for (let y = 0; y < contentH; y++) {
    sourceTap(y, scaleY, ry1, ry2, tap);
    const wy = tap.w;
    const row0 = tap.i0 * stride;
    const row1 = tap.i1 * stride;
    let o = base + ((y + padY) * inW + padX) * pixelStep;
    for (let x = 0; x < contentW; x++, o += pixelStep) {
      const wx = xw[x]!;
      const a = row0 + xo0[x]!;
      const b = row0 + xo1[x]!;
      const c = row1 + xo0[x]!;
      const d = row1 + xo1[x]!;
      // Two horizontal lerps, then one vertical, per channel.
      let t = data[a + c0]! + (data[b + c0]! - data[a + c0]!) * wx;
      let u = data[c + c0]! + (data[d + c0]! - data[c + c0]!) * wx;
      target[o] = (t + (u - t) * wy) * m0 + a0;
      t = data[a + 1]! + (data[b + 1]! - data[a + 1]!) * wx;
      u = data[c + 1]! + (data[d + 1]! - data[c + 1]!) * wx;
      target[o + channelStep] = (t + (u - t) * wy) * m1 + a1;
      t = data[a + c2]! + (data[b + c2]! - data[a + c2]!) * wx;
      u = data[c + c2]! + (data[d + c2]! - data[c + c2]!) * wx;
      target[o + 2 * channelStep] = (t + (u - t) * wy) * m2 + a2;
    }
  }
}

/**
 * The two source pixels (and the weight of the second) that output pixel
 * `o` reads along one axis of the region [lo, hi): half-pixel centres,
 * clamped to the region. Writes into `tap` (called per column and per row).
 */
function sourceTap(o: number, scale: number, lo: number, hi: number, tap: { i0: number; i1: number; w: number }): void {
  let src = (o + 0.5) / scale - 0.5 + lo;
  if (src < lo) src = lo;
  if (src > hi - 1) src = hi - 1;
  tap.i0 = Math.floor(src);
  tap.i1 = Math.min(tap.i0 + 1, hi - 1);
  tap.w = src - tap.i0;
}
