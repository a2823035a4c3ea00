import type { Box } from '../events/types.js';
import type { Point } from '../zones/types.js';
import { rasterizeMask } from './mask.js';
import { componentBoxes, padAndMerge, type GridBox } from './regions.js';

export interface MotionOptions {
  /** The grey frame's size (the motion grid), e.g. 160×120. */
  width: number;
  height: number;
  /** Coordinate space for `regions` (e.g. the detect frame); defaults to the grid itself. */
  outputWidth?: number;
  outputHeight?: number;
  /** Per-pixel change (0–255) that counts as motion. Default 25. */
  threshold?: number;
  /** Background learning rate per frame. Default 0.05 (≈ 20 frames to adapt). */
  alpha?: number;
  /** Smallest component, in grid pixels after dilation. Default 12. */
  minArea?: number;
  /** Dilation passes (3×3) joining a moving object's pieces. Default 2. */
  dilate?: number;
  /** Grid pixels added round each region before merging. Default 2. */
  pad?: number;
  /** Fraction of watched pixels changing at once that means a lighting change, not motion. Default 0.5. */
  lightingFraction?: number;
  /** A shift of the mean brightness (0–255) this large between frames is a lighting change. Default 20. */
  lightingShift?: number;
  /** Ignored areas, normalised polygons. */
  masks?: readonly (readonly Point[])[];
}

export interface MotionResult {
  /** Padded, merged motion boxes in output coordinates. Empty on a lighting change. */
  regions: Box[];
  /** Fraction of watched pixels whose change passed the threshold (before dilation). */
  motionFraction: number;
  /** True when the whole picture changed at once (lights, exposure, IR switch): background was reset. */
  lightingChange: boolean;
  /** True while the first frame seeds the background. */
  calibrating: boolean;
}

/**
 * Frigate-style motion on a small grey frame: blur, difference against a
 * running-average background, threshold, dilate, connected components → boxes.
 * A global brightness shift is compensated before differencing, and when most
 * of the picture changes at once the background is reset instead of reporting
 * motion everywhere.
 */
export class MotionDetector {
  readonly width: number;
  readonly height: number;
  private readonly o: Required<Omit<MotionOptions, 'masks' | 'outputWidth' | 'outputHeight'>> & { outputWidth: number; outputHeight: number };
  private readonly mask: Uint8Array;
  private readonly watched: number;
  private background: Float64Array | null = null;
  private backgroundSum = 0;
  private readonly blurred: Uint16Array;
  private readonly bin: Uint8Array;
  private readonly tmp: Uint8Array;
  private readonly rows: Uint16Array;
  frames = 0;

