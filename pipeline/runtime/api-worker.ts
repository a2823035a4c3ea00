import type { Registry } from 'prom-client';
import { buildApiServer } from '../api/index.js';
import { BoardStream } from '../board/index.js';
import { WorkerRedis } from './redis-stop.js';
import type { RunningWorker, WorkerKind } from './worker-context.js';

/**
 * The command-center API (pipeline/api) as a worker kind: inside `portwatch run`
 * on the embedded database (one process owns it), or alone (`portwatch api`,
 * `portwatch worker api`) on a server, as many as the load needs. Listens on
 * the site's `workers.api` host and port; logs its URL.
 */
export const apiWorker: WorkerKind = {
  name: 'api',
  wanted: () => true,
  async start(ctx) {
    const log = ctx.logger.child({ stage: 'api', worker: ctx.workerId });
    const settings = ctx.settings.api;
    const workerRedis = new WorkerRedis(ctx);
    const redis = ctx.redisUrl ? workerRedis.connect('api') : null;
    const board = redis ? new BoardStream({ redis, prefix: ctx.settings.lease_prefix }) : null;
    if (!redis) log.warn('no Redis: /api/stream answers 503 and rate limits count per process (set REDIS_URL)');
    const server = await buildApiServer({
      store: ctx.store,
      logger: log,
      site: ctx.site,
      redis,
      board,
      metrics: (ctx.metricsRegistry as Registry | undefined) ?? null,
      dataDir: ctx.dataDir,
      queryTimeoutMs: settings.query_timeout_seconds * 1000,
      rateLimitPerMinute: settings.rate_limit_per_minute,
      tileUrl: settings.tile_url ?? null,
    });
    try {
      await server.app.listen({ port: settings.port, host: settings.host });
    } catch (err) {
      // Inside `portwatch run` the other workers must not die of a taken port: say so loudly, run without the API.
      await server.close();
      await board?.close();
      log.error({ err: (err as Error).message, port: settings.port }, `API not started: ${(err as Error).message}; set workers.api.port in the site file (0 = any free port)`);
      return { stop: async () => undefined, stats: () => ({ url: null }), summary: () => ({ url: null, error: (err as Error).message }) };
    }
    const addr = server.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : settings.port;
    const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}/`;
    log.info({ url }, `API listening on ${url} (OpenAPI at ${url}openapi.json)`);
    const worker: RunningWorker & { url: string } = {
      url,
      stats: () => ({ url, stream_clients: server.live.clientCount }),
      summary: () => ({ url }),
      async stop(options = {}) {
        await workerRedis.stopWithin(async () => {
          await server.close();
          await board?.close();
        }, options.timeoutMs ?? ctx.settings.stop_deadline_seconds * 1000);
      },
    };
    return worker;
  },
};
