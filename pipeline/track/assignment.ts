/**
 * Minimum-cost assignment with a cost limit (Hungarian method, O(n³)).
 *
 * The matrix is extended the way `lapjv`'s `cost_limit` does in ByteTrack:
 * every row and every column may instead go to a dummy partner at cost
 * limit/2, so a pair costing more than `limit` is never preferred to leaving
 * both unmatched, and a pair at or under the limit always is. This gives the
 * optimal thresholded matching, which plain Hungarian followed by a filter
 * does not (it can trade a good pair for two bad ones it later throws away).
 */
export interface Assignment {
  /** [row, column] pairs, each with cost <= limit. */
  matches: Array<[number, number]>;
  unmatchedRows: number[];
  unmatchedCols: number[];
}

export function assign(cost: number[][], limit: number, columns?: number): Assignment {
  const rows = cost.length;
  // With no rows the matrix cannot tell how many columns there are.
  const cols = columns ?? cost[0]?.length ?? 0;
  if (rows === 0 || cols === 0) {
    return { matches: [], unmatchedRows: range(rows), unmatchedCols: range(cols) };
  }
  // Rows and columns with no admissible partner are unmatched whatever the
  // rest does; dropping them first keeps sparse scenes (most pairs do not
  // overlap at all) cheap.
  const liveRows: number[] = [];
  const colAdmissible = new Array<boolean>(cols).fill(false);
  for (let i = 0; i < rows; i++) {
    let any = false;
    const row = cost[i]!;
    for (let j = 0; j < cols; j++) {
      const c = row[j]!;
      if (Number.isFinite(c) && c <= limit) {
        any = true;
        colAdmissible[j] = true;
      }
    }
    if (any) liveRows.push(i);
  }
  const liveCols = range(cols).filter((j) => colAdmissible[j]);
  const r = liveRows.length;
  const c = liveCols.length;
  const n = r + c;
  const half = limit / 2;
  // Pairs over the limit cost more than two dummies, so they are never chosen.
  const forbidden = limit + 1;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v: number;
      if (i < r && j < c) {
        const x = cost[liveRows[i]!]![liveCols[j]!]!;
        v = Number.isFinite(x) && x <= limit ? x : forbidden;
      } else if (i < r || j < c) v = half;
      else v = 0;
      a[i * n + j] = v;
    }
  }
  const colOfRow = n > 0 ? hungarian(n, a) : [];
  const matches: Array<[number, number]> = [];
  const rowUsed = new Array<boolean>(rows).fill(false);
  const colUsed = new Array<boolean>(cols).fill(false);
  for (let i = 0; i < r; i++) {
    const j = colOfRow[i]!;
    if (j < c && a[i * n + j]! <= limit) {
      const ri = liveRows[i]!;
      const cj = liveCols[j]!;
      matches.push([ri, cj]);
      rowUsed[ri] = true;
      colUsed[cj] = true;
    }
  }
  return {
    matches,
    unmatchedRows: range(rows).filter((i) => !rowUsed[i]),
    unmatchedCols: range(cols).filter((j) => !colUsed[j]),
  };
}

/** Square Hungarian with potentials (Kuhn–Munkres, shortest augmenting paths); returns the column of each row. */
function hungarian(n: number, a: Float64Array): number[] {
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1); // p[j]: row (1-based) assigned to column j
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(INF);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = a[(i0 - 1) * n + j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const colOfRow = new Array<number>(n).fill(-1);
  for (let j = 1; j <= n; j++) if (p[j]! > 0) colOfRow[p[j]! - 1] = j - 1;
  return colOfRow;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
