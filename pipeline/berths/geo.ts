/** A position as [lat, lon] in decimal degrees, the order the site file uses for berth polygons. */
export type LatLon = [number, number];

const EARTH_RADIUS_M = 6_371_008.8;
const toRad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine; ample precision inside a port). */
export function distanceMetres(a: LatLon, b: LatLon): number {
  const dLat = toRad(b[0] - a[0]);
  const dLon = toRad(b[1] - a[1]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(a[0])) * Math.cos(toRad(b[0])) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export const METRES_PER_NAUTICAL_MILE = 1852;

/** Speed in knots implied by two fixes; Infinity when no time passed but the position moved. */
export function impliedKnots(a: LatLon, ta: Date, b: LatLon, tb: Date): number {
  const metres = distanceMetres(a, b);
  const hours = Math.abs(tb.getTime() - ta.getTime()) / 3_600_000;
  if (hours === 0) return metres === 0 ? 0 : Infinity;
  return metres / METRES_PER_NAUTICAL_MILE / hours;
}
