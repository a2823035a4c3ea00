import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { join } from 'node:path';
import { z } from 'zod';
import {
  AlertNotFoundError,
  ShelveError,
  acknowledgeAlert,
  getAlert,
  listAlerts,
  resolveAlert,
  shelveAlert,
  type AlertUpdate,
  type StoredAlert,
} from '../../alerts/alert-store.js';
import { AlertStateError } from '../../alerts/states.js';
import { ALERT_STATES } from '../../alerts/types.js';
import { SEVERITIES } from '../../config/index.js';
import { access, principalOf } from '../access.js';
import type { ApiContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { sendEvidenceFile } from '../evidence-file.js';
import { eventTrackPaths } from '../event-track-paths.js';
import { idParam, isoTime, limitParam, mmsiParam, uuidParam } from '../params.js';

/** A comma-separated list of allowed values, e.g. state=open,acknowledged. */
const listOf = <T extends string>(values: readonly T[], name: string) =>
  z
    .string()
    .max(200)
    .transform((s, c) => {
      const parts = s.split(',').map((x) => x.trim());
      const bad = parts.find((p) => !(values as readonly string[]).includes(p));
      if (bad !== undefined) {
        c.addIssue({ code: 'custom', message: `${name} is one or more of ${values.join(', ')}, separated by commas` });
        return z.NEVER;
      }
      return parts as T[];
    });

const kindParam = z.string().regex(/^[a-z_]{1,40}$/, 'kind is an event kind such as unauthorized_access or ais_dark');
const cursorParam = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'cursor is the `next` value of the previous page');

const objectSchema = z.object({
  event: z.string(),
  kind: z.string(),
  track: z.number().nullable(),
  class: z.string().nullable(),
  score: z.number().nullable(),
  snapshot: z.string().nullable().describe('URL of the snapshot (by id), or null'),
  first: z.string(),
  last: z.string(),
  active: z.boolean(),
});

export const alertSchema = z.object({
  id: z.string(),
  rule: z.string(),
  kind: z.string(),
  kinds: z.array(z.string()),
  severity: z.string(),
  priority: z.number(),
  state: z.enum(ALERT_STATES),
  active: z.boolean(),
  camera: z.string().nullable(),
  zone: z.string().nullable(),
  berth: z.string().nullable(),
  mmsi: z.number().nullable(),
  view: z.string(),
  first_at: z.string(),
  last_at: z.string(),
  cleared_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  acknowledged_at: z.string().nullable(),
  acknowledged_by: z.string().nullable(),
  closed_at: z.string().nullable(),
  closed_by: z.string().nullable(),
  shelved: z.boolean(),
  shelved_until: z.string().nullable(),
  shelved_reason: z.string().nullable(),
  escalations: z.number(),
  flood_count: z.number().nullable(),
  objects: z.array(objectSchema),
  snapshots: z.array(z.string()),
  clip: z.string().nullable(),
  procedure: z.array(z.string()),
});
const historySchema = z.object({ at: z.string(), action: z.string(), by: z.string(), from_state: z.string().nullable(), to_state: z.string().nullable(), comment: z.string().nullable() });
const trackPathSchema = z.object({
  event: z.string(),
  track: z.number().nullable(),
  points: z.array(z.tuple([z.number(), z.number()])).describe("the object's ground points (bottom-centre of its box), normalised to the picture, oldest first"),
});
const detailSchema = alertSchema.extend({ history: z.array(historySchema), track_paths: z.array(trackPathSchema).describe("where each object went, from its event's stored track path") });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An alert as the API shows it: evidence as URLs served by id, never file paths. */
export function alertView(a: StoredAlert): z.infer<typeof alertSchema> {
  const objects = a.objects.map((o, i) => ({
    event: o.event,
    kind: o.kind,
    track: o.track,
    class: o.class,
    score: o.score,
    snapshot: o.snapshot ? `/api/alerts/${a.id}/snapshots/${i}` : null,
    first: o.first.toISOString(),
    last: o.last.toISOString(),
    active: o.active,
  }));
  return {
    id: a.id,
    rule: a.rule,
    kind: a.kind,
    kinds: a.kinds,
    severity: a.severity,
    priority: a.priority,
    state: a.state,
    active: a.active,
    camera: a.camera,
    zone: a.zone,
    berth: a.berth,
    mmsi: a.mmsi,
    view: a.view,
    first_at: a.first.toISOString(),
    last_at: a.last.toISOString(),
    cleared_at: iso(a.cleared_at),
    created_at: a.created_at.toISOString(),
    updated_at: a.updated_at.toISOString(),
    acknowledged_at: iso(a.acknowledged_at),
    acknowledged_by: a.acknowledged_by,
    closed_at: iso(a.closed_at),
    closed_by: a.closed_by,
    shelved: a.shelved,
    shelved_until: iso(a.shelved_until),
    shelved_reason: a.shelved_reason,
    escalations: a.escalations,
    flood_count: a.flood_count,
    objects,
    snapshots: objects.flatMap((o) => (o.snapshot ? [o.snapshot] : [])),
    clip: a.clip ? `/api/alerts/${a.id}/clip` : null,
    procedure: a.procedure,
  };
}

