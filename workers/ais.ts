/**
 * AIS worker: the site's AIS/NMEA feeds → ais_positions, vessels, berth_visits, events.
 *
 *   node --import tsx workers/ais.ts --site config/site.demo.yaml [--duration 60]
 *
 * Site file: --site or PORTWATCH_SITE. Store: DATABASE_URL (a TimescaleDB or
 * PostgreSQL server), else the embedded database in --data-dir (default
 * ./data/pglite). Events also go to the BullMQ `events` queue when REDIS_URL
 * (or --redis) is set. AIS thresholds, port area and channels come from the
 * site's `ais:` section; --ais-options FILE (YAML or JSON, the same shape)
 * overrides it field by field, for trying thresholds without editing the site.
 * SIGTERM/SIGINT (or the end of --duration, or every file feed at its end)
 * stops the feeds, flushes every row and exits; with --duration a summary
 * JSON goes to stdout.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseAisIngestSettings, startAisService, type EventPublisher } from '../pipeline/ais-ingest/index.js';
import { loadSiteConfig } from '../pipeline/config/index.js';
import { createLogger } from '../pipeline/log/index.js';
import { DEFAULT_DATA_DIR, migrate, openStore, type Store } from '../pipeline/store/index.js';

const USAGE = `usage: node --import tsx workers/ais.ts [--site FILE] [--duration S] [--data-dir DIR] [--ais-options FILE]
       [--clock wall|data] [--speed N] [--replay fast|realtime] [--redis URL] [--queue-prefix P]
       [--stats-every S] [--sweep-every S] [--log-level L]
env: PORTWATCH_SITE, DATABASE_URL, REDIS_URL, LOG_LEVEL`;

const OPTIONS = {
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
  help: { type: 'boolean' },
} as const;

function parseCommandLine() {
  try {
    return parseArgs({ options: OPTIONS, strict: true }).values;
  } catch (err) {
    process.stderr.write(`ais worker: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const args = parseCommandLine();
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

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

// Overrides only: the site's own `ais:` section is applied by startAisService.
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
// Default: live feeds run on the wall clock, recorded files on their own (their times are in the past).
const clock = args.clock;
if (clock !== undefined && clock !== 'wall' && clock !== 'data') fail('--clock is wall or data');

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
  const { connectRedis } = await import('../pipeline/redis/index.js');
  let connection;
  try {
    connection = connectRedis({ url: redisUrl, logger, name: 'events-queue', source: args.redis ? '--redis' : 'REDIS_URL' });
  } catch (err) {
    fail((err as Error).message);
  }
  const q = new EventQueue({
    connection,
    logger,
    ...(args['queue-prefix'] ? { prefix: args['queue-prefix'] } : {}),
  });
  queue = { publisher: q, close: async () => (await q.close(), connection.disconnect()) };
}

const service = await startAisService({
  site,
  store,
  logger,
  anomalies: aisSettings.anomalies,
  occupancy: aisSettings.occupancy,
  publisher: queue?.publisher ?? null,
  clock,
  feedOverrides: { ...(speed !== undefined ? { speed } : {}), ...(replay !== undefined ? { replay } : {}) },
  sweepEveryMs: Number(args['sweep-every']) * 1000,
  statsEveryMs: Number(args['stats-every']) * 1000,
});
logger.info(
  { site: site.site.name, feeds: site.feeds.map((f) => `${f.id}:${f.protocol}`), berths: site.berths.length, store: store.kind, clock: service.clock, queue: Boolean(queue) },
  'AIS worker started',
);

let stopping = false;
async function shutdown(reason: string, printSummary: boolean): Promise<void> {
  if (stopping) {
    logger.error(`${reason} again while flushing: exiting now, unflushed rows are lost`);
    process.exit(1);
  }
  stopping = true;
  try {
    await stop(reason, printSummary);
  } catch (err) {
    logger.error({ err }, `AIS worker shutdown failed: ${(err as Error).message}`);
    process.exit(1);
  }
}

async function stop(reason: string, printSummary: boolean): Promise<void> {
  logger.info({ reason }, 'AIS worker stopping: flushing');
  const stats = await service.stop({ timeoutMs: 25_000 });
  const abandoned = stats.writers.ais_positions.abandoned + stats.writers.events.abandoned;
  const result = { ...service.summary(), store: store.kind, reject_samples: service.ingest.rejectSamples().slice(0, 10) };
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
void service.ended.then(() => shutdown('end of input', true));
