import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { BoardStream } from '../board/index.js';
import type { AlertRoute, Severity, SiteConfig } from '../config/schema.js';
import { SEVERITIES } from '../config/schema.js';
import type { PortEvent } from '../events/index.js';
import type { Logger } from '../log/index.js';
import { consumeEvents, reviveEvent, type EventConsumer } from '../queue/index.js';
import { quietBullmqErrors } from '../redis/index.js';
import type { Store } from '../store/index.js';
import { AlertEngine } from './alert-engine.js';
import { alertMessage, type AlertChangeReason } from './alert-message.js';
import {
  activeRuleShelves,
  alertsNotStored,
  applyAlertChanges,
  escalateAlert,
  shelvedAlerts,
  unshelveAlert,
  type AppliedChange,
  type RuleShelf,
  type StoredAlert,
} from './alert-store.js';
import { MqttPublisher } from './mqtt-publisher.js';
import type { AlertChange } from './types.js';
import { deliverWebhook } from './webhook.js';

/** BullMQ queue the dispatch stage consumes: job name `alert`, data = the alert message, job id `alert.<alert id>`. */
export const ALERT_DISPATCH_QUEUE = 'alert-dispatch';
/** Delayed jobs: `escalate` {alert, step} and `unshelve` {alert}. */
export const ALERT_TIMERS_QUEUE = 'alert-timers';
/** Webhook deliveries, retried with backoff; what fails every attempt stays in the failed set and is counted. */
export const ALERT_WEBHOOK_QUEUE = 'alert-webhook';
/** Escalations per alert at most. */
export const MAX_ESCALATIONS = 3;

export interface AlertsServiceOptions {
  site: SiteConfig;
  store: Store;
  logger: Logger;
  /** A new Redis connection per use (BullMQ workers need their own); `connectRedis` of the runtime fits. */
  connect(name: string): Redis;
  /** BullMQ prefix of every queue (the `events` queue's). Default `bull`. */
  queuePrefix?: string;
  /** Queue consumed. Default `events`. */
  eventsQueue?: string;
  /** Prefix of the board stream key and the dead-letter counters. Default `portwatch:`. */
  boardPrefix?: string;
  /** Jobs of the events queue in hand at once. Handlers only fold (the writes are batched behind them), so a deep pipeline costs little and keeps BullMQ busy. Default 256. */
  concurrency?: number;
  /** Alert changes are written in batches collected for this long at least (longer while the previous batch is being written). Default 5 ms. */
  batchMs?: number;
  /** First retry of a failed batch write, doubling to 30 s; events wait on their queue meanwhile. Default 1000 ms. */
  storeRetryMs?: number;
  /** First webhook retry delay, doubling. Default 2000 ms. */
  webhookBackoffMs?: number;
  /** Rebuild the rules' memory from the events table of this far back at start. Default: the longest cooldown plus the flood window plus 10 min. */
  rebuildMs?: number;
  fetch?: typeof fetch;
}

export interface AlertsServiceStats {
  events: number;
  alerts_changed: number;
  alerts_opened: number;
  board_messages: number;
  dispatched: number;
  webhooks_sent: number;
  webhook_retries: number;
  webhook_dead: number;
  mqtt_published: number;
  escalated: number;
  unshelved: number;
  rebuilt_from_events: number;
  store_batches: number;
  /** Alert changes written: under load, several changes of one alert within a batch are one write. */
  store_rows: number;
  store_failures: number;
  /** Batches stored but not announced (Redis unreachable). */
  announce_failures: number;
}

const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

/** A stored change and the event phase that made it. */
type Announced = AppliedChange & { cause?: string | undefined };

/**
 * The alerts worker: consumes the `events` queue, folds events into alerts,
 * stores them with their history, and routes them (board, dispatch, webhook,
 * MQTT); escalation and shelving expiry run as BullMQ delayed jobs, so they
 * survive a restart of the process. One alerts service per site: the rules'
 * memory is in process (rebuilt from the events table at start).
 */
