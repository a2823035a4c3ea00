import type { Queryable } from '../store/index.js';

/** Occupancy of one berth in one hour. */
export interface BerthOccupancyHour {
  berth: string;
  hour: Date;
  /** Vessel-hours spent at the berth within the hour (two ships for the whole hour: 2). */
  vessel_hours: number;
  vessels: number;
  arrivals: number;
  departures: number;
}

/**
 * Occupancy per berth per hour, computed from `berth_visits` (a visit still
 * open counts up to `$3`, "now"). Parameters: $1 from, $2 to, $3 now.
 *
 * Why a query and not a continuous aggregate: a visit is one mutable row
 * (departed_at arrives later) spanning many hours, while a continuous
 * aggregate needs an append-only hypertable and one bucket per row. The
 * schema's `berth_activity_hourly` aggregate counts arrivals/departures from
 * `events`; this spreads each visit over the hours it covers.
 */
export const BERTH_OCCUPANCY_HOURLY_SQL = `
SELECT v.berth,
       h.hour,
       sum(extract(epoch FROM least(coalesce(v.departed_at, $3::timestamptz), h.hour + interval '1 hour') - greatest(v.arrived_at, h.hour))) / 3600.0 AS vessel_hours,
       count(DISTINCT v.mmsi)::int AS vessels,
       count(*) FILTER (WHERE v.arrived_at >= h.hour AND v.arrived_at < h.hour + interval '1 hour')::int AS arrivals,
       count(*) FILTER (WHERE v.departed_at >= h.hour AND v.departed_at < h.hour + interval '1 hour')::int AS departures
FROM berth_visits v
CROSS JOIN LATERAL generate_series(
  date_trunc('hour', greatest(v.arrived_at, $1::timestamptz), 'UTC'),
  least(coalesce(v.departed_at, $3::timestamptz), $2::timestamptz),
  interval '1 hour') AS h(hour)
WHERE v.arrived_at < $2::timestamptz
  AND coalesce(v.departed_at, $3::timestamptz) > $1::timestamptz
  AND least(coalesce(v.departed_at, $3::timestamptz), h.hour + interval '1 hour') > greatest(v.arrived_at, h.hour)
GROUP BY v.berth, h.hour
ORDER BY v.berth, h.hour`;

export async function berthOccupancyHourly(q: Queryable, from: Date, to: Date, now: Date = to): Promise<BerthOccupancyHour[]> {
  const r = await q.query<{ berth: string; hour: Date | string; vessel_hours: number | string; vessels: number; arrivals: number; departures: number }>(
    BERTH_OCCUPANCY_HOURLY_SQL,
    [from, to, now],
  );
  return r.rows.map((row) => ({
    berth: row.berth,
    hour: new Date(row.hour),
    vessel_hours: Number(row.vessel_hours),
    vessels: Number(row.vessels),
    arrivals: Number(row.arrivals),
    departures: Number(row.departures),
  }));
}
