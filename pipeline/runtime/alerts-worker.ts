import { AlertsService } from '../alerts/index.js';
import { WorkerRedis } from './redis-stop.js';
import type { RunningWorker, WorkerKind } from './worker-context.js';

/**
 * The `events` queue → alerts (stored with their history) → board, dispatch,
 * webhooks, MQTT. Needs Redis; one per site (the rules' memory is in process).
 */
export const alertsWorker: WorkerKind = {
  name: 'alerts',
  wanted: (site) => site.alerts.rules.length > 0,
  async start(ctx) {
    if (!ctx.redisUrl) {
      // `portwatch run` without Redis still stores events; alerts wait for a queue to read.
      ctx.logger.warn('no Redis: the alerts worker does not run (events are stored; set REDIS_URL for alerts)');
      return { stop: async () => undefined, stats: () => ({ running: false }) };
    }
    const redis = new WorkerRedis(ctx);
    const service = new AlertsService({
      site: ctx.site,
      store: ctx.store,
      logger: ctx.logger,
      connect: redis.connect,
      queuePrefix: ctx.settings.queue_prefix,
      boardPrefix: ctx.settings.lease_prefix,
    });
    await service.start();
    const worker: RunningWorker & { service: AlertsService } = {
      service,
      stats: () => ({ ...service.stats, alerts: service.engine.current().length }),
      summary: () => ({ ...service.stats, alerts: service.engine.current().length }),
      async stop(options = {}) {
        await redis.stopWithin((o) => service.stop(o), options.timeoutMs ?? ctx.settings.stop_deadline_seconds * 1000);
      },
    };
    return worker;
  },
};
