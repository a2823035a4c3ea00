import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DispatchError, INSPECTION_STATES, acknowledgeInspection, closeAlertForInspection, getInspection, listInspections, recordInspectionResult, type Finding, type Inspection } from '../../dispatch/index.js';
import { BodyWornRecorder, keepBodyWornClips, settleClosedRecordings } from '../body-worn-recorder.js';
import { access, principalOf } from '../access.js';
import type { ApiContext } from '../context.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { inspectionSchema, inspectionView } from '../inspection-view.js';
import { limitParam, uuidParam } from '../params.js';
import { PHOTO_TYPES, photoKind, storePhoto } from '../photo-store.js';

const findingsSchema = z.array(z.strictObject({ code: z.string().max(40).optional(), text: z.string().trim().min(1, 'a finding has a text').max(2000) })).max(100, 'at most 100 findings');

function inspectorOf(req: FastifyRequest): string {
  const p = principalOf(req);
  if (!p.inspector) throw new ApiError(403, 'forbidden', 'this token is not bound to an inspector: create one with portwatch token create --role inspector --inspector ID');
  return p.inspector;
}

function dispatchError(err: unknown, id: string): never {
  if (err instanceof DispatchError) {
    // Someone else's inspection answers as if it did not exist.
    if (err.code === 'not_found' || err.code === 'forbidden') throw notFound(`inspection ${id}`);
    if (err.code === 'conflict') throw new ApiError(409, 'conflict', err.message);
    throw new ApiError(400, 'bad_request', err.message, 'body');
  }
  throw err;
}

/** Inspectors in the field: their jobs, acknowledge, the result with photos; their body-worn camera recorded while a job is open. */
export function registerInspectorRoutes(app: FastifyInstance, ctx: ApiContext, o: { bodyWornSweepMs?: number } = {}): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const recorder = new BodyWornRecorder({ site: ctx.site, dataDir: ctx.dataDir, logger: ctx.logger });
  let sweep: NodeJS.Timeout | null = null;
  app.addHook('onReady', async () => {
    if (!ctx.site?.cameras.some((c) => c.kind === 'body_worn')) return;
    // Jobs acknowledged before this process started are recorded again from now on.
    const open = await listInspections(ctx.store, { state: 'acknowledged', limit: 1000 });
    for (const i of open) recorder.start(i.id, i.inspector);
    // A job cancelled, escalated or completed elsewhere must not be recorded on forever.
    sweep = setInterval(() => {
      settleClosedRecordings(ctx.store, recorder).catch((err) => ctx.logger.warn({ err: (err as Error).message }, 'body-worn recordings of closed jobs not settled'));
    }, o.bodyWornSweepMs ?? 30_000);
    sweep.unref();
  });
  app.addHook('onClose', async () => {
    if (sweep) clearInterval(sweep);
    await recorder.close();
  });
  const announce = async (i: Inspection) => {
    if (ctx.board) await ctx.board.append('dispatch', inspectionView(i)).catch((err) => ctx.logger.warn({ err: (err as Error).message }, 'inspection change not announced on the board'));
  };

  r.get(
    '/api/inspector/jobs',
    {
      schema: {
        ...access('inspector'),
        tags: ['inspector'],
        summary: "the token's inspector's inspections, newest first",
        querystring: z.strictObject({ state: z.enum(INSPECTION_STATES, { error: `state is one of ${INSPECTION_STATES.join(', ')}` }).optional(), limit: limitParam(500, 100) }),
        response: { 200: z.object({ inspections: z.array(inspectionSchema) }) },
      },
    },
    async (req) => {
      const inspector = inspectorOf(req);
      const list = await ctx.read((db) => listInspections(db, { inspector, ...(req.query.state ? { state: req.query.state } : {}), limit: req.query.limit }));
      return { inspections: list.map(inspectionView) };
    },
  );

  r.post(
    '/api/inspector/jobs/:id/ack',
    { schema: { ...access('inspector'), tags: ['inspector'], summary: 'take the job (before its deadline)', params: z.strictObject({ id: uuidParam }), response: { 200: inspectionSchema } } },
    async (req) => {
      const inspector = inspectorOf(req);
      try {
        const i = await acknowledgeInspection(ctx.store, req.params.id, { inspector });
        recorder.start(i.id, i.inspector);
        await announce(i);
        return inspectionView(i);
      } catch (err) {
        dispatchError(err, req.params.id);
      }
    },
  );

  r.post(
    '/api/inspector/jobs/:id/result',
    {
      schema: {
        ...access('inspector'),
        tags: ['inspector'],
        summary: `record the result: multipart/form-data with result (pass|fail), optional outcome (released|held), findings (JSON list of {code?, text}), and up to 8 photos (${PHOTO_TYPES.join(', ')})`,
        consumes: ['multipart/form-data'],
        params: z.strictObject({ id: uuidParam }),
        response: { 200: inspectionSchema },
      },
    },
    async (req) => {
      const inspector = inspectorOf(req);
      if (!req.isMultipart()) throw new ApiError(415, 'unsupported_media_type', 'send the result as multipart/form-data (fields result, outcome, findings; files photos)');
      const fields: Record<string, string> = {};
      const photos: string[] = [];
      try {
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'photos') throw badRequest(`body.${part.fieldname}`, 'unknown file field; photos go in "photos"');
            const bytes = await part.toBuffer();
            const kind = photoKind(bytes);
            if (!kind) throw badRequest('body.photos', `"${part.filename}" is not a JPEG, PNG or WebP image`);
            photos.push(await storePhoto(ctx.dataDir, bytes, kind.ext));
          } else {
            if (!['result', 'outcome', 'findings'].includes(part.fieldname)) throw badRequest(`body.${part.fieldname}`, 'unknown field; the fields are result, outcome, findings and photos');
            fields[part.fieldname] = String(part.value);
          }
        }
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'FST_REQ_FILE_TOO_LARGE') throw new ApiError(413, 'payload_too_large', 'body.photos: a photo is larger than the limit (10 MiB by default)', 'body.photos');
        if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') throw new ApiError(413, 'payload_too_large', 'body: too many photos or fields (at most 8 photos)', 'body');
        throw err;
      }
      const result = fields.result;
      if (result !== 'pass' && result !== 'fail') throw badRequest('body.result', 'result is pass or fail');
      const outcome = fields.outcome;
      if (outcome !== undefined && outcome !== 'released' && outcome !== 'held') throw badRequest('body.outcome', 'outcome is released or held');
      let findings: Finding[] = [];
      if (fields.findings !== undefined) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(fields.findings);
        } catch {
          throw badRequest('body.findings', 'findings is a JSON list such as [{"code":"H1","text":"..."}]');
        }
        const f = findingsSchema.safeParse(parsed);
        if (!f.success) throw badRequest(`body.findings${f.error.issues[0]!.path.map((p) => `.${String(p)}`).join('')}`, f.error.issues[0]!.message);
        findings = f.data as Finding[];
      }
      try {
        const done = await recordInspectionResult(ctx.store, req.params.id, { inspector, result, ...(outcome ? { outcome } : {}), findings, photos });
        const i = await keepBodyWornClips(ctx.store, done, await recorder.stop(done.id), recorder.cameraOf(inspector)?.id ?? '');
        await closeAlertForInspection(ctx.store, i, ctx.logger);
        await announce(i);
        return inspectionView(i);
      } catch (err) {
        dispatchError(err, req.params.id);
      }
    },
  );
}
