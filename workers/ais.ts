/**
 * AIS worker: the site's AIS/NMEA feeds → ais_positions, vessels, berth_visits, events.
 *
 *   node --import tsx workers/ais.ts --site config/site.demo.yaml [--duration 60]
 *
 * Site file: --site or PORTWATCH_SITE. Store: DATABASE_URL (a TimescaleDB or
 * PostgreSQL server), else the embedded database in --data-dir (default
 * ./data/pglite). Events also go to the BullMQ `events` queue when REDIS_URL
 * (or --redis) is set. AIS thresholds, port area and channels: --ais-options
 * FILE (YAML or JSON, see docs/ais-ingest.md) until the site schema has them.
 * SIGTERM/SIGINT (or the end of --duration, or every file feed at its end)
 * stops the feeds, flushes every row and exits; with --duration a summary
 * JSON goes to stdout.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { AisIngest, berthAreas, createFeed, parseAisIngestSettings, type EventPublisher } from '../pipeline/ais-ingest/index.js';
import { loadSiteConfig } from '../pipeline/config/index.js';
import type { LineFeed } from '../pipeline/feeds/index.js';
import { createLogger } from '../pipeline/log/index.js';
import { DEFAULT_DATA_DIR, migrate, openStore, type Store } from '../pipeline/store/index.js';

const { values: args } = parseArgs({
  options: {
    site: { type: 'string' },
    duration: { type: 'string' },
    'data-dir': { type: 'string' },
    'ais-options': { type: 'string' },
    'stats-every': { type: 'string', default: '10' },
    'sweep-every': { type: 'string', default: '5' },
    clock: { type: 'string' },
    speed: { type: 'string' },
    replay: { type: 'string' },
    redis: { type: 'string' },
    'queue-prefix': { type: 'string' },
    'log-level': { type: 'string' },
  },
  strict: true,
});

const logger = createLogger({ level: args['log-level'] ?? process.env.LOG_LEVEL ?? 'info', name: 'ais-worker' });

function fail(message: string, code = 2): never {
  logger.fatal(message);
  process.stderr.write(`ais worker: ${message}\n`);
  process.exit(code);
}

const siteFile = args.site ?? process.env.PORTWATCH_SITE;
if (!siteFile) fail('no site file: pass --site FILE or set PORTWATCH_SITE');
let site;
try {
  site = loadSiteConfig(siteFile, { env: process.env });
} catch (err) {
  fail((err as Error).message);
}
if (site.feeds.length === 0) fail(`${siteFile}: no feeds configured (add one under feeds:, see docs/config.md)`);

let aisSettings: ReturnType<typeof parseAisIngestSettings> = { anomalies: {}, occupancy: {} };
if (args['ais-options']) {
  const file = args['ais-options'];
  try {
    aisSettings = parseAisIngestSettings(parseYaml(readFileSync(file, 'utf8')), file);
  } catch (err) {
    fail(`${file}: ${(err as Error).message}`);
  }
}
const duration = args.duration !== undefined ? Number(args.duration) : null;
if (duration !== null && !(duration > 0)) fail('--duration is a number of seconds above 0');
const replay = args.replay;
if (replay !== undefined && replay !== 'fast' && replay !== 'realtime') fail('--replay is fast or realtime');
const speed = args.speed !== undefined ? Number(args.speed) : undefined;
if (speed !== undefined && !(speed > 0)) fail('--speed is a factor above 0');
// Live feeds run on the wall clock; recorded files on their own (their times are in the past).
const clock = args.clock ?? (site.feeds.every((f) => f.protocol === 'file') ? 'data' : 'wall');
if (clock !== 'wall' && clock !== 'data') fail('--clock is wall or data');

let store: Store;
try {
  store = await openStore({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir: args['data-dir'] ?? DEFAULT_DATA_DIR, logger });
  await migrate(store, { logger, settings: site.store });
} catch (err) {
  fail((err as Error).message, 1);
}

let queue: { publisher: EventPublisher; close(): Promise<void> } | null = null;
const redisUrl = args.redis ?? process.env.REDIS_URL;
if (redisUrl) {
  const { EventQueue } = await import('../pipeline/queue/index.js');
  const u = new URL(redisUrl);
  const q = new EventQueue({
    connection: { host: u.hostname, port: Number(u.port || 6379), ...(u.password ? { password: decodeURIComponent(u.password) } : {}), maxRetriesPerRequest: null },
    logger,
    ...(args['queue-prefix'] ? { prefix: args['queue-prefix'] } : {}),
  });
  queue = { publisher: q, close: () => q.close() };
}

const ingest = new AisIngest({
  store,
  logger,
  berths: berthAreas(site.berths),
  anomalies: aisSettings.anomalies,
  occupancy: aisSettings.occupancy,
  publisher: queue?.publisher ?? null,
});

const feeds: LineFeed[] = site.feeds.map((f) =>
  createFeed(f, logger, { ...(speed !== undefined ? { speed } : {}), ...(replay !== undefined ? { replay } : {}) }),
);
const started = Date.now();
for (const feed of feeds) {
  feed.start(ingest.handleLine);
  void feed.done.then(() => ingest.finishFeed(feed.id));
}
logger.info(
  { site: site.site.name, feeds: site.feeds.map((f) => `${f.id}:${f.protocol}`), berths: site.berths.length, store: store.kind, clock, queue: Boolean(queue) },
  'AIS worker started',
);

const sweepTimer = setInterval(() => {
  const now = clock === 'wall' ? new Date() : ingest.clock;
  if (now) ingest.sweep(now);
}, Number(args['sweep-every']) * 1000);

function summary() {
  const s = ingest.stats();
  return {
    seconds: Math.round((Date.now() - started) / 100) / 10,
    store: store.kind,
    ...s,
    feeds: Object.fromEntries(feeds.map((f) => [f.id, f.stats])),
    reject_samples: ingest.rejectSamples().slice(0, 10),
  };
}

let last = { lines: 0, at: Date.now() };
const statsTimer = setInterval(() => {
  const s = ingest.stats();
  const now = Date.now();
  const rate = Math.round(((s.lines - last.lines) * 1000) / Math.max(1, now - last.at));
  last = { lines: s.lines, at: now };
  logger.info(
    {
      lines: s.lines, lines_per_s: rate, messages: s.messages, rejected: s.rejected, positions: s.positions,
      written: s.writers.ais_positions.written, held: s.writers.ais_positions.held, events: s.events_total,
      vessels_upserted: s.vessels_upserted, visits: s.visits_written, data_time: s.data_time,
      feeds: feeds.map((f) => ({ id: f.id, connects: f.stats.connects, lines: f.stats.lines, error: f.stats.last_error })),
    },
    'AIS ingest stats',
  );
}, Number(args['stats-every']) * 1000);

let stopping = false;
async function shutdown(reason: string, printSummary: boolean): Promise<void> {
  if (stopping) {
    logger.error(`${reason} again while flushing: exiting now, unflushed rows are lost`);
    process.exit(1);
  }
  stopping = true;
  logger.info({ reason }, 'AIS worker stopping: flushing');
  clearInterval(sweepTimer);
  clearInterval(statsTimer);
  await Promise.all(feeds.map((f) => f.stop()));
  const stats = await ingest.close({ timeoutMs: 25_000 });
  const abandoned = stats.writers.ais_positions.abandoned + stats.writers.events.abandoned;
  const result = summary();
  await queue?.close().catch((err) => logger.warn({ err }, 'event queue close failed'));
  await store.close().catch((err) => logger.warn({ err }, 'store close failed'));
  logger.info({ positions: stats.writers.ais_positions.written, events: stats.writers.events.written, abandoned }, 'AIS worker stopped');
  if (printSummary) process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(abandoned > 0 ? 1 : 0);
}

process.on('SIGTERM', () => void shutdown('SIGTERM', duration !== null));
process.on('SIGINT', () => void shutdown('SIGINT', duration !== null));
if (duration !== null) setTimeout(() => void shutdown('duration', true), duration * 1000);
// Every feed a file without loop: stop when all of them have ended.
if (site.feeds.every((f) => f.protocol === 'file' && !f.loop)) {
  void Promise.all(feeds.map((f) => f.done)).then(() => shutdown('end of input', true));
}
