import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access } from '../access.js';
import type { ApiContext } from '../context.js';
import { csvLine } from '../csv.js';
import { notFound } from '../errors.js';
import { BUCKETS, bucketParam, formatParam, idParam, timeRange } from '../params.js';

const detectionRow = z.object({ bucket: z.string(), camera: z.string(), class: z.string(), detections: z.number(), mean_score: z.number().nullable() });
const zoneRow = z.object({ bucket: z.string(), camera: z.string(), zone: z.string(), kind: z.string(), events: z.number() });

/** Rows an answer may hold: detections per camera and class per bucket are few, and capped. */
const MAX_ROWS = 100_000;

/**
 * Detections per camera and class over time (from the detections_hourly
 * aggregate), and camera events per zone (from the events hypertable, which
 * has no rollup by zone).
 */
export function registerAnalyticsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const bk = (x: string) => (ctx.store.capabilities.timescale ? `time_bucket($3::interval, ${x})` : `date_bin($3::interval, ${x}, timestamptz '2000-01-03 00:00:00+00')`);
  const knownCamera = (id: string) => !ctx.site || ctx.site.cameras.some((c) => c.id === id);

  const sendRows = <R extends Record<string, unknown>>(reply: any, format: 'json' | 'csv', name: string, columns: string[], rows: R[]) => {
    if (format === 'csv') {
      reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`);
      return reply.send(csvLine(columns) + rows.map((row) => csvLine(columns.map((c) => row[c]))).join(''));
    }
    return reply.send({ rows });
  };

  r.get(
    '/api/analytics/detections',
    {
      schema: {
        ...access('admin', 'analyst', 'operator'),
        tags: ['analytics'],
        summary: 'detections per camera and class per bucket',
        querystring: timeRange({ bucket: bucketParam.default('1h'), camera: idParam.optional(), class: idParam.optional(), format: formatParam }, 400),
        response: { 200: z.object({ rows: z.array(detectionRow) }) },
      },
    },
    async (req, reply) => {
      const { from, to, bucket, camera, format } = req.query;
      if (camera && !knownCamera(camera)) throw notFound(`camera ${camera}`);
      const rows = await ctx.read(
        async (db) =>
          (
            await db.query(
              `SELECT ${bk('bucket')} AS b, camera, class, sum(detections)::bigint AS detections,
                      (sum(mean_score * detections) / nullif(sum(detections), 0))::double precision AS mean_score
               FROM detections_hourly
               WHERE bucket >= ${bk('$1::timestamptz')} AND bucket < $2 AND ($4::text IS NULL OR camera = $4) AND ($5::text IS NULL OR class = $5)
               GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LIMIT ${MAX_ROWS}`,
              [from, to, BUCKETS[bucket], camera ?? null, req.query.class ?? null],
            )
          ).rows,
      );
      const out = rows.map((x) => ({ bucket: new Date(x.b).toISOString(), camera: x.camera, class: x.class, detections: Number(x.detections), mean_score: x.mean_score === null ? null : Number(x.mean_score) }));
      return sendRows(reply, format, 'detections', ['bucket', 'camera', 'class', 'detections', 'mean_score'], out);
    },
  );

  r.get(
    '/api/analytics/zones',
    {
      schema: {
        ...access('admin', 'analyst', 'operator'),
        tags: ['analytics'],
        summary: 'camera events per zone and kind per bucket',
        querystring: timeRange({ bucket: bucketParam.default('1h'), camera: idParam.optional(), zone: idParam.optional(), format: formatParam }, 400),
        response: { 200: z.object({ rows: z.array(zoneRow) }) },
      },
    },
    async (req, reply) => {
      const { from, to, bucket, camera, zone, format } = req.query;
      if (camera && !knownCamera(camera)) throw notFound(`camera ${camera}`);
      const rows = await ctx.read(
        async (db) =>
          (
            await db.query(
              `SELECT ${bk('time')} AS b, camera, zone, kind, count(*)::bigint AS events
               FROM events
               WHERE time >= ${bk('$1::timestamptz')} AND time < $2 AND zone IS NOT NULL AND camera IS NOT NULL AND phase IN ('start', 'instant')
                 AND ($4::text IS NULL OR camera = $4) AND ($5::text IS NULL OR zone = $5)
               GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 LIMIT ${MAX_ROWS}`,
              [from, to, BUCKETS[bucket], camera ?? null, zone ?? null],
            )
          ).rows,
      );
      const out = rows.map((x) => ({ bucket: new Date(x.b).toISOString(), camera: x.camera, zone: x.zone, kind: x.kind, events: Number(x.events) }));
      return sendRows(reply, format, 'zones', ['bucket', 'camera', 'zone', 'kind', 'events'], out);
    },
  );
}
