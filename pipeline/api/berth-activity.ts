import { MIGRATIONS, type Capabilities, type Queryable } from '../store/index.js';
import { BUCKETS, BUCKET_MS, type Bucket } from './params.js';

/**
 * A berth's activity per time bucket: occupancy, arrivals, departures, dwell,
 * detections by class on the berth's cameras, and alerts. One implementation,
 * shared by `GET /api/berths/{id}/activity` and `portwatch query berth-activity`.
 *
 * Served from the hourly continuous aggregates (berth_occupancy_hourly,
 * berth_activity_hourly, detections_hourly). They are created with
 * materialized_only = false, so TimescaleDB answers from the materialised hours
 * and reads the raw hypertables only for the tail its refresh policy has not
 * reached yet. Dwell comes from berth_visits (a small mutable table) and alerts
 * from the alerts table. Buckets are gap-filled: time_bucket_gapfill on
 * TimescaleDB targets, generate_series on plain PostgreSQL (whose "aggregates"
 * are views over the raw tables).
 *
 * `source: 'raw'` runs the same query with each aggregate replaced by its own
 * defining SELECT over the raw hypertable: the benchmark's peer, and a check
 * that both give the same numbers.
 */

export interface BerthActivityQuery {
  berth: string;
  from: Date;
  to: Date;
  bucket: Bucket;
  /** The cameras watching the berth (the site file's cameras with this berth). */
  cameras: readonly string[];
  source?: 'aggregate' | 'raw';
}

export interface BerthActivityRow {
  bucket: string;
  /** Distinct vessels with a fix inside the berth during the bucket. */
  vessels: number;
  /** Of those, vessels moored (most fixes below 0.5 kn) in at least one hour of the bucket. */
  vessels_moored: number;
  /** Vessel-hours at the berth (a stay's inner hours whole, its ends from first/last fix). */
  vessel_hours: number;
  /** vessel_hours over the bucket's hours: the mean number of vessels at the berth. */
  occupancy: number;
  arrivals: number;
  departures: number;
  /** Mean stay of the visits that ended in the bucket, hours; null without a departure. */
  mean_dwell_hours: number | null;
  camera_events: number;
  alerts: number;
  detections: number;
  detections_by_class: Record<string, number>;
}

export const BERTH_ACTIVITY_COLUMNS = [
  'bucket',
  'vessels',
  'vessels_moored',
  'vessel_hours',
  'occupancy',
  'arrivals',
  'departures',
  'mean_dwell_hours',
  'camera_events',
  'alerts',
  'detections',
  'detections_by_class',
] as const;

/** TimescaleDB's default bucket origin (a Monday), also used by date_bin on plain PostgreSQL: the same buckets everywhere. */
const ORIGIN_MS = Date.UTC(2000, 0, 3);

export function bucketStart(t: Date, bucket: Bucket): Date {
  const w = BUCKET_MS[bucket];
  return new Date(ORIGIN_MS + Math.floor((t.getTime() - ORIGIN_MS) / w) * w);
}

export function bucketCount(from: Date, to: Date, bucket: Bucket): number {
  return Math.ceil((to.getTime() - bucketStart(from, bucket).getTime()) / BUCKET_MS[bucket]);
}

function rawAggregate(caps: Capabilities, name: string): string {
  for (const m of MIGRATIONS) {
    for (const step of m.steps) {
      if ('aggregate' in step && step.aggregate.name === name) {
        const a = step.aggregate;
        return `(${a.select.replaceAll('{{bucket}}', caps.bucket(a.bucket.width, a.bucket.column))})`;
      }
    }
  }
  throw new Error(`no aggregate named ${name} in the migrations`);
}

/**
 * The SQL text. Parameters: $1 berth, $2 from, $3 to, $4 bucket interval, $5 camera ids.
 * Only relation names and the target's bucketing function are put into the text,
 * both from code; every value from a request is bound.
 */
