import type { Queryable } from '../store/index.js';

export interface TrackPoint {
  time: string;
  lat: number | null;
  lon: number | null;
  speed: number | null;
  course: number | null;
  heading: number | null;
  berth: string | null;
}

export const TRACK_COLUMNS = ['time', 'lat', 'lon', 'speed', 'course', 'heading', 'berth'] as const;

const toPoint = (r: Record<string, any>): TrackPoint => ({
  time: new Date(r.time).toISOString(),
  lat: r.lat,
  lon: r.lon,
  speed: r.speed,
  course: r.course,
  heading: r.heading,
  berth: r.berth ?? null,
});

/** Up to `limit` fixes of a vessel after `after` (exclusive) and before `to`, oldest first. */
export async function queryTrack(db: Queryable, mmsi: number, after: Date, to: Date, limit: number, inclusive = false): Promise<TrackPoint[]> {
  const r = await db.query(
    `SELECT time, lat, lon, speed, course, heading, berth FROM ais_positions
     WHERE mmsi = $1 AND time ${inclusive ? '>=' : '>'} $2 AND time < $3 ORDER BY time, id LIMIT $4`,
    [mmsi, after, to, limit],
  );
  return r.rows.map(toPoint);
}

/**
 * The whole range in pages (keyset on time), for streaming: memory stays one
 * page however long the track. Fixes sharing a timestamp with a page's last
 * one are read again by the next query (>=) and skipped by count, ties
 * ordered by id so the count is exact.
 */
export async function* trackChunks(run: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T>, mmsi: number, from: Date, to: Date, pageSize = 5000): AsyncGenerator<TrackPoint[]> {
  let after = from;
  let inclusive = true;
  let skipAtAfter = 0;
  for (;;) {
    const page = await run((db) => queryTrack(db, mmsi, after, to, pageSize + skipAtAfter, inclusive));
    const fresh = page.slice(skipAtAfter);
    if (fresh.length > 0) yield fresh;
    if (page.length < pageSize + skipAtAfter) return;
    const last = page.at(-1)!.time;
    // Fixes at exactly `last` may continue on the next page: re-read from it, skipping those already sent.
    skipAtAfter = page.filter((p) => p.time === last).length;
    after = new Date(last);
    inclusive = true;
  }
}
