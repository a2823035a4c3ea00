import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifyMultipart from '@fastify/multipart';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { BoardStream } from '../board/index.js';
import type { SiteConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import { access, installAccessControl, rateLimitKey } from './access.js';
import { readWithTimeout, type ApiContext } from './context.js';
import { installErrorHandler } from './errors.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerAnalyticsRoutes } from './routes/analytics.js';
import { registerBerthRoutes } from './routes/berths.js';
import { registerCameraRoutes } from './routes/cameras.js';
import { registerDispatchRoutes } from './routes/dispatch.js';
import { registerEnterpriseRoutes } from './routes/enterprise.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerInspectorRoutes } from './routes/inspector.js';
import { registerPublicRoutes } from './routes/public.js';
import { registerRiskRoutes } from './routes/risk.js';
import { registerSiteRoutes } from './routes/site.js';
import { registerStreamRoutes, type LiveStreamHub } from './routes/stream.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerVesselRoutes } from './routes/vessels.js';
import { registerLiveRoutes } from '../live/live-routes.js';

export interface ApiServerOptions {
  store: Store;
  logger: Logger;
  site?: SiteConfig | null;
  /** Health checks, shared rate-limit counters; null runs without (rate limits then count per process). */
  redis?: Redis | null;
  /** The live board the SSE stream serves; null answers /api/stream with 503. */
  board?: BoardStream | null;
  /** The process's metrics, served at GET /metrics. */
  metrics?: Registry | null;
  /** Folder holding snapshots/, clips/ and photos/. Default ./data. */
  dataDir?: string;
  /** The built command center to serve at /; default web/dist when it exists. null: none. */
  webRoot?: string | null;
  /** A map tile server URL template for the chart (`https://tiles.example/{z}/{x}/{y}.png`). */
  tileUrl?: string | null;
  /** Statement timeout of every API query, ms. Default 10 000. */
  queryTimeoutMs?: number;
  /** Requests per token (or per address without one) per minute. Default 600. */
  rateLimitPerMinute?: number;
  /** Largest JSON body, bytes. Default 256 KiB. */
  bodyLimit?: number;
  /** Largest uploaded photo, bytes. Default 10 MiB. */
  photoLimit?: number;
  /** How often body-worn recordings of jobs closed without a result here are stopped and kept. Default 30 s. */
  bodyWornSweepMs?: number;
  /** Extra routes registered inside the server (each must declare its roles with access()). */
  plugins?: Array<(app: FastifyInstance, ctx: ApiContext) => void | Promise<void>>;
}

export interface ApiServer {
  app: FastifyInstance;
  ctx: ApiContext;
  live: LiveStreamHub;
  close(): Promise<void>;
}

export const DEFAULT_WEB_ROOT = 'web/dist';

/** Builds the API (not listening yet: call `app.listen`, or `app.inject` in tests). */
export async function buildApiServer(o: ApiServerOptions): Promise<ApiServer> {
  const queryTimeoutMs = o.queryTimeoutMs ?? 10_000;
  const ctx: ApiContext = {
    store: o.store,
    logger: o.logger,
    site: o.site ?? null,
    redis: o.redis ?? null,
    board: o.board ?? null,
    dataDir: resolve(o.dataDir ?? 'data'),
    queryTimeoutMs,
    tileUrl: o.tileUrl ?? null,
    read: readWithTimeout(o.store, queryTimeoutMs),
  };
  const app = Fastify({
    // Request lines only at warn: a command center's polling would drown the log at info.
    loggerInstance: o.logger.child({ stage: 'api' }, { level: o.logger.isLevelEnabled('debug') || o.logger.levelVal >= 40 ? o.logger.level : 'warn' }),
    bodyLimit: o.bodyLimit ?? 256 * 1024,
    // Long-lived SSE responses must not be cut by the request timeout; queries have their own.
    requestTimeout: 0,
    trustProxy: false,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);

  const webRoot = o.webRoot === undefined ? (existsSync(DEFAULT_WEB_ROOT) ? resolve(DEFAULT_WEB_ROOT) : null) : o.webRoot;
  // The page itself is public (it holds no data; every API call it makes carries a token).
  const isStaticUrl = (url: string) => !url.startsWith('/api/') && url !== '/metrics' && url !== '/openapi.json';
  installAccessControl(app, o.store, isStaticUrl);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'portwatch command-center API', version: '1', description: 'Every operation lists the roles it allows in x-roles; public operations need no token.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token from `portwatch token create`' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifyRateLimit, {
    global: true,
    max: o.rateLimitPerMinute ?? 600,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    // Redis away: serve without limits rather than fail every request (health must still answer).
    skipOnError: true,
    ...(o.redis ? { redis: o.redis, nameSpace: 'portwatch:api-rate:' } : {}),
    errorResponseBuilder: (_req, c) => ({ statusCode: 429, error: 'too_many_requests', message: `rate limit: at most ${c.max} requests per minute per token; retry in ${Math.ceil(c.ttl / 1000)} s` }),
  });
  await app.register(fastifyMultipart, { limits: { fileSize: o.photoLimit ?? 10 * 1024 * 1024, files: 8, fields: 20, fieldSize: 16 * 1024, parts: 30 } });

  app.get('/openapi.json', { schema: { ...access('public'), hide: true } }, async () => app.swagger());

  registerHealthRoutes(app, ctx, o.metrics ?? null);
  registerTokenRoutes(app, ctx);
  registerSiteRoutes(app, ctx);
  registerAlertRoutes(app, ctx);
  registerCameraRoutes(app, ctx);
  registerBerthRoutes(app, ctx);
  registerVesselRoutes(app, ctx);
  registerRiskRoutes(app, ctx);
  registerAnalyticsRoutes(app, ctx);
  registerDispatchRoutes(app, ctx);
  registerInspectorRoutes(app, ctx, o.bodyWornSweepMs !== undefined ? { bodyWornSweepMs: o.bodyWornSweepMs } : {});
  registerEnterpriseRoutes(app, ctx);
  registerPublicRoutes(app, ctx);
  const live = registerStreamRoutes(app, ctx);
  registerLiveRoutes(app, ctx);
  for (const plugin of o.plugins ?? []) await plugin(app, ctx);

  if (webRoot) await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] });

  return {
    app,
    ctx,
    live,
    async close() {
      await live.close();
      await app.close();
    },
  };
}
