import type { LatLon } from './types.js';

/** Web Mercator in units of the whole world (0..1), the projection XYZ tile servers use. */
export function project([lat, lon]: LatLon): [number, number] {
  const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

export function unproject([x, y]: [number, number]): LatLon {
  const lon = x * 360 - 180;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
  return [lat, lon];
}

const EARTH_CIRCUMFERENCE_M = 2 * Math.PI * 6378137;

/** Metres on the ground per screen pixel at a latitude, when one world unit is `k` pixels. */
export function metresPerPixel(lat: number, k: number): number {
  return (Math.cos((lat * Math.PI) / 180) * EARTH_CIRCUMFERENCE_M) / k;
}

/** A round length (1, 2 or 5 × 10^n metres) drawn about `targetPx` long. */
export function scaleBar(mPerPx: number, targetPx = 120): { metres: number; px: number } {
  if (!(mPerPx > 0) || !Number.isFinite(mPerPx)) return { metres: NaN, px: NaN };
  const raw = mPerPx * targetPx;
  const p = 10 ** Math.floor(Math.log10(raw));
  const metres = [5, 2, 1].map((f) => f * p).find((m) => m <= raw) ?? p;
  return { metres, px: metres / mPerPx };
}

export function bounds(points: LatLon[]): { min: [number, number]; max: [number, number] } | null {
  if (points.length === 0) return null;
  const xy = points.map(project);
  return {
    min: [Math.min(...xy.map((p) => p[0])), Math.min(...xy.map((p) => p[1]))],
    max: [Math.max(...xy.map((p) => p[0])), Math.max(...xy.map((p) => p[1]))],
  };
}