const commentBody = z.strictObject({ comment: z.string().trim().max(2000, 'comment is at most 2000 characters').optional() });

export function registerAlertRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const maxShelveMinutes = (ctx.site?.alerts as { max_shelve_minutes?: number } | undefined)?.max_shelve_minutes ?? 480;

  /** Runs a state change, announces it on the board, and maps the store's refusals to 4xx. */
  const act = async (id: string, fn: () => Promise<AlertUpdate>) => {
    try {
      const u = await fn();
      const view = alertView(u.alert);
      if (ctx.board) await ctx.board.append('alert', view).catch((err) => ctx.logger.warn({ err: (err as Error).message, alert: id }, 'alert change not announced on the board'));
      return view;
    } catch (err) {
      if (err instanceof AlertNotFoundError) throw notFound(`alert ${id}`);
      if (err instanceof AlertStateError) throw new ApiError(409, 'conflict', err.message);
      if (err instanceof ShelveError) throw new ApiError(400, 'bad_request', `body.${err.message}`, `body.${err.message.split(':')[0]}`);
      throw err;
    }
  };

  r.get(
    '/api/alerts',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['alerts'],
        summary: 'alerts newest first, filtered and paged (cursor)',
        querystring: z.strictObject({
          state: listOf(ALERT_STATES, 'state').optional(),
          severity: listOf(SEVERITIES, 'severity').optional(),
          kind: kindParam.optional(),
          rule: idParam.optional(),
          camera: idParam.optional(),
          zone: idParam.optional(),
          berth: idParam.optional(),
          mmsi: mmsiParam.optional(),
          from: isoTime.optional(),
          to: isoTime.optional(),
          limit: limitParam(500, 50),
          cursor: cursorParam.optional(),
        }),
        response: { 200: z.object({ alerts: z.array(alertSchema), next: z.string().nullable() }) },
      },
    },
    async (req) => {
      const q = req.query;
      try {
        const page = await ctx.read((db) =>
          listAlerts(db, {
            ...(q.state ? { state: q.state } : {}),
            ...(q.severity ? { severity: q.severity } : {}),
            ...(q.kind ? { kind: q.kind } : {}),
            ...(q.rule ? { rule: q.rule } : {}),
            ...(q.camera ? { camera: q.camera } : {}),
            ...(q.zone ? { zone: q.zone } : {}),
            ...(q.berth ? { berth: q.berth } : {}),
            ...(q.mmsi !== undefined ? { mmsi: q.mmsi } : {}),
            ...(q.from ? { since: q.from } : {}),
            ...(q.to ? { until: q.to } : {}),
            limit: q.limit,
            cursor: q.cursor ?? null,
          }),
        );
        return { alerts: page.alerts.map(alertView), next: page.next };
      } catch (err) {
        if ((err as Error).message.startsWith('cursor:')) throw new ApiError(400, 'bad_request', `query.${(err as Error).message}`, 'query.cursor');
        throw err;
      }
    },
  );

  r.get(
    '/api/alerts/:id',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['alerts'],
        summary: 'one alert with its objects, snapshots, clip, procedure and history',
        params: z.strictObject({ id: uuidParam }),
        response: { 200: detailSchema },
      },
    },
    async (req) => {
      const found = await ctx.read(async (db) => {
        const alert = await getAlert(db, req.params.id);
        return alert ? { alert, paths: await eventTrackPaths(db, alert.objects) } : null;
      });
      if (!found) throw notFound(`alert ${req.params.id}`);
      const a = found.alert;
      return {
        ...alertView(a),
        track_paths: found.paths,
        history: a.history.map((h) => ({ at: h.time.toISOString(), action: h.action, by: h.actor, from_state: h.from_state, to_state: h.to_state, comment: h.comment })),
      };
    },
  );

  r.get(
    '/api/alerts/:id/snapshots/:n',
    {
      schema: {
        ...access('admin', 'operator', 'analyst'),
        tags: ['alerts'],
        summary: "the snapshot of an alert's n-th object (JPEG)",
        params: z.strictObject({ id: uuidParam, n: z.coerce.number({ error: 'n is a number' }).int('n is a whole number').min(0, 'n cannot be negative').max(10_000, 'n is at most 10000') }),
      },
    },
    async (req, reply) => {
      const a = await ctx.read((db) => getAlert(db, req.params.id));
      if (!a) throw notFound(`alert ${req.params.id}`);
      return sendEvidenceFile(reply, join(ctx.dataDir, 'snapshots'), a.objects[req.params.n]?.snapshot, `snapshot ${req.params.n} of alert ${req.params.id}`);
    },
  );

  r.get(
    '/api/alerts/:id/clip',
    { schema: { ...access('admin', 'operator', 'analyst'), tags: ['alerts'], summary: "the alert's evidence clip (MP4)", params: z.strictObject({ id: uuidParam }) } },
    async (req, reply) => {
      const a = await ctx.read((db) => getAlert(db, req.params.id));
      if (!a) throw notFound(`alert ${req.params.id}`);
      return sendEvidenceFile(reply, ctx.dataDir, a.clip, `clip of alert ${req.params.id}`);
    },
  );

  r.post(
    '/api/alerts/:id/ack',
    { schema: { ...access('admin', 'operator'), tags: ['alerts'], summary: 'acknowledge', params: z.strictObject({ id: uuidParam }), body: commentBody, response: { 200: alertSchema } } },
    async (req) => act(req.params.id, () => acknowledgeAlert(ctx.store, req.params.id, { by: principalOf(req).name, comment: req.body.comment ?? null })),
  );

  r.post(
    '/api/alerts/:id/resolve',
    {
      schema: {
        ...access('admin', 'operator'),
        tags: ['alerts'],
        summary: 'resolve, or close as a false alarm',
        params: z.strictObject({ id: uuidParam }),
        body: commentBody.extend({ false_alarm: z.boolean('false_alarm is true or false').default(false) }),
        response: { 200: alertSchema },
      },
    },
    async (req) => act(req.params.id, () => resolveAlert(ctx.store, req.params.id, { by: principalOf(req).name, comment: req.body.comment ?? null, falseAlarm: req.body.false_alarm })),
  );

  r.post(
    '/api/alerts/:id/shelve',
    {
      schema: {
        ...access('admin', 'operator'),
        tags: ['alerts'],
        summary: 'silence an alert for a while, with a reason',
        params: z.strictObject({ id: uuidParam }),
        body: z.strictObject({
          minutes: z.number('minutes is a number').positive('minutes must be above 0').max(maxShelveMinutes, `minutes is at most ${maxShelveMinutes} (alerts.max_shelve_minutes)`),
          reason: z.string().trim().min(1, 'reason: say why the alert is shelved').max(500, 'reason is at most 500 characters'),
          comment: z.string().trim().max(2000).optional(),
        }),
        response: { 200: alertSchema },
      },
    },
    async (req) =>
      act(req.params.id, () =>
        shelveAlert(ctx.store, req.params.id, { by: principalOf(req).name, comment: req.body.comment ?? null, reason: req.body.reason, forMs: req.body.minutes * 60_000, maxMs: maxShelveMinutes * 60_000 }),
      ),
  );
}