  constructor(options: MotionOptions) {
    const { width, height } = options;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 8 || height < 8) {
      throw new RangeError(`motion grid must be at least 8×8 integer pixels, got ${width}×${height}`);
    }
    this.width = width;
    this.height = height;
    this.o = {
      width,
      height,
      outputWidth: options.outputWidth ?? width,
      outputHeight: options.outputHeight ?? height,
      threshold: options.threshold ?? 25,
      alpha: options.alpha ?? 0.05,
      minArea: options.minArea ?? 12,
      dilate: options.dilate ?? 2,
      pad: options.pad ?? 2,
      lightingFraction: options.lightingFraction ?? 0.5,
      lightingShift: options.lightingShift ?? 20,
    };
    this.mask = rasterizeMask(options.masks ?? [], width, height);
    this.watched = this.mask.reduce((n, m) => n + (m ? 0 : 1), 0);
    if (this.watched === 0) throw new RangeError('motion masks cover the whole picture');
    this.blurred = new Uint16Array(width * height);
    this.bin = new Uint8Array(width * height);
    this.tmp = new Uint8Array(width * height);
    this.rows = new Uint16Array(width * height);
  }

  /** Forget the background; the next frame seeds it. */
  recalibrate(): void {
    this.background = null;
  }

  update(gray: Uint8Array): MotionResult {
    const { width: w, height: h } = this;
    if (gray.length !== w * h) throw new RangeError(`motion frame must be ${w}×${h} = ${w * h} bytes, got ${gray.length}`);
    this.frames++;
    // Work in sums of 3×3 neighbourhoods (9× the blurred value) to stay in integers until the background.
    const sumCur = blur3(gray, this.blurred, w, h, this.rows, this.mask);
    const cur = this.blurred;
    if (!this.background) {
      this.background = Float64Array.from(cur);
      this.backgroundSum = sumCur;
      return { regions: [], motionFraction: 0, lightingChange: false, calibrating: true };
    }
    const bg = this.background;
    const mask = this.mask;
    const shift = (sumCur - this.backgroundSum) / this.watched;
    if (Math.abs(shift) >= this.o.lightingShift * 9) return this.lighting(sumCur, 0);

    // One pass: threshold the shift-compensated difference and move the background.
    const thr = this.o.threshold * 9;
    const a = this.o.alpha;
    const bin = this.bin;
    let changed = 0;
    let newSum = 0;
    for (let i = 0; i < cur.length; i++) {
      const c = cur[i]!;
      const b = bg[i]!;
      if (mask[i]) {
        bin[i] = 0;
        bg[i] = b + a * (c - b);
        continue;
      }
      const d = c - b - shift;
      const on = d > thr || d < -thr ? 1 : 0;
      bin[i] = on;
      changed += on;
      const nb = b + a * (c - b);
      bg[i] = nb;
      newSum += nb;
    }
    this.backgroundSum = newSum;
    const fraction = changed / this.watched;
    if (fraction >= this.o.lightingFraction) return this.lighting(sumCur, fraction);

    if (changed === 0) return { regions: [], motionFraction: 0, lightingChange: false, calibrating: false };
    for (let k = 0; k < this.o.dilate; k++) dilate3(bin, this.tmp, w, h);
    const grid = padAndMerge(componentBoxes(bin, w, h, this.o.minArea), this.o.pad, w, h);
    return { regions: grid.map((b) => this.toOutput(b)), motionFraction: fraction, lightingChange: false, calibrating: false };
  }

  private lighting(sumCur: number, fraction: number): MotionResult {
    this.background!.set(this.blurred);
    this.backgroundSum = sumCur;
    return { regions: [], motionFraction: fraction, lightingChange: true, calibrating: false };
  }

  private toOutput([x1, y1, x2, y2]: GridBox): Box {
    const sx = this.o.outputWidth / this.width;
    const sy = this.o.outputHeight / this.height;
    return [Math.round(x1 * sx), Math.round(y1 * sy), Math.round(x2 * sx), Math.round(y2 * sy)];
  }
}

/**
 * 3×3 box sums with clamped edges, separable (rows then columns): the blur that
 * takes the edge off compression noise, kept as 9× the mean. Returns the sum
 * over watched (unmasked) pixels.
 */
function blur3(src: Uint8Array, dst: Uint16Array, w: number, h: number, rows: Uint16Array, mask: Uint8Array): number {
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      const c = src[r + x]!;
      rows[r + x] = (x > 0 ? src[r + x - 1]! : c) + c + (x < w - 1 ? src[r + x + 1]! : c);
    }
  }
  let sum = 0;
  for (let y = 0; y < h; y++) {
    const up = (y > 0 ? y - 1 : 0) * w;
    const r = y * w;
    const down = (y < h - 1 ? y + 1 : h - 1) * w;
    for (let x = 0; x < w; x++) {
      const v = rows[up + x]! + rows[r + x]! + rows[down + x]!;
      dst[r + x] = v;
      if (!mask[r + x]) sum += v;
    }
  }
  return sum;
}

/** One 3×3 binary dilation in place, separable (row max then column max); tmp is scratch. */
function dilate3(bin: Uint8Array, tmp: Uint8Array, w: number, h: number): void {
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) tmp[r + x] = bin[r + x]! | (x > 0 ? bin[r + x - 1]! : 0) | (x < w - 1 ? bin[r + x + 1]! : 0);
  }
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) bin[r + x] = tmp[r + x]! | (y > 0 ? tmp[r - w + x]! : 0) | (y < h - 1 ? tmp[r + w + x]! : 0);
  }
}