export function berthActivitySql(caps: Capabilities, source: 'aggregate' | 'raw' = 'aggregate'): string {
  const rel = (name: string) => (source === 'raw' ? rawAggregate(caps, name) : name);
  const bk = (x: string) => (caps.timescale ? `time_bucket($4::interval, ${x})` : `date_bin($4::interval, ${x}, timestamptz '2000-01-03 00:00:00+00')`);
  const spine = caps.timescale
    ? `SELECT time_bucket_gapfill($4::interval, t, $2::timestamptz, $3::timestamptz) AS b FROM (SELECT $2::timestamptz AS t) s GROUP BY 1`
    : `SELECT generate_series(${bk('$2::timestamptz')}, $3::timestamptz - interval '1 microsecond', $4::interval) AS b`;
  const lo = bk('$2::timestamptz');
  return `
WITH spine AS (${spine}),
stays AS (
  SELECT o.bucket, o.mmsi, o.fixes, o.moored_fixes,
         CASE WHEN lag(o.bucket) OVER w = o.bucket - interval '1 hour' THEN o.bucket ELSE o.first_seen END AS stay_start,
         CASE WHEN lead(o.bucket) OVER w = o.bucket + interval '1 hour' THEN o.bucket + interval '1 hour' ELSE o.last_seen END AS stay_end
  FROM ${rel('berth_occupancy_hourly')} o
  WHERE o.berth = $1 AND o.bucket >= ${lo} - interval '1 hour' AND o.bucket < $3::timestamptz + interval '1 hour'
  WINDOW w AS (PARTITION BY o.mmsi ORDER BY o.bucket)
),
occ AS (
  SELECT ${bk('bucket')} AS b, count(DISTINCT mmsi) AS vessels,
         count(DISTINCT mmsi) FILTER (WHERE moored_fixes * 2 >= fixes) AS vessels_moored,
         sum(extract(epoch FROM stay_end - stay_start)) / 3600.0 AS vessel_hours
  FROM stays WHERE bucket >= ${lo} AND bucket < $3::timestamptz GROUP BY 1
),
act AS (
  SELECT ${bk('bucket')} AS b, sum(arrivals) AS arrivals, sum(departures) AS departures, sum(camera_events) AS camera_events
  FROM ${rel('berth_activity_hourly')} a
  WHERE a.berth = $1 AND a.bucket >= ${lo} AND a.bucket < $3::timestamptz GROUP BY 1
),
dwell AS (
  SELECT ${bk('departed_at')} AS b, avg(extract(epoch FROM departed_at - arrived_at)) / 3600.0 AS mean_dwell_hours
  FROM berth_visits WHERE berth = $1 AND departed_at >= ${lo} AND departed_at < $3::timestamptz GROUP BY 1
),
al AS (
  SELECT ${bk('first_at')} AS b, count(*) AS alerts
  FROM alerts WHERE berth = $1 AND first_at >= ${lo} AND first_at < $3::timestamptz GROUP BY 1
),
det_class AS (
  SELECT ${bk('bucket')} AS b, class, sum(detections) AS n
  FROM ${rel('detections_hourly')} d
  WHERE d.camera = ANY($5::text[]) AND d.bucket >= ${lo} AND d.bucket < $3::timestamptz GROUP BY 1, 2
),
det AS (SELECT b, sum(n) AS detections, jsonb_object_agg(class, n) AS by_class FROM det_class GROUP BY b)
SELECT spine.b AS bucket,
       coalesce(occ.vessels, 0)::int AS vessels,
       coalesce(occ.vessels_moored, 0)::int AS vessels_moored,
       coalesce(occ.vessel_hours, 0)::double precision AS vessel_hours,
       (coalesce(occ.vessel_hours, 0) * 3600.0 / extract(epoch FROM $4::interval))::double precision AS occupancy,
       coalesce(act.arrivals, 0)::int AS arrivals,
       coalesce(act.departures, 0)::int AS departures,
       dwell.mean_dwell_hours::double precision AS mean_dwell_hours,
       coalesce(act.camera_events, 0)::int AS camera_events,
       coalesce(al.alerts, 0)::int AS alerts,
       coalesce(det.detections, 0)::int AS detections,
       coalesce(det.by_class, '{}'::jsonb) AS detections_by_class
FROM spine
LEFT JOIN occ ON occ.b = spine.b
LEFT JOIN act ON act.b = spine.b
LEFT JOIN dwell ON dwell.b = spine.b
LEFT JOIN al ON al.b = spine.b
LEFT JOIN det ON det.b = spine.b
WHERE spine.b < $3::timestamptz
ORDER BY spine.b`;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

function toRow(r: Record<string, any>): BerthActivityRow {
  const byClass = typeof r.detections_by_class === 'string' ? JSON.parse(r.detections_by_class) : (r.detections_by_class ?? {});
  return {
    bucket: new Date(r.bucket).toISOString(),
    vessels: Number(r.vessels),
    vessels_moored: Number(r.vessels_moored),
    vessel_hours: round(Number(r.vessel_hours)),
    occupancy: round(Number(r.occupancy)),
    arrivals: Number(r.arrivals),
    departures: Number(r.departures),
    mean_dwell_hours: r.mean_dwell_hours === null || r.mean_dwell_hours === undefined ? null : round(Number(r.mean_dwell_hours)),
    camera_events: Number(r.camera_events),
    alerts: Number(r.alerts),
    detections: Number(r.detections),
    detections_by_class: Object.fromEntries(Object.entries(byClass as Record<string, unknown>).map(([k, v]) => [k, Number(v)]).sort((x, y) => (x[0]! < y[0]! ? -1 : 1))),
  };
}

/** One window's rows (use `berthActivityChunks` for long ranges). */
export async function queryBerthActivity(db: Queryable, caps: Capabilities, q: BerthActivityQuery): Promise<BerthActivityRow[]> {
  const r = await db.query(berthActivitySql(caps, q.source), [q.berth, q.from, q.to, BUCKETS[q.bucket], [...q.cameras]]);
  return r.rows.map(toRow);
}

/**
 * The range in windows of at most `bucketsPerChunk` buckets, each one query:
 * memory stays bounded however long the range (the CSV export streams these).
 * Windows start on bucket boundaries, so the buckets are those of one query.
 */
export async function* berthActivityChunks(
  run: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T>,
  caps: Capabilities,
  q: BerthActivityQuery,
  bucketsPerChunk = 2000,
): AsyncGenerator<BerthActivityRow[]> {
  const w = BUCKET_MS[q.bucket];
  let start = bucketStart(q.from, q.bucket).getTime();
  while (start < q.to.getTime()) {
    const end = Math.min(start + bucketsPerChunk * w, q.to.getTime());
    const from = new Date(start);
    yield await run((db) => queryBerthActivity(db, caps, { ...q, from, to: new Date(end) }));
    start = end;
  }
}
