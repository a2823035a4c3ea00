import type { Point } from '../zones/types.js';

/**
 * Rasterises mask polygons (normalised 0..1 image coordinates, as zones use)
 * onto the motion grid: 1 = ignore this pixel (a flag, a clock overlay, trees
 * in the wind), 0 = watch it. Built once per camera and grid size.
 */
export function rasterizeMask(polygons: readonly (readonly Point[])[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const poly of polygons) {
    if (poly.length < 3) throw new RangeError(`a motion mask polygon needs at least 3 points, got ${poly.length}`);
    for (const [x, y] of poly) {
      if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) throw new RangeError(`motion mask point [${x}, ${y}] is outside 0..1`);
    }
    const pts = poly.map(([x, y]) => [x * width, y * height] as const);
    // Even-odd scanline fill at pixel centres.
    for (let row = 0; row < height; row++) {
      const cy = row + 0.5;
      const xs: number[] = [];
      for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        const [xi, yi] = pts[i]!;
        const [xj, yj] = pts[j]!;
        if (yi > cy !== yj > cy) xs.push(xi + ((cy - yi) / (yj - yi)) * (xj - xi));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
        const to = Math.min(width - 1, Math.floor(xs[k + 1]! - 0.5));
        for (let col = from; col <= to; col++) mask[row * width + col] = 1;
      }
    }
  }
  return mask;
}
