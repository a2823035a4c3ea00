import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access } from '../access.js';
import type { ApiContext } from '../context.js';

const cameraStatus = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  berth: z.string().nullable(),
  enabled: z.boolean(),
  state: z.string().describe('ok, learning, offline, blackout, covered, frozen, moved, defocused, or unknown (no health row yet)'),
  reason: z.string().nullable(),
  since: z.string().nullable().describe('time of the latest health row'),
  fps: z.number().nullable(),
  last_frame_at: z.string().nullable().describe('latest health row with frames received'),
});

/** Camera status from camera_health: the latest row per camera, and the latest one with frames. */
export function registerCameraRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/cameras',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['cameras'],
        summary: 'every camera with its health state and last frame time',
        response: { 200: z.object({ cameras: z.array(cameraStatus) }) },
      },
    },
    async () => {
      // Health rows come every few seconds per camera; a week bounds the scan.
      const since = new Date(Date.now() - 7 * 86_400_000);
      const { latest, frames } = await ctx.read(async (db) => ({
        latest: (await db.query(`SELECT DISTINCT ON (camera) camera, time, state, reason, metrics FROM camera_health WHERE time >= $1 ORDER BY camera, time DESC`, [since])).rows,
        frames: (
          await db.query(
            `SELECT camera, max(time) AS t FROM camera_health WHERE time >= $1 AND jsonb_typeof(metrics->'fps') = 'number' AND (metrics->>'fps')::double precision > 0 GROUP BY camera`,
            [since],
          )
        ).rows,
      }));
      const byId = new Map(latest.map((r) => [r.camera as string, r]));
      const frameAt = new Map(frames.map((r) => [r.camera as string, r.t]));
      const ids = ctx.site ? ctx.site.cameras.map((c) => c.id) : [...byId.keys()].sort();
      return {
        cameras: ids.map((id) => {
          const c = ctx.site?.cameras.find((x) => x.id === id);
          const h = byId.get(id);
          const metrics = (typeof h?.metrics === 'string' ? JSON.parse(h.metrics) : h?.metrics) ?? {};
          const f = frameAt.get(id);
          return {
            id,
            name: c?.name ?? id,
            kind: c?.kind ?? 'unknown',
            berth: c?.berth ?? null,
            enabled: c?.enabled ?? true,
            state: h?.state ?? 'unknown',
            reason: h?.reason ?? null,
            since: h ? new Date(h.time).toISOString() : null,
            fps: typeof metrics.fps === 'number' ? metrics.fps : null,
            last_frame_at: f ? new Date(f).toISOString() : null,
          };
        }),
      };
    },
  );
}
