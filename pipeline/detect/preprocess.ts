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
  const { width: inW, height: inH } = inputSize(input);
  const plane = inW * inH;
  const base = item * plane * 3;
  if (target.length < base + plane * 3) {
    throw new RangeError(`input buffer holds ${target.length} values, batch item ${item} needs ${base + plane * 3}`);
  }
  const nchw = input.layout === 'NCHW';
  const bgr = input.colour === 'BGR';
  // value = (pixel * scale - mean) / std  ==  pixel * mul + add
  const mul = [0, 1, 2].map((c) => input.scale / input.std[c]!);
  const add = [0, 1, 2].map((c) => -input.mean[c]! / input.std[c]!);
  const m0 = mul[0]!, m1 = mul[1]!, m2 = mul[2]!;
  const a0 = add[0]!, a1 = add[1]!, a2 = add[2]!;

  const { padX, padY, scaleX, scaleY } = placement;
  const [rx1, ry1, rx2, ry2] = region;
  const contentW = Math.round((rx2 - rx1) * scaleX);
  const contentH = Math.round((ry2 - ry1) * scaleY);

  // Fill the letterbox border (or nothing, for stretch).
  if (contentW < inW || contentH < inH) {
    for (let c = 0; c < 3; c++) {
      const v = input.pad_value * mul[c]! + add[c]!;
      for (let y = 0; y < inH; y++) {
        const inside = y >= padY && y < padY + contentH;
        for (let x = 0; x < inW; x++) {
          if (inside && x >= padX && x < padX + contentW) continue;
          target[nchw ? base + c * plane + y * inW + x : base + (y * inW + x) * 3 + c] = v;
        }
      }
    }
  }

  // Column lookup tables: source byte offsets and weight for each output column.
  const stride = image.width * 3;
  const xo0 = new Int32Array(contentW);
  const xo1 = new Int32Array(contentW);
  const xw = new Float32Array(contentW);
  for (let x = 0; x < contentW; x++) {
    let sx = (x + 0.5) / scaleX - 0.5 + rx1;
    if (sx < rx1) sx = rx1;
    if (sx > rx2 - 1) sx = rx2 - 1;
    const i0 = Math.floor(sx);
    const i1 = Math.min(i0 + 1, rx2 - 1);
    xo0[x] = i0 * 3;
    xo1[x] = i1 * 3;
    xw[x] = sx - i0;
  }
  const data = image.data;
  // Model channel 0 reads source byte offset c0 (R, or B for BGR models), channel 2 reads c2.
  const c0 = bgr ? 2 : 0;
  const c2 = bgr ? 0 : 2;
  // Output index steps: NCHW moves 1 per pixel and `plane` per channel; NHWC 3 per pixel and 1 per channel.
  const pixelStep = nchw ? 1 : 3;
  const channelStep = nchw ? plane : 1;
  for (let y = 0; y < contentH; y++) {
    let sy = (y + 0.5) / scaleY - 0.5 + ry1;
    if (sy < ry1) sy = ry1;
    if (sy > ry2 - 1) sy = ry2 - 1;
    const j0 = Math.floor(sy);
    const j1 = Math.min(j0 + 1, ry2 - 1);
    const wy = sy - j0;
    const row0 = j0 * stride;
    const row1 = j1 * stride;
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
  return placement;
}
