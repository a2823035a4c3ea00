import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import type { BoardStream } from '../board/index.js';
import type { SiteConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { quietBullmqErrors } from '../redis/index.js';
import { rescoreVessel, type RiskModel } from '../risk/index.js';
import type { Store } from '../store/index.js';
import { markAlertInspected } from './alert-link.js';
import { ALERT_DISPATCH_QUEUE, DispatchQueue, type DispatchJob } from './dispatch-queue.js';
import { assignInspector, createInspection, DispatchError, inspectionPriority, passDeadline, type AssignResult, type DispatchContext } from './inspection-store.js';
import { runPeriodDraw } from './period-draw.js';

/** The fields of an alert dispatch reads (the alerts stage sends the whole alert). */
export const dispatchAlertSchema = z.looseObject({
  id: z.string().min(1),
  kind: z.string().min(1),
  severity: z.string().min(1),
  berth: z.string().nullish(),
  mmsi: z.number().int().nullish(),
  camera: z.string().nullish(),
  zone: z.string().nullish(),
  first: z.union([z.string(), z.date()]).nullish(),
  time: z.union([z.string(), z.date()]).nullish(),
});
export type DispatchAlert = z.output<typeof dispatchAlertSchema>;

export interface DispatchServiceOptions {
  store: Store;
  site: SiteConfig;
  logger: Logger;
  /** For the queues (shared, not closed here). */
  connection: ConnectionOptions;
  /** A new connection for each BullMQ worker (they block). */
  workerConnection: () => ConnectionOptions;
  prefix?: string;
  /** Scores vessels when alerts arrive; null: no rescoring. */
  model: RiskModel | null;
  board?: BoardStream | null;
  /** Who the audit trail says acted. Default `dispatch`. */
  actor?: string;
  /** Run the periodic target draw from this process (its BullMQ scheduler is shared per queue). Default true. */
  periodDraws?: boolean;
  concurrency?: number;
}

export interface DispatchStats {
  alerts: number;
  rescored: number;
  lifted: number;
  draws: number;
  assigned: number;
  reassigned: number;
  escalated: number;
  rejected: number;
}

export interface DispatchService {
  queue: DispatchQueue;
  ctx: DispatchContext;
  stats(): DispatchStats;
  /** `force`: Redis is unreachable, do not wait for jobs in hand (they stay on the queue for the next start). */
  stop(options?: { force?: boolean }): Promise<void>;
}

/**
 * The dispatch stage: consumes `alert-dispatch` (each alert: the vessel
 * rescored with the alert as evidence, an inspection created and queued), and
 * runs the `dispatch` queue (inspector draws, acknowledgement deadlines with
 * reassignment and escalation, period draws).
 */
export async function startDispatchService(o: DispatchServiceOptions): Promise<DispatchService> {
  const log = o.logger.child({ stage: 'dispatch' });
  const ctx: DispatchContext = { roster: o.site.inspectors, timeZone: o.site.site.timezone, settings: o.site.dispatch, actor: o.actor ?? 'dispatch' };
  const queue = new DispatchQueue({ connection: o.connection, logger: log, ...(o.prefix !== undefined ? { prefix: o.prefix } : {}) });
  const stats: DispatchStats = { alerts: 0, rescored: 0, lifted: 0, draws: 0, assigned: 0, reassigned: 0, escalated: 0, rejected: 0 };
  const board = o.board ?? null;
  const announce = (data: Record<string, unknown>) => board?.append('dispatch', data).catch((err: Error) => log.warn({ err: err.message }, 'board append failed'));

  const afterAssign = async (r: AssignResult) => {
    const i = r.inspection;
    if (i.state === 'assigned' && i.inspector && i.ack_deadline) {
      stats.assigned++;
      await queue.deadline(i.id, i.inspector, i.reassignments, i.ack_deadline.getTime() - Date.now());
      await announce({ event: 'assigned', inspection: i.id, inspector: i.inspector, target: i.target, priority: i.priority, ack_deadline: i.ack_deadline.toISOString(), draw: r.drawId });
    } else if (i.state === 'escalated') {
      stats.escalated++;
      await announce({ event: 'escalated', inspection: i.id, target: i.target, reason: 'no eligible inspector on duty', draw: r.drawId });
    }
  };

  const permanent = (err: unknown) => (err instanceof DispatchError && err.code !== 'conflict' ? new UnrecoverableError(err.message) : err);

  const dispatchWorker = new Worker<DispatchJob>(
    queue.queue.name,
    async (job: Job<DispatchJob>) => {
      const d = job.data;
      try {
        if (d.type === 'assign') {
          await afterAssign(await assignInspector(o.store, ctx, d.inspection));
        } else if (d.type === 'deadline') {
          const r = await passDeadline(o.store, ctx, d.inspection, { inspector: d.inspector, round: d.round });
          if (r.action === 'reassigned') {
            stats.reassigned++;
            await afterAssign(r.assign!);
          } else if (r.action === 'escalated') {
            stats.escalated++;
            await announce({ event: 'escalated', inspection: d.inspection, reason: `not acknowledged by ${d.inspector} and the inspectors before` });
          }
          return r.action;
        } else if (d.type === 'draw') {
          const r = await runPeriodDraw(o.store, ctx, { model: o.model });
          stats.draws++;
          await announce({ event: 'draw', draw: r.drawId, candidates: r.candidates.length, selected: r.record.selected.length });
          for (const i of r.inspections) await queue.assign(i.id, i.priority);
        }
        return 'done';
      } catch (err) {
        throw permanent(err);
      }
    },
    { connection: o.workerConnection(), ...(o.prefix !== undefined ? { prefix: o.prefix } : {}), concurrency: o.concurrency ?? 4 },
  );
  quietBullmqErrors(dispatchWorker, log, 'dispatch worker');

  const alertWorker = new Worker(
    ALERT_DISPATCH_QUEUE,
    async (job: Job) => {
      const parsed = dispatchAlertSchema.safeParse(job.data);
      if (!parsed.success) {
        stats.rejected++;
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(alert)'}: ${i.message}`).join('; ');
        log.warn({ job: job.id, why }, `alert job ${job.id} refused: ${why}`);
        throw new UnrecoverableError(`not an alert: ${why}`);
      }
      stats.alerts++;
      return dispatchAlert(parsed.data);
    },
    { connection: o.workerConnection(), ...(o.prefix !== undefined ? { prefix: o.prefix } : {}), concurrency: o.concurrency ?? 4 },
  );
  quietBullmqErrors(alertWorker, log, 'alert-dispatch worker');

  async function dispatchAlert(alert: DispatchAlert) {
    const at = new Date();
    // The vessel concerned: the alert's own MMSI, else the one alongside the alert's berth.
    let mmsi = alert.mmsi ?? null;
    if (!mmsi && alert.berth) mmsi = (await o.store.query('SELECT mmsi FROM berth_visits WHERE berth = $1 AND departed_at IS NULL ORDER BY arrived_at DESC LIMIT 1', [alert.berth])).rows[0]?.mmsi ?? null;
    let risk: { profile: string; points: number; imo: number | null; name: string | null } | null = null;
    if (mmsi && o.model) {
      const before = (await o.store.query('SELECT level FROM risk_scores WHERE mmsi = $1 ORDER BY time DESC LIMIT 1', [mmsi])).rows[0]?.level ?? null;
      const when = alert.first ?? alert.time;
      const evidence = { id: alert.id, kind: alert.kind, time: when ? new Date(when) : at, berth: alert.berth ?? null, mmsi: alert.mmsi ?? null };
      const s = await rescoreVessel(o.store, o.model, { mmsi }, at, [evidence]);
      stats.rescored++;
      if (before && before !== s.profile) stats.lifted++;
      risk = { profile: s.profile, points: s.points, imo: s.imo, name: s.name };
      log.info({ mmsi, profile: s.profile, points: s.points, before }, `vessel ${mmsi} rescored on alert ${alert.id}: ${before ?? 'unscored'} → ${s.profile}`);
    }
    const call = mmsi ? (await o.store.query('SELECT company, health FROM vessel_calls WHERE mmsi = $1 ORDER BY eta DESC LIMIT 1', [mmsi])).rows[0] : undefined;
    const healthIssue = Boolean(call?.health && (Number(call.health.ill_crew) > 0 || Number(call.health.deaths) > 0));
    const { inspection, created } = await createInspection(
      o.store,
      {
        target_kind: 'alert',
        target: alert.id,
        alert_id: alert.id,
        severity: alert.severity,
        berth: alert.berth ?? null,
        mmsi,
        imo: risk?.imo ?? null,
        vessel_name: risk?.name ?? null,
        company: call?.company ?? null,
        risk_level: risk?.profile ?? null,
        skills: [...new Set([...ctx.settings.skills.alert, ...(healthIssue ? ctx.settings.skills.health : [])])],
        details: { alert_kind: alert.kind, camera: alert.camera ?? null, zone: alert.zone ?? null },
      },
      ctx.actor,
      at,
    );
    if (created) await markAlertInspected(o.store, inspection, ctx.actor, log);
    await queue.assign(inspection.id, inspection.priority);
    return inspection.id;
  }

  if (o.periodDraws !== false) await queue.scheduleDraws(ctx.settings.draw_every_hours * 3_600_000);
  log.info({ inspectors: ctx.roster.length, rates: ctx.settings.rates, ack_deadline_minutes: ctx.settings.ack_deadline_minutes }, 'dispatch started');

  return {
    queue,
    ctx,
    stats: () => ({ ...stats }),
    async stop(stopOptions = {}) {
      const force = stopOptions.force ?? false;
      await Promise.allSettled([dispatchWorker.close(force), alertWorker.close(force)]);
      await queue.close();
    },
  };
}
