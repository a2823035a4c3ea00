import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { INSPECTION_STATES, getInspection, listInspections } from '../../dispatch/index.js';
import { access, principalOf } from '../access.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import { sendEvidenceFile } from '../evidence-file.js';
import { bodyWornClips, inspectionSchema, inspectionView } from '../inspection-view.js';
import { idParam, isoTime, limitParam, uuidParam } from '../params.js';

/** The dispatch board: inspections drawn, assigned, acknowledged, completed, escalated. */
export function registerDispatchRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/dispatch',
    {
      schema: {
        ...access('admin', 'operator'),
        tags: ['dispatch'],
        summary: 'the dispatch board: inspections newest first',
        querystring: z.strictObject({
          state: z.enum(INSPECTION_STATES, { error: `state is one of ${INSPECTION_STATES.join(', ')}` }).optional(),
          inspector: idParam.optional(),
          before: isoTime.optional().describe('page: inspections created before this'),
          limit: limitParam(1000, 100),
        }),
        response: { 200: z.object({ inspections: z.array(inspectionSchema) }) },
      },
    },
    async (req) => {
      const q = req.query;
      const list = await ctx.read((db) => listInspections(db, { ...(q.state ? { state: q.state } : {}), ...(q.inspector ? { inspector: q.inspector } : {}), ...(q.before ? { before: q.before } : {}), limit: q.limit }));
      return { inspections: list.map(inspectionView) };
    },
  );

  r.get(
    '/api/dispatch/:id',
    { schema: { ...access('admin', 'operator'), tags: ['dispatch'], summary: 'one inspection', params: z.strictObject({ id: uuidParam }), response: { 200: inspectionSchema } } },
    async (req) => {
      const i = await ctx.read((db) => getInspection(db, req.params.id));
      if (!i) throw notFound(`inspection ${req.params.id}`);
      return inspectionView(i);
    },
  );

  r.get(
    '/api/inspections/:id/photos/:n',
    {
      schema: {
        ...access('admin', 'operator', 'inspector'),
        tags: ['dispatch', 'inspector'],
        summary: "an inspection's n-th photo (inspectors: their own inspections only)",
        params: z.strictObject({ id: uuidParam, n: z.coerce.number({ error: 'n is a number' }).int('n is a whole number').min(0, 'n cannot be negative').max(100, 'n is at most 100') }),
      },
    },
    async (req, reply) => {
      const i = await ctx.read((db) => getInspection(db, req.params.id));
      const p = principalOf(req);
      // An inspector sees only their own inspections: someone else's answers as if it did not exist.
      if (!i || (p.role === 'inspector' && i.inspector !== p.inspector)) throw notFound(`inspection ${req.params.id}`);
      return sendEvidenceFile(reply, ctx.dataDir, i.photos[req.params.n], `photo ${req.params.n} of inspection ${req.params.id}`);
    },
  );

  r.get(
    '/api/inspections/:id/clips/:n',
    {
      schema: {
        ...access('admin', 'operator', 'inspector'),
        tags: ['dispatch', 'inspector'],
        summary: "an inspection's n-th body-worn recording (MP4; inspectors: their own inspections only)",
        params: z.strictObject({ id: uuidParam, n: z.coerce.number({ error: 'n is a number' }).int('n is a whole number').min(0, 'n cannot be negative').max(100, 'n is at most 100') }),
      },
    },
    async (req, reply) => {
      const i = await ctx.read((db) => getInspection(db, req.params.id));
      const p = principalOf(req);
      if (!i || (p.role === 'inspector' && i.inspector !== p.inspector)) throw notFound(`inspection ${req.params.id}`);
      return sendEvidenceFile(reply, ctx.dataDir, bodyWornClips(i)[req.params.n], `body-worn clip ${req.params.n} of inspection ${req.params.id}`);
    },
  );
}
