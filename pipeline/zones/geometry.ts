import type { Box } from '../events/types.js';
import type { Point } from './types.js';

const EPS = 1e-9;

/**
 * The point a zone is tested on: the middle of the box's bottom edge, in
 * normalised image coordinates. That is where the object touches the ground,
 * so a person walking past in front of a restricted gate (whose box overlaps
 * the gate's polygon on screen) is not inside it, and a tall truck whose roof
 * reaches over the zone from the road is not either.
 */
export function bottomCentre(box: Box, frame: { width: number; height: number }): Point {
  return [(box[0] + box[2]) / 2 / frame.width, box[3] / frame.height];
}

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