export class AlertsService {
  readonly engine: AlertEngine;
  readonly board: BoardStream;
  readonly stats: AlertsServiceStats = {
    events: 0,
    alerts_changed: 0,
    alerts_opened: 0,
    board_messages: 0,
    dispatched: 0,
    webhooks_sent: 0,
    webhook_retries: 0,
    webhook_dead: 0,
    mqtt_published: 0,
    escalated: 0,
    unshelved: 0,
    rebuilt_from_events: 0,
    store_batches: 0,
    store_rows: 0,
    store_failures: 0,
    announce_failures: 0,
  };
  private readonly o: AlertsServiceOptions;
  private readonly log: Logger;
  private readonly routes: Map<string, AlertRoute>;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly boardPrefix: string;
  private consumer: EventConsumer | null = null;
  private dispatchQueue: Queue | null = null;
  private timers: Queue | null = null;
  private timerWorker: Worker | null = null;
  private webhooks: Queue | null = null;
  private webhookWorker: Worker | null = null;
  private readonly mqtt = new Map<string, MqttPublisher>();
  private shelves: RuleShelf[] = [];
  private shelvesTimer: NodeJS.Timeout | null = null;
  private tick: NodeJS.Timeout | null = null;
  /** Changes folded but not yet stored: the latest per alert (an earlier state of the same alert is superseded). */
  private pending = new Map<string, AlertChange>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** Set while the store refuses writes: handlers wait on it, so events stay on their queue. */
  private storeDown: { promise: Promise<void>; release: () => void; fail: (err: Error) => void } | null = null;
  private storeRetryDelay = 0;
  private stopping = false;
  private readonly activeSeen = new Map<string, boolean>();
  private readonly cameraFaults = new Map<string, Set<string>>();
  private readonly berthVessels = new Map<string, Set<number>>();

  constructor(o: AlertsServiceOptions) {
    this.o = o;
    this.log = o.logger.child({ stage: 'alerts' });
    this.engine = new AlertEngine({ site: o.site });
    this.routes = new Map(o.site.alerts.routes.map((r) => [r.id, r]));
    this.redis = o.connect('alerts-board');
    this.connections.push(this.redis);
    this.prefix = o.queuePrefix ?? 'bull';
    this.boardPrefix = o.boardPrefix ?? 'portwatch:';
    this.board = new BoardStream({ redis: this.redis, prefix: this.boardPrefix });
  }

  private readonly connections: Redis[] = [];

  private bull(name: string): { connection: ConnectionOptions; prefix: string } {
    const c = this.o.connect(name);
    this.connections.push(c);
    return { connection: c, prefix: this.prefix };
  }

