import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { publicInspections } from '../../dispatch/index.js';
import { access } from '../access.js';
import type { ApiContext } from '../context.js';
import { getPublicDraw, listPublicDraws } from '../draw-records.js';
import { notFound } from '../errors.js';
import { isoTime, limitParam, uuidParam } from '../params.js';

const publicInspection = z.object({
  inspection: z.string(),
  target_kind: z.string(),
  target: z.string(),
  imo: z.number().nullable(),
  vessel: z.string().nullable(),
  berth: z.string().nullable(),
  date: z.string(),
  risk_level: z.string().nullable(),
  drawn_by: z.string(),
  inspector: z.string().nullable(),
  result: z.string().nullable(),
  outcome: z.string().nullable(),
  findings: z.number(),
  target_draw: z.record(z.string(), z.unknown()).nullable(),
  inspector_draw: z.record(z.string(), z.unknown()).nullable(),
});
const drawSchema = z.object({
  id: z.string(),
  kind: z.string(),
  opened_at: z.string(),
  closed_at: z.string(),
  seed_sha256: z.string(),
  candidates_sha256: z.string().nullable(),
  record: z.record(z.string(), z.unknown()).nullable(),
});

const range = z
  .strictObject({ from: isoTime.optional(), to: isoTime.optional(), limit: limitParam(10_000, 1000) })
  .superRefine((q, c) => {
    if (q.from instanceof Date && q.to instanceof Date && q.to.getTime() <= q.from.getTime()) c.addIssue({ code: 'custom', message: 'to must be after from', path: ['to'] });
  });

/** What anyone may read: completed inspections as `portwatch public export` gives them, and the draws' records. */
export function registerPublicRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/public/inspections',
    {
      schema: {
        ...access('public'),
        tags: ['public'],
        summary: 'completed inspections (no names), with the records of the draws that chose them',
        querystring: range,
        response: { 200: z.object({ inspections: z.array(publicInspection) }) },
      },
    },
    async (req) => {
      const list = await ctx.read((db) => publicInspections(db, { ...(req.query.from ? { from: req.query.from } : {}), ...(req.query.to ? { to: req.query.to } : {}) }));
      return { inspections: list.slice(0, req.query.limit) };
    },
  );
  r.get(
    '/api/public/draws',
    { schema: { ...access('public'), tags: ['public'], summary: 'closed draws with their seeds and records, to verify them', querystring: range, response: { 200: z.object({ draws: z.array(drawSchema) }) } } },
    async (req) => ({ draws: await ctx.read((db) => listPublicDraws(db, { ...(req.query.from ? { from: req.query.from } : {}), ...(req.query.to ? { to: req.query.to } : {}), limit: req.query.limit })) }),
  );
  r.get(
    '/api/public/draws/:id',
    { schema: { ...access('public'), tags: ['public'], summary: 'one closed draw', params: z.strictObject({ id: uuidParam }), response: { 200: drawSchema } } },
    async (req) => {
      const d = await ctx.read((db) => getPublicDraw(db, req.params.id));
      if (!d) throw notFound(`draw ${req.params.id}`);
      return d;
    },
  );
}
