import type { Queue } from 'bullmq';
import type { Queryable } from '../store/index.js';
import type { AisStatsSource, CameraStatsSource, MetricSources, QueueStatsSource } from './portwatch-metrics.js';

/** A BullMQ queue's depth and lag. */
export function bullQueueSource(queue: Queue): QueueStatsSource {
  return {
    async depth() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
      const oldest = (await queue.getJobs(['waiting'], 0, 0, true))[0];
      return { counts: counts as Record<string, number>, oldestWaitingMs: oldest ? Date.now() - oldest.timestamp : null };
    },
  };
}

/** Alerts per kind and state, and camera states, read from the store at scrape time. */
export function storeSources(db: Queryable): Pick<MetricSources, 'alerts' | 'cameraStates'> {
  return {
    alerts: async () => (await db.query(`SELECT kind, state, count(*)::int AS count FROM alerts GROUP BY kind, state`)).rows as Array<{ kind: string; state: string; count: number }>,
    cameraStates: async () =>
      (await db.query(`SELECT DISTINCT ON (camera) camera, state FROM camera_health WHERE time > now() - interval '1 day' ORDER BY camera, time DESC`)).rows as Array<{ camera: string; state: string }>,
  };
}

/**
 * The sources of a running process (pipeline/runtime): its camera and AIS
 * workers' services, its event spine and queue, its store. Pass the runtime's
 * workers map and context; kinds the process does not run yield nothing.
 */
export function runtimeSources(rt: {
  workers: ReadonlyMap<string, unknown>;
  ctx: { store: Queryable; events: { stats(): { stored: number; refused: number; published: number; pending: number } }; queue: { queue: Queue } | null };
}): MetricSources {
  const service = <T>(kind: string) => () => ((rt.workers.get(kind) as { service?: T } | undefined)?.service ?? null) as T | null;
  return {
    cameras: service<CameraStatsSource>('camera'),
    ais: service<AisStatsSource>('ais'),
    events: () => rt.ctx.events.stats(),
    ...(rt.ctx.queue ? { queues: { events: bullQueueSource(rt.ctx.queue.queue) } } : {}),
    ...storeSources(rt.ctx.store),
  };
}
