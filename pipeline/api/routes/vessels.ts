import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access } from '../access.js';
import type { ApiContext } from '../context.js';
import { csvStream } from '../csv.js';
import { ApiError, notFound } from '../errors.js';
import { formatParam, isoTime, limitParam, mmsiParam, timeRange } from '../params.js';
import { TRACK_COLUMNS, queryTrack, trackChunks } from '../vessel-track.js';

const vesselSchema = z.object({
  mmsi: z.number(),
  name: z.string().nullable(),
  imo: z.number().nullable(),
  time: z.string(),
  lat: z.number(),
  lon: z.number(),
  sog: z.number().nullable(),
  cog: z.number().nullable(),
  heading: z.number().nullable(),
  berth: z.string().nullable(),
  berth_since: z.string().nullable(),
  risk_level: z.string().nullable(),
  risk_score: z.number().nullable(),
});

const trackPoint = z.object({ time: z.string(), lat: z.number().nullable(), lon: z.number().nullable(), speed: z.number().nullable(), course: z.number().nullable(), heading: z.number().nullable(), berth: z.string().nullable() });

/** Points a JSON track answer may hold; longer ranges are streamed as CSV. */
const MAX_JSON_POINTS = 50_000;

export function registerVesselRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/vessels',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['vessels'],
        summary: 'vessels seen since a time: latest position, name, speed, heading, berth, risk',
        querystring: z.strictObject({ since: isoTime.optional().describe('default: 24 hours ago'), limit: limitParam(5000, 1000) }),
        response: { 200: z.object({ vessels: z.array(vesselSchema) }) },
      },
    },
    async (req) => {
      const since = req.query.since ?? new Date(Date.now() - 86_400_000);
      const rows = await ctx.read(
        async (db) =>
          (
            await db.query(
              `SELECT v.mmsi, v.name, v.imo, p.time, p.lat, p.lon, p.speed, p.course, p.heading, bv.berth, bv.arrived_at, rs.level, rs.score
               FROM vessels v
               JOIN LATERAL (SELECT time, lat, lon, speed, course, heading FROM ais_positions
                             WHERE mmsi = v.mmsi AND time >= $1 AND lat IS NOT NULL AND lon IS NOT NULL ORDER BY time DESC LIMIT 1) p ON true
               LEFT JOIN LATERAL (SELECT berth, arrived_at FROM berth_visits WHERE mmsi = v.mmsi AND departed_at IS NULL ORDER BY arrived_at DESC LIMIT 1) bv ON true
               LEFT JOIN LATERAL (SELECT level, score FROM risk_scores WHERE mmsi = v.mmsi ORDER BY time DESC LIMIT 1) rs ON true
               WHERE v.last_seen >= $1
               ORDER BY v.mmsi LIMIT $2`,
              [since, req.query.limit],
            )
          ).rows,
      );
      return {
        vessels: rows.map((v) => ({
          mmsi: v.mmsi,
          name: v.name ?? null,
          imo: v.imo ?? null,
          time: new Date(v.time).toISOString(),
          lat: v.lat,
          lon: v.lon,
          sog: v.speed ?? null,
          cog: v.course ?? null,
          heading: v.heading ?? null,
          berth: v.berth ?? null,
          berth_since: v.arrived_at ? new Date(v.arrived_at).toISOString() : null,
          risk_level: v.level ?? null,
          risk_score: v.score ?? null,
        })),
      };
    },
  );

  r.get(
    '/api/vessels/:mmsi/track',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['vessels', 'analytics'],
        summary: "a vessel's AIS fixes over a range, oldest first (format=csv streams any length)",
        params: z.strictObject({ mmsi: mmsiParam }),
        querystring: timeRange({ format: formatParam }, 400),
        response: { 200: z.object({ mmsi: z.number(), points: z.array(trackPoint) }) },
      },
    },
    async (req, reply) => {
      const { mmsi } = req.params;
      const { from, to, format } = req.query;
      const known = await ctx.read(async (db) => (await db.query('SELECT 1 FROM vessels WHERE mmsi = $1', [mmsi])).rows.length > 0);
      if (!known) throw notFound(`vessel ${mmsi}`);
      if (format === 'csv') {
        reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="track-${mmsi}.csv"`);
        return reply.send(csvStream(TRACK_COLUMNS, trackChunks(ctx.read, mmsi, from, to), (p) => TRACK_COLUMNS.map((c) => p[c])) as never);
      }
      const points = await ctx.read((db) => queryTrack(db, mmsi, from, to, MAX_JSON_POINTS + 1, true));
      if (points.length > MAX_JSON_POINTS) {
        throw new ApiError(400, 'bad_request', `query.to: the range holds more than ${MAX_JSON_POINTS} fixes; narrow it or ask for format=csv, which streams any length`, 'query.to');
      }
      return { mmsi, points };
    },
  );
}
