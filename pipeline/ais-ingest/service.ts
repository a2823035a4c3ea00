import type { AisAnomalyOptions } from '../anomalies/index.js';
import type { BerthOccupancyOptions } from '../berths/index.js';
import type { SiteConfig } from '../config/index.js';
import type { FeedStats, LineFeed } from '../feeds/index.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import { AisIngest, type AisIngestStats, type EventPublisher } from './ingest.js';
import { mergeAisSettings } from './settings.js';
import { berthAreas, createFeed, type FeedOverrides } from './site.js';

export interface AisServiceOptions {
  /** Berths, feeds and the `ais:` section (port area, channels, thresholds) of the site. */
  site: Pick<SiteConfig, 'berths' | 'feeds'> & { ais?: SiteConfig['ais'] };
  store: Store;
  logger: Logger;
  /** Overrides merged field by field over the site's `ais.anomalies` (the worker's --ais-options). */
  anomalies?: AisAnomalyOptions | undefined;
  /** Overrides merged field by field over the site's `ais.occupancy`. */
  occupancy?: BerthOccupancyOptions | undefined;
  publisher?: EventPublisher | null;
  /** See AisIngestOptions.onEventStored. */
  onEventStored?: () => void;
  /** `wall` for live feeds, `data` for recorded ones (default: data when every feed is a file). */
  clock?: 'wall' | 'data';
  feedOverrides?: FeedOverrides;
  /** Sweep for silent vessels this often (default 5000 ms). */
  sweepEveryMs?: number;
  /** Log a stats line this often (default 10 000 ms; 0 = never). */
  statsEveryMs?: number;
}

export interface AisService {
  readonly ingest: AisIngest;
  readonly feeds: readonly LineFeed[];
  readonly clock: 'wall' | 'data';
  /** Resolves when every feed has ended by itself (files without loop); never for live feeds. */
  readonly ended: Promise<void>;
  /** Stop the feeds, write everything held, return the final counts. Does not close the store. */
  stop(options?: { timeoutMs?: number }): Promise<AisIngestStats>;
  summary(): AisIngestStats & { seconds: number; feeds: Record<string, FeedStats> };
}

/**
 * The AIS stage of a process: one feed per configured feed into one
 * AisIngest, the sweep and stats timers. `workers/ais.ts` is this plus
 * argument parsing and signals; an all-in-one process can start it too.
 */
export async function startAisService(options: AisServiceOptions): Promise<AisService> {
  const { site, store, logger } = options;
  const settings = mergeAisSettings(site.ais, { anomalies: options.anomalies, occupancy: options.occupancy });
  const ingest = new AisIngest({
    store,
    logger,
    berths: berthAreas(site.berths),
    anomalies: settings.anomalies,
    occupancy: settings.occupancy,
    publisher: options.publisher ?? null,
    ...(options.onEventStored ? { onEventStored: options.onEventStored } : {}),
  });
  // Vessels moored before a restart stay moored (their departure will be written).
  await ingest.restoreOpenVisits();
  const clock = options.clock ?? (site.feeds.length > 0 && site.feeds.every((f) => f.protocol === 'file') ? 'data' : 'wall');
  const feeds = site.feeds.map((f) => createFeed(f, logger, options.feedOverrides));
  const started = Date.now();
  for (const feed of feeds) {
    feed.start(ingest.handleLine);
    void feed.done.then(() => ingest.finishFeed(feed.id));
  }
  const allFiles = site.feeds.every((f) => f.protocol === 'file' && !(options.feedOverrides?.loop ?? f.loop));
  const ended = allFiles ? Promise.all(feeds.map((f) => f.done)).then(() => undefined) : new Promise<void>(() => {});

  const sweepTimer = setInterval(() => {
    const now = clock === 'wall' ? new Date() : ingest.clock;
    if (now) ingest.sweep(now);
  }, options.sweepEveryMs ?? 5000);
  sweepTimer.unref();

  let last = { lines: 0, at: Date.now() };
  const statsEvery = options.statsEveryMs ?? 10_000;
  const statsTimer =
    statsEvery > 0
      ? setInterval(() => {
          const s = ingest.stats();
          const now = Date.now();
          const rate = Math.round(((s.lines - last.lines) * 1000) / Math.max(1, now - last.at));
          last = { lines: s.lines, at: now };
          logger.info(
            {
              lines: s.lines,
              lines_per_s: rate,
              messages: s.messages,
              rejected: s.rejected,
              positions: s.positions,
              written: s.writers.ais_positions.written,
              held: s.writers.ais_positions.held,
              events: s.events_total,
              vessels_upserted: s.vessels_upserted,
              visits: s.visits_written,
              data_time: s.data_time,
              feeds: feeds.map((f) => ({ id: f.id, connects: f.stats.connects, lines: f.stats.lines, error: f.stats.last_error })),
            },
            'AIS ingest stats',
          );
        }, statsEvery)
      : null;
  statsTimer?.unref();

  const summary = () => ({
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ...ingest.stats(),
    feeds: Object.fromEntries(feeds.map((f) => [f.id, { ...f.stats }])),
  });

  return {
    ingest,
    feeds,
    clock,
    ended,
    summary,
    async stop(stopOptions = {}) {
      clearInterval(sweepTimer);
      if (statsTimer) clearInterval(statsTimer);
      await Promise.all(feeds.map((f) => f.stop()));
      return ingest.close(stopOptions);
    },
  };
}
