import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listCalls } from '../../declarations/index.js';
import { getInspection, listInspections, type Inspection } from '../../dispatch/index.js';
import { access, principalOf } from '../access.js';
import type { ApiContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { limitParam, uuidParam } from '../params.js';

const callSchema = z.object({
  id: z.string(),
  declared_at: z.string(),
  imo: z.number().nullable(),
  mmsi: z.number().nullable(),
  name: z.string(),
  eta: z.string(),
  berth: z.string().nullable(),
  agent: z.string().nullable(),
  cargo_classes: z.array(z.string()),
  crew_count: z.number().nullable(),
  health: z.record(z.string(), z.unknown()),
});

/** What a company sees of an inspection of its vessel: status, and the result once published (completed). */
const enterpriseInspection = z.object({
  id: z.string(),
  created_at: z.string(),
  imo: z.number().nullable(),
  mmsi: z.number().nullable(),
  vessel_name: z.string().nullable(),
  berth: z.string().nullable(),
  state: z.string(),
  result: z.string().nullable(),
  outcome: z.string().nullable(),
  findings: z.array(z.object({ code: z.string().optional(), text: z.string() })),
  completed_at: z.string().nullable(),
});

function companyOf(req: FastifyRequest): string {
  const p = principalOf(req);
  if (!p.company) throw new ApiError(403, 'forbidden', 'this token is not bound to a company');
  return p.company;
}

function enterpriseView(i: Inspection): z.infer<typeof enterpriseInspection> {
  const done = i.state === 'completed';
  return {
    id: i.id,
    created_at: new Date(i.created_at).toISOString(),
    imo: i.imo,
    mmsi: i.mmsi,
    vessel_name: i.vessel_name,
    berth: i.berth,
    state: i.state,
    result: done ? i.result : null,
    outcome: done ? i.outcome : null,
    findings: done ? i.findings.map((f) => ({ ...(f.code ? { code: f.code } : {}), text: f.text })) : [],
    completed_at: i.completed_at ? new Date(i.completed_at).toISOString() : null,
  };
}

/**
 * A vessel's company or agent: its own calls (with their declarations) and the
 * inspections of its vessels. The company comes from the token, never from the
 * request, and another company's record answers 404 (not 403: no hint it exists).
 */
export function registerEnterpriseRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/enterprise/calls',
    {
      schema: {
        ...access('enterprise'),
        tags: ['enterprise'],
        summary: "the company's vessel calls and what was declared for them",
        querystring: z.strictObject({ limit: limitParam(1000, 100) }),
        response: { 200: z.object({ calls: z.array(callSchema) }) },
      },
    },
    async (req) => {
      const company = companyOf(req);
      const calls = await ctx.read((db) => listCalls(db, { company, limit: req.query.limit }));
      return {
        calls: calls.map((c) => ({
          id: c.id,
          declared_at: c.declared_at.toISOString(),
          imo: c.imo,
          mmsi: c.mmsi,
          name: c.name,
          eta: c.eta.toISOString(),
          berth: c.berth,
          agent: c.agent,
          cargo_classes: c.cargo_classes,
          crew_count: c.crew_count,
          health: (typeof c.health === 'string' ? JSON.parse(c.health) : c.health) ?? {},
        })),
      };
    },
  );
  r.get(
    '/api/enterprise/inspections',
    {
      schema: {
        ...access('enterprise'),
        tags: ['enterprise'],
        summary: "inspections of the company's vessels: status, and results once completed",
        querystring: z.strictObject({ limit: limitParam(1000, 100) }),
        response: { 200: z.object({ inspections: z.array(enterpriseInspection) }) },
      },
    },
    async (req) => {
      const company = companyOf(req);
      const list = await ctx.read((db) => listInspections(db, { company, limit: req.query.limit }));
      return { inspections: list.map(enterpriseView) };
    },
  );
  r.get(
    '/api/enterprise/inspections/:id',
    { schema: { ...access('enterprise'), tags: ['enterprise'], summary: 'one inspection of a company vessel', params: z.strictObject({ id: uuidParam }), response: { 200: enterpriseInspection } } },
    async (req) => {
      const company = companyOf(req);
      const i = await ctx.read((db) => getInspection(db, req.params.id));
      if (!i || i.company !== company) throw notFound(`inspection ${req.params.id}`);
      return enterpriseView(i);
    },
  );
}
