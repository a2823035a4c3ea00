import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { access } from '../access.js';
import type { ApiContext } from '../context.js';

const check = z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() });
const healthSchema = z.object({ ok: z.boolean(), database: check, redis: check.nullable() });

async function timed(fn: () => Promise<unknown>, timeoutMs: number): Promise<z.infer<typeof check>> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - t0), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Load balancers: 200 when the database and Redis answer, 503 otherwise. GET /metrics for Prometheus. */
export function registerHealthRoutes(app: FastifyInstance, ctx: ApiContext, metrics: Registry | null): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/health',
    { schema: { ...access('public'), tags: ['health'], summary: 'database and Redis reachable', response: { 200: healthSchema, 503: healthSchema } } },
    async (_req, reply) => {
      const [database, redis] = await Promise.all([
        timed(() => ctx.store.query('SELECT 1'), 2000),
        ctx.redis ? timed(() => ctx.redis!.ping(), 2000) : Promise.resolve(null),
      ]);
      const ok = database.ok && (redis?.ok ?? true);
      return reply.code(ok ? 200 : 503).send({ ok, database, redis });
    },
  );
  r.get('/metrics', { schema: { ...access('admin', 'operator'), tags: ['health'], summary: 'Prometheus metrics of this process' } }, async (_req, reply) => {
    if (!metrics) return reply.code(404).send({ error: 'not_found', message: 'this process keeps no metrics registry' });
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });
}
