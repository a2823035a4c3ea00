/**
 * Camera worker: shares the site's cameras with every other camera worker
 * through Redis leases and runs the ones it holds (ffmpeg → health → motion →
 * detect → track → zones). Events go to the store's writer and onto the BullMQ
 * `events` queue; health rows and (sampled) detections to the store.
 *
 *   PORTWATCH_SITE=config/site.yaml REDIS_URL=redis://… DATABASE_URL=postgres://… node --import tsx workers/camera.ts
 *   node --import tsx workers/camera.ts --site FILE [--capacity 60] [--snapshots DIR] … (--help)
 *
 * No DATABASE_URL: the embedded store in --data-dir (one process only).
 * SIGTERM/SIGINT: leases released (cameras stopped, open events ended), writers
 * flushed, then exit. A stats line is logged every --stats-every seconds.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { startCameraService } from '../pipeline/camera/index.js';
import { ConfigError, loadSiteConfig } from '../pipeline/config/index.js';
import type { HealthThresholds } from '../pipeline/health/index.js';
import { createLogger } from '../pipeline/log/index.js';
import { EventQueue } from '../pipeline/queue/index.js';
import { migrate, openStore } from '../pipeline/store/index.js';
import { connectRedis } from '../pipeline/redis/index.js';

const { values: args } = parseArgs({
  options: {
    site: { type: 'string' },
    'worker-id': { type: 'string' },
    'redis-prefix': { type: 'string' },
    'queue-prefix': { type: 'string' },
    queue: { type: 'string' },
    capacity: { type: 'string' },
    'lease-ttl-ms': { type: 'string' },
    'data-dir': { type: 'string' },
    snapshots: { type: 'string' },
    'keyframe-interval': { type: 'string' },
    decode: { type: 'string' },
    'detections-per-s': { type: 'string' },
    'health-every': { type: 'string' },
    'health-thresholds': { type: 'string' },
    'backoff-cap-ms': { type: 'string' },
    'stats-every': { type: 'string' },
    'max-batch': { type: 'string' },
    sessions: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (args.help) {
  process.stdout.write(`usage: node --import tsx workers/camera.ts [options]
  --site FILE               site file (or PORTWATCH_SITE)
  --worker-id ID            unique per process (default host:pid:random; or PORTWATCH_WORKER_ID)
  --redis-prefix P          lease key prefix (default portwatch:)
  --queue-prefix P, --queue NAME   BullMQ prefix (default bull) and queue (default events)
  --capacity N              most cameras this process runs (default unlimited)
  --lease-ttl-ms MS         lease TTL (default 10000: takeover within ~10 s)
  --data-dir DIR            embedded store when DATABASE_URL is unset (default ./data/pglite)
  --snapshots DIR           event snapshots (default ./data/snapshots)
  --keyframe-interval S     the cameras' GOP in seconds, when known: keyframe-only decoding at low fps
  --decode MODE             with keyframe-only decoding: on-demand (default: the stream is received here,
                            a quiet camera decodes a keyframe every 4 s or on compressed-stream activity)
                            or every-keyframe (one ffmpeg receives and decodes every sampled keyframe)
  --detections-per-s N      detection rows stored per camera per second at most (default 1; 0 = none)
  --health-every S          camera_health row interval (default 10)
  --health-thresholds JSON  e.g. '{"offlineAfterS":20,"frozenAfterS":30}'
  --backoff-cap-ms MS       longest reconnect wait (default 30000)
  --stats-every S           stats line interval (default 30)
  --max-batch N             detector batch size across cameras (default 4)
  --sessions N              detector sessions per model, about one core each (default 1)
`);
  process.exit(0);
}

const num = (v: string | undefined, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`camera worker: --${name} must be a non-negative number, got "${v}"\n`);
    process.exit(2);
  }
  return n;
};
const decodeMode = args.decode ?? 'on-demand';
if (decodeMode !== 'every-keyframe' && decodeMode !== 'on-demand') {
  process.stderr.write(`camera worker: --decode must be every-keyframe or on-demand, got "${decodeMode}"\n`);
  process.exit(2);
}

const logger = createLogger({ name: 'camera-worker', level: process.env.LOG_LEVEL ?? 'info' });
const workerId = args['worker-id'] ?? process.env.PORTWATCH_WORKER_ID ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
const log = logger.child({ worker: workerId });
const siteFile = args.site ?? process.env.PORTWATCH_SITE;
if (!siteFile) {
  log.fatal('no site file: pass --site FILE or set PORTWATCH_SITE');
  process.exit(2);
}

let site;
try {
  site = loadSiteConfig(siteFile, { env: process.env });
} catch (err) {
  log.fatal({ issues: err instanceof ConfigError ? err.issues.length : undefined }, err instanceof Error ? err.message : String(err));
  process.exit(2);
}
let health: Partial<HealthThresholds> | undefined;
if (args['health-thresholds']) {
  try {
    health = JSON.parse(args['health-thresholds']) as Partial<HealthThresholds>;
  } catch (err) {
    log.fatal(`--health-thresholds is not JSON: ${(err as Error).message}`);
    process.exit(2);
  }
}

const store = await openStore({ databaseUrl: process.env.DATABASE_URL, dataDir: args['data-dir'], logger: log });
await migrate(store, { logger: log, settings: site.store });
const redis = connectRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', logger: log, name: 'camera-worker' });
const queue = new EventQueue({
  connection: redis,
  logger: log,
  ...(args.queue ? { name: args.queue } : {}),
  ...(args['queue-prefix'] ? { prefix: args['queue-prefix'] } : {}),
});

const service = await startCameraService({
  site,
  store,
  logger: log,
  publisher: queue,
  redis,
  workerId,
  leasePrefix: args['redis-prefix'] ?? 'portwatch:',
  ...(args['lease-ttl-ms'] ? { leaseTtlMs: num(args['lease-ttl-ms'], 'lease-ttl-ms', 10_000) } : {}),
  ...(args.capacity ? { capacity: num(args.capacity, 'capacity', Infinity) } : {}),
  snapshotDir: args.snapshots ?? './data/snapshots',
  keyframeIntervalS: args['keyframe-interval'] ? num(args['keyframe-interval'], 'keyframe-interval', 0) : null,
  decodeOnDemand: decodeMode === 'on-demand',
  detectionsPerS: num(args['detections-per-s'], 'detections-per-s', 1),
  healthEveryS: num(args['health-every'], 'health-every', 10),
  ...(health ? { health } : {}),
  backoffCapMs: num(args['backoff-cap-ms'], 'backoff-cap-ms', 30_000),
  maxBatch: num(args['max-batch'], 'max-batch', 4),
  sessions: num(args.sessions, 'sessions', 1),
});
log.info({ store: store.kind }, 'camera worker started');

const statsTimer = setInterval(() => log.info(service.stats(), 'stats'), num(args['stats-every'], 'stats-every', 30) * 1000);
statsTimer.unref();

// Cameras first (their end events must reach the writers), then queue, Redis, store.
// The store's flushOnSignals is not used: it closes the writers before the cameras stop.
let stopping = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (stopping) {
    log.error({ signal }, `${signal} again while stopping: exiting now`);
    process.exit(1);
  }
  stopping = true;
  log.info({ signal }, `${signal}: releasing cameras and flushing`);
  void (async () => {
    let code = 0;
    try {
      clearInterval(statsTimer);
      const { abandoned } = await service.stop({ timeoutMs: 20_000 });
      if (abandoned > 0) code = 1;
      await queue.close();
      redis.disconnect();
      await store.close();
      log.info({ ...service.stats(), abandoned }, 'camera worker stopped');
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = 1;
    }
    process.exit(code);
  })();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