  async start(): Promise<void> {
    await this.rebuild();
    await this.refreshShelves();
    this.dispatchQueue = new Queue(ALERT_DISPATCH_QUEUE, { ...this.bull('alert-dispatch'), defaultJobOptions: { removeOnComplete: { age: 86_400, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } } });
    this.timers = new Queue(ALERT_TIMERS_QUEUE, { ...this.bull('alert-timers'), defaultJobOptions: { removeOnComplete: true, removeOnFail: { age: 7 * 86_400 }, attempts: 5, backoff: { type: 'exponential', delay: 1_000 } } });
    this.webhooks = new Queue(ALERT_WEBHOOK_QUEUE, { ...this.bull('alert-webhook'), defaultJobOptions: { removeOnComplete: { age: 3_600, count: 1_000 }, removeOnFail: { age: 7 * 86_400, count: 10_000 } } });
    // Connection errors are the outage tracker's one warning, not one line per queue and retry.
    for (const q of [this.dispatchQueue, this.timers, this.webhooks]) quietBullmqErrors(q, this.log, 'alerts queue');
    this.timerWorker = new Worker(ALERT_TIMERS_QUEUE, (job) => this.onTimer(job), { ...this.bull('alert-timers-worker'), concurrency: 8 });
    this.webhookWorker = new Worker(ALERT_WEBHOOK_QUEUE, (job) => this.onWebhook(job), { ...this.bull('alert-webhook-worker'), concurrency: 8 });
    for (const w of [this.timerWorker, this.webhookWorker]) quietBullmqErrors(w, this.log, 'alerts worker');
    this.webhookWorker.on('failed', (job, err) => {
      if (!job) return;
      if (job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.stats.webhook_dead++;
        void this.redis.incr(`${this.boardPrefix}alerts:webhook:dead:${(job.data as { route: string }).route}`).catch(() => undefined);
        this.log.error({ route: job.data.route, alert: job.data.alert?.id, err: err.message, attempts: job.attemptsMade }, 'webhook delivery dead-lettered after every attempt');
      } else {
        this.stats.webhook_retries++;
        this.log.warn({ route: job.data.route, err: err.message, attempt: job.attemptsMade }, 'webhook delivery failed; will retry');
      }
    });
    for (const r of this.o.site.alerts.routes) {
      if (r.kind === 'mqtt') this.mqtt.set(r.id, new MqttPublisher({ url: r.url, prefix: r.topic_prefix, logger: this.log }));
    }
    // Shelvings made elsewhere (API, CLI) get their expiry job here; job ids make this idempotent.
    await this.sweepShelved();
    this.shelvesTimer = setInterval(() => {
      void this.refreshShelves();
      if (++this.sweeps % 6 === 0) void this.sweepShelved();
    }, 5_000);
    this.shelvesTimer.unref();
    // Floods end by themselves: move the rules' clock while no events come.
    this.tick = setInterval(() => this.record(this.engine.advance(new Date())), 5_000);
    this.tick.unref();
    this.consumer = consumeEvents((event) => this.handle(event), {
      connection: this.bull('alerts-events').connection,
      logger: this.log,
      prefix: this.prefix,
      concurrency: this.o.concurrency ?? 256,
      ...(this.o.eventsQueue ? { name: this.o.eventsQueue } : {}),
    });
    this.log.info({ rules: this.o.site.alerts.rules.length, routes: [...this.routes.keys()], board: this.board.key }, 'alerts worker started');
  }

