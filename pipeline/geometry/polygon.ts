/**
 * Plane geometry on [x, y] pairs: point in polygon, sides of a line, segment
 * intersection. Zones use it in normalised image coordinates, berths and AIS
 * areas on [lat, lon] pairs (ray casting does not care which axis is which;
 * a berth is far too small for the earth's curvature to matter next to AIS
 * position error).
 */
export type Point = readonly [number, number];

const EPS = 1e-9;

/**
 * Even-odd point in polygon (ray casting), works for concave and
 * self-touching polygons. A point on an edge or a vertex counts as inside,
 * so a polygon drawn up to the image border still catches boxes whose bottom
 * is clipped to the border.
 */
export function pointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  const n = polygon.length;
  if (n < 3) return false;
  const [x, y] = p;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    if (onSegment(p, a, b)) return true;
    if (a[1] > y !== b[1] > y) {
      const xCross = ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]) + a[0];
      if (x < xCross) inside = !inside;
    }
  }
  return inside;
}

/** z-component of (b − a) × (p − a). In image coordinates (y down) it is > 0 when p lies to the right of a→b. */
export function cross(a: Point, b: Point, p: Point): number {
  return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/** −1 left of a→b, +1 right, 0 on the line (within a tiny tolerance). */
export function sideOf(a: Point, b: Point, p: Point): -1 | 0 | 1 {
  const c = cross(a, b, p);
  const scale = Math.hypot(b[0] - a[0], b[1] - a[1]);
  if (Math.abs(c) <= EPS * Math.max(1, scale)) return 0;
  return c > 0 ? 1 : -1;
}

export function onSegment(p: Point, a: Point, b: Point): boolean {
  if (Math.abs(cross(a, b, p)) > EPS) return false;
  return (
    p[0] >= Math.min(a[0], b[0]) - EPS &&
    p[0] <= Math.max(a[0], b[0]) + EPS &&
    p[1] >= Math.min(a[1], b[1]) - EPS &&
    p[1] <= Math.max(a[1], b[1]) + EPS
  );
}

/** True when segments p1–p2 and q1–q2 share at least one point (touching counts). */
export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const d1 = cross(q1, q2, p1);
  const d2 = cross(q1, q2, p2);
  const d3 = cross(p1, p2, q1);
  const d4 = cross(p1, p2, q2);
  if (((d1 > EPS && d2 < -EPS) || (d1 < -EPS && d2 > EPS)) && ((d3 > EPS && d4 < -EPS) || (d3 < -EPS && d4 > EPS))) return true;
  return onSegment(p1, q1, q2) || onSegment(p2, q1, q2) || onSegment(q1, p1, p2) || onSegment(q2, p1, p2);
}
