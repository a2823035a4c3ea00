import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { publicInspections, verifyDraw, type DrawRecord, type TargetCandidate } from '../../dispatch/index.js';
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
const verifiedDrawSchema = drawSchema.extend({
  verification: z
    .object({ ok: z.boolean(), problems: z.array(z.string()) })
    .describe('the draw recomputed by the server from its record: the seed against its commitment, the candidate list against its hash, the selection against the seed'),
});

/** Recompute a published draw from its own record (a target draw keeps its candidate list there, an inspector draw its candidates). */
export function verifyPublishedDraw(record: Record<string, unknown> | null): { ok: boolean; problems: string[] } {
  if (!record) return { ok: false, problems: ['the draw has no published record'] };
  const list = Array.isArray(record.candidate_list) ? (record.candidate_list as TargetCandidate[]) : undefined;
  try {
    return verifyDraw(record as unknown as DrawRecord, list);
  } catch (err) {
    return { ok: false, problems: [`the record cannot be recomputed: ${(err as Error).message}`] };
  }
}

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
    { schema: { ...access('public'), tags: ['public'], summary: 'one closed draw, with the server recomputing it', params: z.strictObject({ id: uuidParam }), response: { 200: verifiedDrawSchema } } },
    async (req) => {
      const d = await ctx.read((db) => getPublicDraw(db, req.params.id));
      if (!d) throw notFound(`draw ${req.params.id}`);
      return { ...d, verification: verifyPublishedDraw(d.record) };
    },
  );
}