  /** Dead-lettered webhook deliveries per route (kept in Redis across restarts). */
  async deadLetters(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.routes.values()) {
      if (r.kind !== 'webhook') continue;
      out[r.id] = Number((await this.redis.get(`${this.boardPrefix}alerts:webhook:dead:${r.id}`)) ?? 0);
    }
    return out;
  }

  /**
   * One event: folded into the alerts in memory, which are then stored and
   * routed in batches. The job completes once folded, not once stored (group
   * commit: a batch holds every alert changed since the last one, so the
   * writes per event fall as the load rises). What a crash loses before the
   * write, the start rebuilds from the events table (decision 37). While the
   * store refuses writes, handlers wait, so events stay on their queue.
   */
  async handle(event: PortEvent): Promise<void> {
    if (this.storeDown) await this.storeDown.promise;
    this.stats.events++;
    await this.sideChannels(event);
    this.record(this.engine.ingest(event));
  }

  private record(changes: readonly AlertChange[]): void {
    if (changes.length === 0) return;
    for (const c of changes) this.pending.set(c.alert.id, c);
    this.scheduleFlush(this.o.batchMs ?? 5);
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer || this.flushing) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        if (this.pending.size > 0 && !this.stopping) this.scheduleFlush(this.storeDown ? this.storeRetryDelay : 0);
      });
    }, delayMs);
  }

  /** Stores every pending change in one transaction, then announces them; on a store failure keeps them and holds the handlers. */
  private async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    let applied: AppliedChange[];
    try {
      applied = await applyAlertChanges(this.o.store, batch);
    } catch (err) {
      // Put back what was not written, unless a newer change of the same alert came meanwhile.
      for (const c of batch) if (!this.pending.has(c.alert.id)) this.pending.set(c.alert.id, c);
      this.stats.store_failures++;
      this.storeRetryDelay = Math.min(30_000, this.storeRetryDelay > 0 ? this.storeRetryDelay * 2 : (this.o.storeRetryMs ?? 1_000));
      if (!this.storeDown && !this.stopping) {
        let release: () => void = () => undefined;
        let fail: (err: Error) => void = () => undefined;
        const promise = new Promise<void>((ok, no) => {
          release = ok;
          fail = no;
        });
        promise.catch(() => undefined);
        this.storeDown = { promise, release, fail };
        this.log.warn({ err: (err as Error).message, alerts: this.pending.size }, 'could not store alert changes; events wait on their queue, retrying');
      }
      return;
    }
    if (this.storeDown) {
      this.log.info({ failures: this.stats.store_failures }, 'alert changes stored again');
      this.storeDown.release();
      this.storeDown = null;
    }
    this.storeRetryDelay = 0;
    this.stats.store_batches++;
    this.stats.store_rows += applied.length;
    const cause = new Map(batch.map((c) => [c.alert.id, c.cause]));
    await this.announceApplied(applied.map((a) => ({ ...a, cause: cause.get(a.alert.id) })));
  }

  /** At stop: one last write of what is pending; what the store refuses is rebuilt from the events table at the next start. */
  private async writeLast(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.flushing) await this.flushing;
    if (this.pending.size > 0) await this.flush();
    if (this.pending.size > 0) this.log.warn({ alerts: this.pending.size }, 'alert changes not written at stop; the next start rebuilds them from the events table');
  }

  /** Resolves once every change folded so far is stored and announced (benchmarks, tests, shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      if (this.flushing) await this.flushing;
      else if (this.pending.size > 0 && !this.storeDown) {
        if (this.flushTimer) {
          clearTimeout(this.flushTimer);
          this.flushTimer = null;
        }
        this.flushing = this.flush().finally(() => (this.flushing = null));
      } else return;
    }
  }

  private async announceApplied(applied: Announced[]): Promise<void> {
    const list: Array<{ alert: StoredAlert; change: AlertChangeReason; cause?: string | undefined }> = [];
    for (const { alert, opened, cause } of applied) {
      this.stats.alerts_changed++;
      if (opened) this.stats.alerts_opened++;
      const wasActive = this.activeSeen.get(alert.id);
      this.activeSeen.set(alert.id, alert.active);
      const change: AlertChangeReason = alert.merged_into ? 'merged' : opened ? 'opened' : wasActive && !alert.active ? 'cleared' : alert.flood ? 'flooded' : 'updated';
      list.push({ alert, change, cause });
    }
    if (this.activeSeen.size > 100_000) for (const k of [...this.activeSeen.keys()].slice(0, 50_000)) this.activeSeen.delete(k);
    try {
      for (const { alert, change } of list) if (change === 'opened' && !alert.flood) await this.scheduleEscalation(alert, 1);
      await this.announce(list);
    } catch (err) {
      // Stored, not announced (Redis unreachable): the board and the routes miss this batch, the store has it.
      this.stats.announce_failures++;
      this.log.warn({ err: (err as Error).message, alerts: list.length }, 'stored alert changes could not be announced');
    }
  }

  /** Board first (the command center), then dispatch, webhooks and MQTT for alerts that are announced. */
  async announce(list: ReadonlyArray<{ alert: StoredAlert; change: AlertChangeReason; cause?: string | undefined }>): Promise<void> {
    const board: Array<{ type: 'alert'; data: unknown }> = [];
    const rest: Array<Promise<unknown>> = [];
    for (const { alert, change, cause } of list) {
      const msg = cause ? { ...alertMessage(alert, change), cause } : alertMessage(alert, change);
      const routes = alert.routes.map((id) => this.routes.get(id)).filter((r): r is AlertRoute => r !== undefined && (!r.min_severity || severityRank(alert.severity) >= severityRank(r.min_severity)));
      if (routes.some((r) => r.kind === 'board')) board.push({ type: 'alert', data: msg });
      // A flood member, a merged alert or a shelved one is on the board (which hides it) and nowhere else.
      if (alert.flood || alert.merged_into || alert.shelved || this.ruleShelved(alert)) continue;
      for (const r of routes) {
        if (r.kind === 'dispatch' && change === 'opened') {
          rest.push(this.dispatchQueue!.add('alert', msg, { jobId: `alert.${alert.id}` }).then(() => this.stats.dispatched++));
        } else if (r.kind === 'webhook' && WEBHOOK_CHANGES.has(change)) {
          const n = change === 'escalated' ? alert.escalations : 0;
          rest.push(
            this.webhooks!.add('post', { route: r.id, alert: msg }, {
              jobId: `${r.id}.${alert.id}.${change}.${n}`,
              attempts: r.max_attempts,
              backoff: { type: 'exponential', delay: this.o.webhookBackoffMs ?? 2_000 },
            }),
          );
        } else if (r.kind === 'mqtt') {
          rest.push(this.mqtt.get(r.id)!.alert(msg).then(() => this.stats.mqtt_published++));
        }
      }
    }
    if (board.length > 0) {
      await this.board.appendMany(board);
      this.stats.board_messages += board.length;
    }
    await Promise.all(rest);
  }

  private ruleShelved(a: StoredAlert): boolean {
    const now = Date.now();
    return this.shelves.some((s) => s.rule === a.rule && (s.camera === '' || s.camera === a.camera) && s.until.getTime() > now);
  }

  private async refreshShelves(): Promise<void> {
    try {
      this.shelves = await activeRuleShelves(this.o.store);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not read rule shelves');
    }
  }

  private sweeps = 0;

  private async sweepShelved(): Promise<void> {
    try {
      for (const a of await shelvedAlerts(this.o.store)) await this.scheduleUnshelve(a);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not schedule shelving expiries');
    }
  }

  private async scheduleEscalation(alert: StoredAlert, step: number): Promise<void> {
    const after = this.o.site.alerts.escalate_after_seconds[alert.severity] ?? 0;
    if (!(after > 0) || step > MAX_ESCALATIONS) return;
    await this.timers!.add('escalate', { alert: alert.id, step }, { delay: after * 1000, jobId: `escalate.${alert.id}.${step}` });
  }

  /** Schedules the end of a shelving (call after `shelveAlert`). */
  async scheduleUnshelve(alert: StoredAlert): Promise<void> {
    if (!alert.shelved_until) return;
    const delay = Math.max(0, alert.shelved_until.getTime() - Date.now());
    await this.timers!.add('unshelve', { alert: alert.id }, { delay, jobId: `unshelve.${alert.id}.${alert.shelved_until.getTime()}` });
  }

  private async onTimer(job: Job): Promise<void> {
    const { alert: id, step } = job.data as { alert: string; step?: number };
    if (job.name === 'escalate') {
      const up = await escalateAlert(this.o.store, id, { step: step ?? 1 });
      if (!up) return;
      this.stats.escalated++;
      await this.announce([{ alert: up.alert, change: 'escalated' }]);
      await this.scheduleEscalation(up.alert, (step ?? 1) + 1);
    } else if (job.name === 'unshelve') {
      const up = await unshelveAlert(this.o.store, id, { by: 'system', onlyIfDue: true });
      if (!up) return;
      this.stats.unshelved++;
      await this.announce([{ alert: up.alert, change: 'unshelved' }]);
    }
  }

  private async onWebhook(job: Job): Promise<void> {
    const { route: id, alert } = job.data as { route: string; alert: unknown };
    const route = this.routes.get(id);
    if (!route || route.kind !== 'webhook') throw new Error(`route ${id} is not a webhook of this site any more`);
    await deliverWebhook({ url: route.url, secret: route.secret, body: JSON.stringify(alert), deliveryId: job.id ?? '', ...(this.o.fetch ? { fetch: this.o.fetch } : {}) });
    this.stats.webhooks_sent++;
  }

  /** Camera health and berth visits: board messages and retained MQTT state, besides any alert they make. */
  private async sideChannels(e: PortEvent): Promise<void> {
    const time = e.time.toISOString();
    if (e.kind.startsWith('camera_') && e.camera && e.phase !== 'update') {
      const faults = this.cameraFaults.get(e.camera) ?? new Set<string>();
      const fault = e.kind.slice('camera_'.length);
      const before = faults.has(fault);
      if (e.phase === 'start') faults.add(fault);
      else faults.delete(fault);
      this.cameraFaults.set(e.camera, faults);
      if (before === faults.has(fault)) return;
      const state = { camera: e.camera, state: faults.size === 0 ? 'ok' : [...faults].sort().join(','), faults: [...faults].sort(), kind: e.kind, phase: e.phase, time };
      await this.board.append('camera', state);
      this.stats.board_messages++;
      for (const m of this.mqtt.values()) await m.camera(e.camera, state);
    } else if ((e.kind === 'berth_arrival' || e.kind === 'berth_departure') && e.berth) {
      const vessels = this.berthVessels.get(e.berth) ?? new Set<number>();
      if (e.mmsi != null) {
        if (e.kind === 'berth_arrival') vessels.add(e.mmsi);
        else vessels.delete(e.mmsi);
      }
      this.berthVessels.set(e.berth, vessels);
      const msg = { berth: e.berth, mmsi: e.mmsi ?? null, kind: e.kind, time, vessels: [...vessels].sort((a, b) => a - b), occupied: vessels.size > 0, ...(e.details?.vessel_name ? { vessel_name: e.details.vessel_name } : {}) };
      await this.board.append('berth', msg);
      this.stats.board_messages++;
      for (const m of this.mqtt.values()) await m.berth(e.berth, msg);
    }
  }

  /** The rules' memory from the events stored recently: a restarted worker keeps folding into the same incidents. */
  private async rebuild(): Promise<void> {
    const a = this.o.site.alerts;
    const longest = Math.max(0, ...a.rules.map((r) => r.cooldown_seconds));
    const ms = this.o.rebuildMs ?? (longest + a.flood.window_seconds + 600) * 1000;
    if (ms <= 0) return;
    // From before the last alert write too: events whose jobs completed just before a crash were folded, not yet written.
    const last = await this.o.store.query('SELECT max(updated_at) AS t FROM alerts');
    const lastWrite = last.rows[0]?.t ? new Date(last.rows[0].t).getTime() : Date.now();
    const since = new Date(Math.min(Date.now(), lastWrite) - ms);
    const r = await this.o.store.query('SELECT * FROM events WHERE time >= $1 ORDER BY time LIMIT 200000', [since]);
    const latest = new Map<string, AlertChange>();
    for (const row of r.rows) {
      try {
        const e = reviveEvent({ ...row, time: row.time instanceof Date ? row.time.toISOString() : row.time, details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details });
        for (const c of this.engine.ingest(e)) latest.set(c.alert.id, c);
        this.stats.rebuilt_from_events++;
      } catch {
        // A row that is not an event now was not one then either: the consumer refused it too.
      }
    }
    const unwritten = new Set((await alertsNotStored(this.o.store, [...latest.values()].map((c) => c.alert))).map((a) => a.id));
    this.record([...latest.values()].filter((c) => unwritten.has(c.alert.id)));
    if (this.stats.rebuilt_from_events > 0) this.log.info({ events: this.stats.rebuilt_from_events, since: since.toISOString(), unwritten: unwritten.size }, 'alert rules rebuilt from stored events');
  }

  /** `force`: Redis is unreachable, do not wait for jobs in hand (they stay on their queues for the next start). */
  async stop(options: { force?: boolean } = {}): Promise<void> {
    const force = options.force ?? false;
    if (this.shelvesTimer) clearInterval(this.shelvesTimer);
    if (this.tick) clearInterval(this.tick);
    // Jobs waiting for the store go back to their queue (failed, retried later), not held until it returns.
    this.stopping = true;
    this.storeDown?.fail(new Error('alerts worker stopping while the store refuses writes; the event is handled again at the next start'));
    await this.consumer?.close(force);
    await this.writeLast();
    await Promise.all([this.timerWorker?.close(force), this.webhookWorker?.close(force)]);
    await Promise.all([this.dispatchQueue?.close(), this.timers?.close(), this.webhooks?.close()]);
    for (const m of this.mqtt.values()) await m.close();
    await this.board.close();
    for (const c of this.connections) c.disconnect();
  }
}

const WEBHOOK_CHANGES = new Set<AlertChangeReason>(['opened', 'cleared', 'escalated', 'acknowledged', 'resolved', 'false_alarm', 'dispatched']);
