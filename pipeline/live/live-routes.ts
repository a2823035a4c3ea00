import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access } from '../api/access.js';
import { ApiError, notFound } from '../api/errors.js';
import { idParam } from '../api/params.js';
import type { SiteConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { Queryable } from '../store/index.js';
import { CameraStills } from './camera-still.js';
import { LiveViewHub } from './live-view-hub.js';

export interface LiveRoutesOptions {
  ffmpegPath?: string;
  lingerMs?: number;
}

/**
 * GET /api/live/:camera: the camera's live picture as one fragmented MP4
 * response for Media Source Extensions (web/src/live-player.tsx); GET
 * /api/live/:camera/still: a recent JPEG for the camera grid. Registered by
 * the API server; the hub's ffmpegs end with the server.
 */
export function registerLiveRoutes(app: FastifyInstance, ctx: { site: SiteConfig | null; logger: Logger; read?: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T> }, o: LiveRoutesOptions = {}): LiveViewHub {
  /** A body-worn recorder is watched only while the inspector wearing it has an open job (assigned or acknowledged). */
  const inspectorOnJob = async (inspector: string): Promise<boolean> =>
    ctx.read ? ctx.read(async (db) => (await db.query(`SELECT 1 FROM inspections WHERE inspector = $1 AND state IN ('assigned', 'acknowledged') LIMIT 1`, [inspector])).rows.length > 0) : false;
  const stills = new CameraStills(o.ffmpegPath ? { ffmpegPath: o.ffmpegPath } : {});
  const hub = new LiveViewHub({ logger: ctx.logger, ...(o.ffmpegPath ? { ffmpegPath: o.ffmpegPath } : {}), ...(o.lingerMs !== undefined ? { lingerMs: o.lingerMs } : {}) });
  app.addHook('onClose', async () => hub.close());
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/live/:camera',
    {
      schema: {
        ...access('admin', 'operator'),
        tags: ['cameras'],
        summary: "a camera's live picture: its H.264 copied (never re-encoded) into fragmented MP4, for Media Source Extensions",
        params: z.object({ camera: idParam }),
        querystring: z.object({ stream: z.enum(['main', 'sub']).default('main').describe('sub: the camera sub-stream, when it has one') }),
      },
    },
    async (request, reply) => {
      const camera = ctx.site?.cameras.find((c) => c.id === request.params.camera);
      if (!camera) throw notFound(`camera ${request.params.camera}`);
      if (!camera.enabled) throw new ApiError(409, 'conflict', `camera ${camera.id} is disabled in the site file (enabled: false)`);
      if (camera.kind === 'body_worn' && !(await inspectorOnJob(camera.inspector ?? ''))) {
        throw new ApiError(409, 'conflict', `camera ${camera.id} is a body-worn recorder: it is shown live only while its inspector (${camera.inspector}) has an open job`);
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'video/mp4', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      const stop = hub.watch(camera.id, { streams: camera.streams, sub: request.query.stream === 'sub' }, {
        write: (chunk) => void res.write(chunk),
        backlog: () => res.writableLength,
        end: () => res.end(),
      });
      res.once('close', stop);
    },
  );
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/live/:camera/still',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['cameras'],
        summary: "a recent still of the camera (JPEG from its sub-stream, at most 30 s old)",
        params: z.object({ camera: idParam }),
      },
    },
    async (request, reply) => {
      const camera = ctx.site?.cameras.find((c) => c.id === request.params.camera);
      if (!camera) throw notFound(`camera ${request.params.camera}`);
      if (!camera.enabled) throw new ApiError(409, 'conflict', `camera ${camera.id} is disabled in the site file (enabled: false)`);
      let jpeg: Buffer;
      try {
        jpeg = await stills.get(camera.id, camera.streams);
      } catch (err) {
        throw new ApiError(503, 'unavailable', `camera ${camera.id}: ${(err as Error).message}`);
      }
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'private, max-age=30').send(jpeg);
    },
  );
  return hub;
}
