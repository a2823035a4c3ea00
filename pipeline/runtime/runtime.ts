import type { Registry } from 'prom-client';
import type { Logger } from '../log/index.js';
import { createMetricsRegistry, registerPortwatchMetrics, runtimeSources, startMetricsServer, type MetricsServer } from '../metrics/index.js';
import type { Store } from '../store/index.js';
import { WORKER_KINDS, workerKind } from './kinds.js';
import { openWorkerContext, type OpenWorkerContext, type RunningWorker, type WorkerContextOptions, type WorkerOptions } from './worker-context.js';

export interface RuntimeOptions extends WorkerContextOptions {
  /** Kinds to start, by name; default: every registered kind the site wants (`portwatch run`). */
  kinds?: readonly string[];
  worker?: WorkerOptions;
  /** Serve this process's metrics on GET http://127.0.0.1:PORT/metrics (pipeline/metrics). */
  metricsPort?: number;
}

export interface StopReport {
  /** Everything drained within the deadline. */
  clean: boolean;
  /** Rows given up by writers (the database would not take them in time). */
  abandoned: number;
  /** Stored events not yet on the queue: they stay in the outbox and are published at the next start. */
  unpublished: number;
  /** What had not finished at the deadline. */
  unfinished: string[];
  ms: number;
}

export interface Runtime {
  ctx: OpenWorkerContext;
  workers: ReadonlyMap<string, RunningWorker>;
  /** Resolves when every started worker has ended by itself (never for live inputs). */
  ended: Promise<void>;
  /**
   * Drains every worker, then the event spine, Redis and the store, within
   * `deadlineMs` (default: the site's `workers.stop_deadline_seconds`), whatever
   * is down. What could not be finished is named in the report, not waited for.
   */
  stop(options?: { deadlineMs?: number; beforeClose?: (store: Store) => Promise<void> }): Promise<StopReport>;
}

/** Opens the context and starts the kinds; a kind that fails to start stops the ones already started. */
export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const names = o.kinds ?? WORKER_KINDS.filter((k) => k.wanted(o.site)).map((k) => k.name);
  const kinds = names.map(workerKind);
  const ctx = await openWorkerContext(o);
  const workers = new Map<string, RunningWorker>();
  const log: Logger = ctx.logger;
  // One registry per process, read from the workers' stats at scrape time (the API serves it at /metrics too).
  ctx.metricsRegistry ??= processMetrics({ workers, ctx }, { labels: { worker: ctx.workerId } });
  let metricsServer: MetricsServer | null = null;
  try {
    if (o.metricsPort !== undefined) metricsServer = await startMetricsServer({ registry: ctx.metricsRegistry as Registry, port: o.metricsPort, logger: log });
    for (const k of kinds) workers.set(k.name, await k.start(ctx, o.worker ?? {}));
  } catch (err) {
    await metricsServer?.close();
    await Promise.allSettled([...workers.values()].map((w) => w.stop()));
    await ctx.close({ timeoutMs: 2_000 });
    throw err;
  }
  log.info({ kinds: names, worker: ctx.workerId, store: ctx.store.kind, redis: Boolean(ctx.redisUrl) }, `started: ${names.join(', ') || 'no workers'}`);
  const endings = [...workers.values()].map((w) => w.ended).filter((p): p is Promise<void> => p !== undefined);
  const ended = endings.length === workers.size && workers.size > 0 ? Promise.all(endings).then(() => undefined) : new Promise<void>(() => {});

  let stopping: Promise<StopReport> | null = null;
  return {
    ctx,
    workers,
    ended,
    stop(options = {}) {
      stopping ??= (async () => {
        const t0 = Date.now();
        const deadlineMs = options.deadlineMs ?? ctx.settings.stop_deadline_seconds * 1000;
        const budget = stopBudget(deadlineMs);
        const unfinished = new Set<string>();
        let abandoned = 0;
        let unpublished = 0;
        const step = async (name: string, p: Promise<unknown>) => {
          unfinished.add(name);
          await p.catch((err: unknown) => log.error({ err }, `${name}: stop failed`));
          unfinished.delete(name);
        };
        const all = (async () => {
          // Reverse start order: producers of events stop before what carries them.
          await metricsServer?.close();
          const workersStopped = Promise.all(
            [...workers].reverse().map(([name, w]) =>
              step(
                name,
                w.stop({ timeoutMs: budget.workersMs }).then((r) => void (abandoned += (r && r.abandoned) || 0)),
              ),
            ),
          );
          // A worker stuck past its share (a drain waiting on something down) must not eat the spine's: the spine closes anyway.
          let workersTimer: NodeJS.Timeout | undefined;
          await Promise.race([workersStopped, new Promise((r) => (workersTimer = setTimeout(r, budget.workersMs + 250)))]);
          clearTimeout(workersTimer);
          const left = Math.max(500, budget.finishMs - (Date.now() - t0) - 250);
          await step(
            'event spine',
            ctx.close({ timeoutMs: left, ...(options.beforeClose ? { beforeClose: options.beforeClose } : {}) }).then((r) => {
              abandoned += r.abandoned;
              unpublished = r.unpublished;
            }),
          );
          await workersStopped;
        })();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), Math.max(0, budget.finishMs - (Date.now() - t0)))))]);
        clearTimeout(timer);
        const report: StopReport = { clean: !timedOut && abandoned === 0, abandoned, unpublished, unfinished: [...unfinished], ms: Date.now() - t0 };
        const message = stopMessage(report, timedOut);
        if (timedOut) log.error(report, message);
        else if (abandoned > 0 || unpublished > 0) log.warn(report, message);
        else log.info(report, message);
        return report;
      })();
      return stopping;
    },
  };
}

/**
 * How a drain deadline is shared. The last tenth (at most 1 s) is kept for the
 * process to kill its children and exit, so that the process itself is gone
 * within the deadline; of the rest, the workers (cameras released, feeds
 * stopped, their writers flushed) get 60 % and the event spine (events
 * written, the outbox published, Redis and the store closed) what is left.
 */
function stopBudget(deadlineMs: number): { workersMs: number; finishMs: number } {
  const finishMs = deadlineMs - Math.min(1_000, deadlineMs * 0.1);
  return { workersMs: Math.round(finishMs * 0.6), finishMs };
}

/** The one line a stop ends with: "stopped", or what was not flushed and where it stays. */
function stopMessage(report: StopReport, timedOut: boolean): string {
  const left: string[] = [];
  if (timedOut) left.push(`not finished in time (stopped waiting after ${(report.ms / 1000).toFixed(1)} s): ${report.unfinished.join(', ')}`);
  if (report.abandoned > 0) left.push(`${report.abandoned} rows not written (the database did not take them in time)`);
  if (timedOut) left.push('stored events not yet published stay in the outbox');
  else if (report.unpublished > 0) left.push(`${report.unpublished} stored events not on the queue yet (they stay in the outbox and are published at the next start)`);
  return left.length > 0 ? `stopped; ${left.join('; ')}` : 'stopped';
}

function processMetrics(rt: Parameters<typeof runtimeSources>[0], o: { labels: Record<string, string> }): Registry {
  const registry = createMetricsRegistry(o);
  registerPortwatchMetrics(registry, runtimeSources(rt));
  return registry;
}
