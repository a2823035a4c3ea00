/**
 * Polygon sanity checks for the site file. A self-crossing polygon has no
 * well-defined inside: the zone test would flip between "in" and "out" along
 * the crossing, so such a zone is rejected rather than run.
 */
export type Vec2 = readonly [number, number];

/** Why the polygon is unusable, or null when it is a simple polygon. Point numbers are 0-based, as in the file's paths. */
export function polygonProblem(points: readonly Vec2[]): string | null {
  const n = points.length;
  for (let i = 0; i < n; i++) {
    const a = points[i]!;
    const b = points[(i + 1) % n]!;
    if (a[0] === b[0] && a[1] === b[1]) return `points ${i} and ${(i + 1) % n} are the same point`;
  }
  const [o, ...rest] = points;
  if (rest.every((p) => sign(cross(o!, rest[0]!, p)) === 0)) return 'the points lie on one line: the polygon has no area';
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Neighbouring edges share a point by construction; only a real overlap counts for them.
      const adjacent = j === i + 1 || (i === 0 && j === n - 1);
      const p1 = points[i]!;
      const p2 = points[(i + 1) % n]!;
      const q1 = points[j]!;
      const q2 = points[(j + 1) % n]!;
      if (adjacent ? collinearOverlap(p1, p2, q1, q2) : segmentsTouch(p1, p2, q1, q2)) {
        return `the polygon crosses itself: edge ${i}→${(i + 1) % n} meets edge ${j}→${(j + 1) % n}`;
      }
    }
  }
  // A simple polygon whose area is still nil is degenerate in a way the checks above missed.
  if (Math.abs(signedArea(points)) < EPS) return 'the polygon has no area';
  return null;
}

export function signedArea(points: readonly Vec2[]): number {
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i]!;
    const b = points[(i + 1) % points.length]!;
    sum += a[0] * b[1] - b[0] * a[1];
  }
  return sum / 2;
}

const cross = (o: Vec2, a: Vec2, b: Vec2) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
const EPS = 1e-12;
const sign = (v: number) => (v > EPS ? 1 : v < -EPS ? -1 : 0);

function onSegment(p: Vec2, q: Vec2, r: Vec2): boolean {
  return Math.min(p[0], q[0]) - EPS <= r[0] && r[0] <= Math.max(p[0], q[0]) + EPS && Math.min(p[1], q[1]) - EPS <= r[1] && r[1] <= Math.max(p[1], q[1]) + EPS;
}

/** True when the closed segments p1p2 and q1q2 share at least one point. */
export function segmentsTouch(p1: Vec2, p2: Vec2, q1: Vec2, q2: Vec2): boolean {
  const d1 = sign(cross(q1, q2, p1));
  const d2 = sign(cross(q1, q2, p2));
  const d3 = sign(cross(p1, p2, q1));
  const d4 = sign(cross(p1, p2, q2));
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  if (d1 === 0 && onSegment(q1, q2, p1)) return true;
  if (d2 === 0 && onSegment(q1, q2, p2)) return true;
  if (d3 === 0 && onSegment(p1, p2, q1)) return true;
  if (d4 === 0 && onSegment(p1, p2, q2)) return true;
  return false;
}

/** Adjacent edges p1p2 and q1q2 (p2 === q1 or q2 === p1) fold back onto each other. */
function collinearOverlap(p1: Vec2, p2: Vec2, q1: Vec2, q2: Vec2): boolean {
  if (sign(cross(p1, p2, q1)) !== 0 || sign(cross(p1, p2, q2)) !== 0) return false;
  // Collinear neighbours: they overlap when the far end of one lies inside the other.
  const shared = p2[0] === q1[0] && p2[1] === q1[1] ? p2 : p1;
  const pFar = shared === p2 ? p1 : p2;
  const qFar = shared === p2 ? q2 : q1;
  const dot = (pFar[0] - shared[0]) * (qFar[0] - shared[0]) + (pFar[1] - shared[1]) * (qFar[1] - shared[1]);
  return dot > 0;
}
