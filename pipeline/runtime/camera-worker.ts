import { startCameraService } from '../camera/index.js';
import { healthThresholds } from './settings.js';
import type { RunningWorker, WorkerKind } from './worker-context.js';

/** Cameras: leased through Redis when there is one (shared with every camera worker), else all of the site's, unshared. */
export const cameraWorker: WorkerKind = {
  name: 'camera',
  wanted: (site) => site.cameras.some((c) => c.enabled),
  async start(ctx) {
    const s = ctx.settings.camera;
    const log = ctx.logger.child({ stage: 'camera', worker: ctx.workerId });
    const health = healthThresholds(ctx.settings);
    const service = await startCameraService({
      site: ctx.site,
      store: ctx.store,
      logger: log,
      events: ctx.events,
      redis: ctx.redisUrl ? ctx.connectRedis('camera-leases') : null,
      workerId: ctx.workerId,
      leasePrefix: ctx.settings.lease_prefix,
      leaseTtlMs: s.lease_ttl_seconds * 1000,
      ...(s.capacity ? { capacity: s.capacity } : {}),
      snapshotDir: ctx.snapshotDir,
      clips: { dataDir: ctx.dataDir },
      keyframeIntervalS: s.keyframe_interval ?? null,
      decodeOnDemand: s.decode === 'on-demand',
      detectionsPerS: s.detections_per_second,
      healthEveryS: s.health_every_seconds,
      ...(health ? { health } : {}),
      backoffCapMs: s.backoff_cap_seconds * 1000,
      maxBatch: s.max_batch,
      sessions: s.sessions,
      threads: s.threads,
    });
    const statsTimer = setInterval(() => log.info(service.stats(), 'stats'), s.stats_every_seconds * 1000);
    statsTimer.unref();
    return {
      stats: () => ({ ...service.stats() }),
      summary: () => ({ ...service.stats() }),
      async stop(options = {}) {
        clearInterval(statsTimer);
        const { abandoned } = await service.stop({ timeoutMs: options.timeoutMs ?? ctx.settings.stop_deadline_seconds * 1000 });
        log.info({ ...service.stats(), abandoned }, 'camera worker stopped');
        return { abandoned };
      },
      service,
    } as RunningWorker & { service: typeof service };
  },
};
