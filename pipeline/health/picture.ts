/**
 * Cheap measurements of a small grey frame that health monitoring compares
 * against the camera's own baseline. All work on a few thousand pixels.
 */

export interface PictureStats {
  /** Mean luma, 0–255. */
  brightness: number;
  /** Standard deviation of luma. */
  contrast: number;
  /** Shannon entropy of the 256-bin luma histogram, bits (0–8). */
  entropy: number;
  /** Mean absolute horizontal + vertical gradient: falls when the picture blurs or is covered. */
  edgeEnergy: number;
}

export function pictureStats(gray: Uint8Array, width: number, height: number): PictureStats {
  const hist = new Uint32Array(256);
  let sum = 0;
  let sumSq = 0;
  let edges = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const v = gray[row + x]!;
      hist[v]!++;
      sum += v;
      sumSq += v * v;
      if (x + 1 < width) edges += Math.abs(gray[row + x + 1]! - v);
      if (y + 1 < height) edges += Math.abs(gray[row + width + x]! - v);
    }
  }
  const n = width * height;
  const mean = sum / n;
  let entropy = 0;
  for (let i = 0; i < 256; i++) {
    const c = hist[i]!;
    if (c) {
      const p = c / n;
      entropy -= p * Math.log2(p);
    }
  }
  return {
    brightness: mean,
    contrast: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
    entropy,
    edgeEnergy: edges / n,
  };
}

/** How much the picture changed between two frames of the same size. */
export function pictureChange(a: Uint8Array, b: Uint8Array, pixelThreshold = 6): { meanDiff: number; changedFraction: number } {
  if (a.length !== b.length) throw new RangeError(`frames differ in size: ${a.length} vs ${b.length}`);
  let sum = 0;
  let changed = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > pixelThreshold) changed++;
  }
  return { meanDiff: sum / a.length, changedFraction: changed / a.length };
}

/** Box-average downscale to an exact grid (any ratio). */
export function downscale(gray: Uint8Array, width: number, height: number, tw: number, th: number): Float32Array {
  const out = new Float32Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    const y0 = Math.floor((ty * height) / th);
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * height) / th));
    for (let tx = 0; tx < tw; tx++) {
      const x0 = Math.floor((tx * width) / tw);
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * width) / tw));
      let s = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += gray[y * width + x]!;
      out[ty * tw + tx] = s / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/** Gradient magnitude (|dx| + |dy|): the scene's structure, indifferent to overall brightness. */
export function edgeMap(img: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const dx = x + 1 < w ? img[i + 1]! - img[i]! : 0;
      const dy = y + 1 < h ? img[i + w]! - img[i]! : 0;
      out[i] = Math.abs(dx) + Math.abs(dy);
    }
  }
  return out;
}

/** Normalised cross-correlation of `cur` shifted by (dx, dy) against `ref`, over their overlap. */
export function nccAt(ref: Float32Array, cur: Float32Array, w: number, h: number, dx: number, dy: number): number {
  // cur(x, y) is compared with ref(x + dx, y + dy): the scene moved by (dx, dy) in the new picture's terms.
  const x0 = Math.max(0, -dx);
  const x1 = Math.min(w, w - dx);
  const y0 = Math.max(0, -dy);
  const y1 = Math.min(h, h - dy);
  let n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const a = ref[(y + dy) * w + x + dx]!;
      const b = cur[y * w + x]!;
      n++;
      sa += a;
      sb += b;
      saa += a * a;
      sbb += b * b;
      sab += a * b;
    }
  }
  if (n < 16) return 0;
  const cov = sab - (sa * sb) / n;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  return va > 1e-9 && vb > 1e-9 ? cov / Math.sqrt(va * vb) : 0;
}

/** The shift within ±maxShift that best aligns `cur` to `ref` (exhaustive; grids are tiny). */
export function bestShift(ref: Float32Array, cur: Float32Array, w: number, h: number, maxShift: number): { dx: number; dy: number; score: number; zeroScore: number } {
  const zeroScore = nccAt(ref, cur, w, h, 0, 0);
  let best = { dx: 0, dy: 0, score: zeroScore };
  for (let dy = -maxShift; dy <= maxShift; dy++) {
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      if (!dx && !dy) continue;
      const s = nccAt(ref, cur, w, h, dx, dy);
      if (s > best.score) best = { dx, dy, score: s };
    }
  }
  return { ...best, zeroScore };
}

/** Halves a grid (2×2 average); odd last rows/columns are dropped. */
export function halve(img: Float32Array, w: number, h: number): { img: Float32Array; w: number; h: number } {
  const hw = w >> 1;
  const hh = h >> 1;
  const out = new Float32Array(hw * hh);
  for (let y = 0; y < hh; y++) {
    for (let x = 0; x < hw; x++) {
      const i = 2 * y * w + 2 * x;
      out[y * hw + x] = (img[i]! + img[i + 1]! + img[i + w]! + img[i + w + 1]!) / 4;
    }
  }
  return { img: out, w: hw, h: hh };
}

/**
 * `bestShift` coarse to fine: an exhaustive search on the half-size grid, then
 * ±1 around its answer at full size. About a tenth of the work, same answer for
 * shifts of more than a pixel or two (the ones that matter).
 */
export function bestShiftCoarseFine(ref: Float32Array, cur: Float32Array, w: number, h: number, maxShift: number): { dx: number; dy: number; score: number; zeroScore: number } {
  const r = halve(ref, w, h);
  const c = halve(cur, w, h);
  const coarse = bestShift(r.img, c.img, r.w, r.h, Math.ceil(maxShift / 2));
  const zeroScore = nccAt(ref, cur, w, h, 0, 0);
  let best = { dx: 0, dy: 0, score: zeroScore };
  for (let dy = 2 * coarse.dy - 1; dy <= 2 * coarse.dy + 1; dy++) {
    for (let dx = 2 * coarse.dx - 1; dx <= 2 * coarse.dx + 1; dx++) {
      if ((!dx && !dy) || Math.abs(dx) > maxShift || Math.abs(dy) > maxShift) continue;
      const s = nccAt(ref, cur, w, h, dx, dy);
      if (s > best.score) best = { dx, dy, score: s };
    }
  }
  return { ...best, zeroScore };
}
