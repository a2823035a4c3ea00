import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BOARD_MESSAGE_TYPES } from '../../board/index.js';
import { access } from '../access.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { LiveStreamHub } from '../live-stream-hub.js';

export type { LiveStreamHub };

const streamId = z.string().regex(/^\d{1,15}-\d{1,10}$/, 'Last-Event-ID is an event id as the stream sent it (<ms>-<seq>)');
const typeList = z
  .string()
  .max(100)
  .transform((s, c) => {
    const types = s.split(',').map((t) => t.trim());
    const bad = types.find((t) => !(BOARD_MESSAGE_TYPES as readonly string[]).includes(t));
    if (bad !== undefined) {
      c.addIssue({ code: 'custom', message: `types is a comma-separated list of ${BOARD_MESSAGE_TYPES.join(', ')}` });
      return z.NEVER;
    }
    return new Set(types);
  });

/** GET /api/stream: the board as server-sent events, resumable with Last-Event-ID. */
export function registerStreamRoutes(app: FastifyInstance, ctx: ApiContext): LiveStreamHub {
  const hub = ctx.board ? new LiveStreamHub({ board: ctx.board, logger: ctx.logger.child({ stage: 'live-stream' }) }) : null;
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/stream',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['stream'],
        summary: 'alert, camera, berth and dispatch changes as server-sent events; reconnect with Last-Event-ID to get what was missed',
        headers: z.object({ 'last-event-id': streamId.optional() }),
        querystring: z.strictObject({ types: typeList.optional().describe('e.g. alert,berth (default: all)') }),
      },
    },
    async (req, reply) => {
      if (!hub) throw new ApiError(503, 'unavailable', 'the live stream needs Redis (REDIS_URL); this server runs without it');
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      await hub.attach(res, { lastEventId: req.headers['last-event-id'] ?? null, types: req.query.types ?? null });
    },
  );
  return (
    hub ??
    ({
      clientCount: 0,
      close: async () => {},
    } as unknown as LiveStreamHub)
  );
}
