import { startAisService } from '../ais-ingest/index.js';
import type { AisAnomalyOptions } from '../anomalies/index.js';
import type { BerthOccupancyOptions } from '../berths/index.js';
import type { RunningWorker, WorkerKind } from './worker-context.js';

/**
 * The site's AIS/NMEA feeds → positions, vessels, berth visits, events. Events
 * reach the queue through the spine: the ingest stores them and the outbox
 * relay publishes what was stored (a row dropped under backpressure is never published).
 */
export const aisWorker: WorkerKind = {
  name: 'ais',
  wanted: (site) => site.feeds.length > 0,
  async start(ctx, options) {
    if (ctx.site.feeds.length === 0) throw new Error(`${ctx.siteFile}: no feeds configured (add one under feeds:, see docs/config.md)`);
    const s = ctx.settings.ais;
    const log = ctx.logger.child({ stage: 'ais' });
    const service = await startAisService({
      site: ctx.site,
      store: ctx.store,
      logger: log,
      anomalies: options.aisOverrides?.anomalies as AisAnomalyOptions | undefined,
      occupancy: options.aisOverrides?.occupancy as BerthOccupancyOptions | undefined,
      publisher: null,
      // Stored AIS events are published at once, not at the relay's next look at the outbox.
      onEventStored: () => ctx.events.publishStored(),
      ...(options.aisClock ? { clock: options.aisClock } : {}),
      ...(options.feedOverrides ? { feedOverrides: options.feedOverrides } : {}),
      sweepEveryMs: s.sweep_every_seconds * 1000,
      statsEveryMs: s.stats_every_seconds * 1000,
    });
    log.info({ feeds: ctx.site.feeds.map((f) => `${f.id}:${f.protocol}`), berths: ctx.site.berths.length, clock: service.clock }, 'AIS worker started');
    let final: ReturnType<typeof service.summary> | null = null;
    const worker: RunningWorker & { service: typeof service } = {
      service,
      ended: service.ended,
      stats: () => ({ ...service.summary() }),
      summary: () => ({ ...(final ?? service.summary()), store: ctx.store.kind, reject_samples: service.ingest.rejectSamples().slice(0, 10) }),
      async stop(options = {}) {
        const stats = await service.stop({ timeoutMs: options.timeoutMs ?? ctx.settings.stop_deadline_seconds * 1000 });
        final = service.summary();
        const abandoned = stats.writers.ais_positions.abandoned + stats.writers.events.abandoned;
        log.info({ positions: stats.writers.ais_positions.written, events: stats.writers.events.written, abandoned }, 'AIS worker stopped');
        return { abandoned };
      },
    };
    return worker;
  },
};
