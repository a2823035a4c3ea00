/**
 * The composition root: one place that builds what every worker of a process
 * shares from the site file and the environment, and the shape of a worker.
 *
 *   WorkerContext { site, siteFile, settings, logger, store, redisUrl, connectRedis(name),
 *                   events, dataDir, snapshotDir, workerId, outages, metricsRegistry? }
 *   WorkerKind    { name, start(ctx, options) → RunningWorker { stop(), stats?(), summary?(), ended? } }
 *
 * `startRuntime` (runtime.ts) opens a context and starts the kinds named from
 * the registry (kinds.ts): `portwatch run` starts every kind the site needs in
 * one process, `portwatch worker KIND` one of them. Defaults (lease prefix,
 * snapshot folder, health interval, drain deadline…) live in the site file's
 * `workers:` section (settings.ts) and nowhere else; flags override fields.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { SiteConfig } from '../config/index.js';
import { createEventSink, type EventSink } from '../events/event-sink.js';
import type { Logger } from '../log/index.js';
import { EventQueue } from '../queue/index.js';
import { connectRedis, processRedisOutages, type RedisOutageTracker } from '../redis/index.js';
import { migrate, openStore, startPolicyRunner, type PolicyRunner, type Store } from '../store/index.js';
import type { WorkersSettings } from './settings.js';

export interface WorkerContext {
  site: SiteConfig;
  siteFile: string;
  /** The site's `workers:` section with the command line's overrides applied. */
  settings: WorkersSettings;
  logger: Logger;
  store: Store;
  /** null: no Redis (events are stored only, cameras run unshared). */
  redisUrl: string | null;
  /** A new Redis connection (closed with the context); throws when there is no Redis. */
  connectRedis(name: string): Redis;
  /** The event spine: every stage hands its events here. */
  events: EventSink;
  /** The `events` queue (null without Redis), for kinds that consume or publish beside the spine. */
  queue: EventQueue | null;
  dataDir: string;
  snapshotDir: string;
  /** Unique per process; lease owner and log field. */
  workerId: string;
  outages: RedisOutageTracker;
  /** A prom-client registry when the process serves metrics. */
  metricsRegistry?: unknown;
}

/** What a kind's `start` takes besides the context: process-level choices a site file does not make. */
export interface WorkerOptions {
  /** AIS: `wall` for live feeds, `data` for recorded or sped-up replays. */
  aisClock?: 'wall' | 'data';
  /** AIS: feed overrides for trying a file at another speed. */
  feedOverrides?: { speed?: number; replay?: 'fast' | 'realtime'; loop?: boolean };
  /** AIS: thresholds merged over the site's `ais:` section (`--ais-options FILE`). */
  aisOverrides?: { anomalies?: Record<string, unknown>; occupancy?: Record<string, unknown> };
}

export interface RunningWorker {
  /**
   * Drains: cameras released, feeds stopped, jobs finished or returned, within
   * `timeoutMs` (the worker's share of the runtime's deadline; default the whole
   * `workers.stop_deadline_seconds`). Rows given up are counted in `abandoned`.
   */
  stop(options?: { timeoutMs?: number }): Promise<{ abandoned?: number } | void>;
  /** A status object for the stats line and the demo. */
  stats?(): Record<string, unknown>;
  /** The worker's summary at the end (`--duration`). */
  summary?(): Record<string, unknown>;
  /** Resolves when the worker has nothing left to do by itself (every AIS file feed at its end). */
  ended?: Promise<void>;
}

export interface WorkerKind {
  name: string;
  /** Whether `portwatch run` starts this kind for the site (e.g. camera: the site has cameras). */
  wanted(site: SiteConfig): boolean;
  start(ctx: WorkerContext, options: WorkerOptions): Promise<RunningWorker>;
}

export interface WorkerContextOptions {
  site: SiteConfig;
  siteFile: string;
  settings: WorkersSettings;
  logger: Logger;
  /** Root data folder: embedded database in `pglite/`, snapshots in `snapshots/` (default ./data). */
  dataDir: string;
  /** Embedded database folder (default <dataDir>/pglite; `memory://` for none on disk). */
  dbDir?: string;
  snapshotDir?: string;
  databaseUrl?: string | null;
  redisUrl?: string | null;
  /** Where redisUrl came from, for errors. */
  redisSource?: string;
  workerId?: string;
  queueName?: string;
  /** Run the store's retention and compression policies here (one process per site should). */
  policies?: boolean;
  outages?: RedisOutageTracker;
}

export interface OpenWorkerContext extends WorkerContext {
  /** Closes what the context opened: event sink (bounded), queue, Redis connections, store. */
  close(options?: { timeoutMs?: number; beforeClose?: (store: Store) => Promise<void> }): Promise<{ abandoned: number; unpublished: number }>;
}

export async function openWorkerContext(o: WorkerContextOptions): Promise<OpenWorkerContext> {
  const logger = o.logger;
  const outages = o.outages ?? processRedisOutages();
  const store = await openStore({ databaseUrl: o.databaseUrl || undefined, dataDir: o.dbDir ?? join(o.dataDir, 'pglite'), logger });
  await migrate(store, { logger, settings: o.site.store });
  const policies: PolicyRunner | null = o.policies ? startPolicyRunner(store, logger) : null;
  const redisUrl = o.redisUrl || null;
  const connections: Redis[] = [];
  const connect = (name: string): Redis => {
    if (!redisUrl) throw new Error(`no Redis for "${name}": set REDIS_URL (redis://host:port/db)`);
    const r = connectRedis({ url: redisUrl, logger, name, outages, ...(o.redisSource ? { source: o.redisSource } : {}) });
    connections.push(r);
    return r;
  };
  const queue = redisUrl ? new EventQueue({ connection: connect('events-queue'), logger, prefix: o.settings.queue_prefix, ...(o.queueName ? { name: o.queueName } : {}) }) : null;
  const events = createEventSink({ store, logger, queue, outages: redisUrl ? outages : null });
  let closing: Promise<{ abandoned: number; unpublished: number }> | null = null;
  return {
    site: o.site,
    siteFile: o.siteFile,
    settings: o.settings,
    logger,
    store,
    redisUrl,
    connectRedis: connect,
    events,
    queue,
    dataDir: o.dataDir,
    snapshotDir: o.snapshotDir ?? join(o.dataDir, 'snapshots'),
    workerId: o.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    outages,
    close(options = {}) {
      closing ??= (async () => {
        const r = await events.close({ timeoutMs: options.timeoutMs ?? o.settings.stop_deadline_seconds * 1000 });
        policies?.stop();
        await options.beforeClose?.(store).catch((err: unknown) => logger.warn({ err }, 'before-close step failed'));
        // During an outage a QUIT would wait for Redis: close the queue without waiting for it.
        if (outages.up) await queue?.close().catch(() => undefined);
        else void queue?.close().catch(() => undefined);
        for (const c of connections) c.disconnect();
        await store.close().catch((err: unknown) => logger.warn({ err }, 'store close failed'));
        return r;
      })();
      return closing;
    },
  };
}
