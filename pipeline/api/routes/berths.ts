import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access } from '../access.js';
import { BERTH_ACTIVITY_COLUMNS, berthActivityChunks, bucketCount, type BerthActivityRow } from '../berth-activity.js';
import type { ApiContext } from '../context.js';
import { csvStream } from '../csv.js';
import { ApiError, notFound } from '../errors.js';
import { bucketParam, formatParam, idParam, timeRange } from '../params.js';
import { CLOSED_ALERT_STATES } from '../alert-states.js';

const activityRow = z.object({
  bucket: z.string(),
  vessels: z.number(),
  vessels_moored: z.number(),
  vessel_hours: z.number(),
  occupancy: z.number(),
  arrivals: z.number(),
  departures: z.number(),
  mean_dwell_hours: z.number().nullable(),
  camera_events: z.number(),
  alerts: z.number(),
  detections: z.number(),
  detections_by_class: z.record(z.string(), z.number()),
});

const berthStatus = z.object({
  id: z.string(),
  name: z.string(),
  vessel: z.object({ mmsi: z.number(), name: z.string().nullable(), since: z.string(), risk_level: z.string().nullable(), risk_score: z.number().nullable() }).nullable(),
  open_alerts: z.number(),
});

/** Buckets a JSON answer may hold; longer series are streamed as CSV. */
export const MAX_JSON_BUCKETS = 5000;

/** The cameras watching a berth: the site file's cameras that name it. */
export function berthCameras(ctx: ApiContext, berth: string): string[] {
  return (ctx.site?.cameras ?? []).filter((c) => c.berth === berth).map((c) => c.id);
}

export function berthActivityCsvValues(r: BerthActivityRow): unknown[] {
  return BERTH_ACTIVITY_COLUMNS.map((c) =>
    c === 'detections_by_class'
      ? Object.entries(r.detections_by_class)
          .map(([k, v]) => `${k}=${v}`)
          .join(';')
      : r[c],
  );
}

export function registerBerthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const knownBerth = (id: string) => !ctx.site || ctx.site.berths.some((b) => b.id === id);

  r.get(
    '/api/berths',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['berths'],
        summary: 'every berth: the vessel at it and since when, its risk, open alerts',
        response: { 200: z.object({ berths: z.array(berthStatus) }) },
      },
    },
    async () => {
      const { visits, alerts } = await ctx.read(async (db) => ({
        visits: (
          await db.query(
            `SELECT DISTINCT ON (bv.berth) bv.berth, bv.mmsi, bv.arrived_at, v.name, rs.level, rs.score
             FROM berth_visits bv
             LEFT JOIN vessels v ON v.mmsi = bv.mmsi
             LEFT JOIN LATERAL (SELECT level, score FROM risk_scores WHERE mmsi = bv.mmsi ORDER BY time DESC LIMIT 1) rs ON true
             WHERE bv.departed_at IS NULL ORDER BY bv.berth, bv.arrived_at DESC`,
          )
        ).rows,
        alerts: (await db.query(`SELECT berth, count(*)::int AS n FROM alerts WHERE berth IS NOT NULL AND NOT (state = ANY($1::text[])) GROUP BY berth`, [CLOSED_ALERT_STATES])).rows,
      }));
      const ids = ctx.site ? ctx.site.berths.map((b) => ({ id: b.id, name: b.name })) : [...new Set(visits.map((v) => v.berth as string))].map((id) => ({ id, name: id }));
      return {
        berths: ids.map((b) => {
          const v = visits.find((x) => x.berth === b.id);
          return {
            id: b.id,
            name: b.name,
            vessel: v ? { mmsi: v.mmsi, name: v.name ?? null, since: new Date(v.arrived_at).toISOString(), risk_level: v.level ?? null, risk_score: v.score ?? null } : null,
            open_alerts: alerts.find((a) => a.berth === b.id)?.n ?? 0,
          };
        }),
      };
    },
  );

  r.get(
    '/api/berths/:id/activity',
    {
      schema: {
        ...access('admin', 'analyst', 'operator'),
        tags: ['berths', 'analytics'],
        summary: "a berth's occupancy, arrivals, departures, dwell, detections by class and alerts per bucket (gap-filled)",
        params: z.strictObject({ id: idParam }),
        querystring: timeRange({ bucket: bucketParam.default('1h'), format: formatParam }, 400),
        response: { 200: z.object({ berth: z.string(), bucket: z.string(), rows: z.array(activityRow) }) },
      },
    },
    async (req, reply) => {
      const berth = req.params.id;
      if (!knownBerth(berth)) throw notFound(`berth ${berth}`);
      const { from, to, bucket, format } = req.query;
      const q = { berth, from, to, bucket, cameras: berthCameras(ctx, berth) };
      if (format === 'csv') {
        reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="berth-${berth}-activity.csv"`);
        return reply.send(csvStream(BERTH_ACTIVITY_COLUMNS, berthActivityChunks(ctx.read, ctx.store.capabilities, q), berthActivityCsvValues) as never);
      }
      if (bucketCount(from, to, bucket) > MAX_JSON_BUCKETS) {
        throw new ApiError(400, 'bad_request', `query.bucket: the range holds more than ${MAX_JSON_BUCKETS} buckets of ${bucket}; widen the bucket, narrow the range, or ask for format=csv`, 'query.bucket');
      }
      const rows: BerthActivityRow[] = [];
      for await (const chunk of berthActivityChunks(ctx.read, ctx.store.capabilities, q)) rows.push(...chunk);
      return { berth, bucket, rows };
    },
  );
}
