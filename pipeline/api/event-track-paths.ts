import type { Queryable } from '../store/index.js';

/** Where an alert's object went: the track path its event carried (normalised ground points, oldest first). */
export interface EventTrackPath {
  event: string;
  track: number | null;
  points: [number, number][];
}

/** Camera events keep at most 32 points (pipeline/zones); a longer stored list is cut to its end. */
const MAX_POINTS = 64;

const isPoint = (p: unknown): p is [number, number] =>
  Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= -1 && v <= 2);

/**
 * The latest stored track path of each event, for the events of one alert's
 * objects. Events are keyed by (id, time) in a hypertable: the objects' first
 * and last times bound the chunks read. Points that are not [x, y] numbers
 * near the picture are left out (rows written before paths were stored have none).
 */
export async function eventTrackPaths(q: Queryable, objects: ReadonlyArray<{ event: string; first: Date; last: Date }>): Promise<EventTrackPath[]> {
  const ids = [...new Set(objects.map((o) => o.event))].filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  if (ids.length === 0) return [];
  const from = new Date(Math.min(...objects.map((o) => o.first.getTime())) - 60_000);
  const to = new Date(Math.max(...objects.map((o) => o.last.getTime())) + 60_000);
  const rows = (
    await q.query(
      `SELECT DISTINCT ON (id) id::text AS id, track, details->'track_path' AS path FROM events
        WHERE id = ANY($1::uuid[]) AND time >= $2 AND time <= $3 AND details ? 'track_path'
        ORDER BY id, time DESC`,
      [ids, from, to],
    )
  ).rows;
  return rows
    .map((r) => ({ event: r.id as string, track: r.track ?? null, points: (Array.isArray(r.path) ? (r.path as unknown[]) : []).filter(isPoint).slice(-MAX_POINTS) }))
    .filter((p) => p.points.length > 1);
}
