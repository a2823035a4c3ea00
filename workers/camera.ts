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
import { Redis } from 'ioredis';
import { CameraRunner, CameraSupervisor, type CameraSinks, type DetectionBatch } from '../pipeline/camera/index.js';
import { ConfigError, loadSiteConfig, type CameraConfig } from '../pipeline/config/index.js';
import { BatchDetector, loadDetector, type Detector } from '../pipeline/detect/index.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import type { CameraHealthRecord as HealthRecord, HealthThresholds } from '../pipeline/health/index.js';
import { CameraLeaseManager } from '../pipeline/lease/index.js';
import { createLogger } from '../pipeline/log/index.js';
import { EventQueue } from '../pipeline/queue/index.js';
import { cameraHealthTable, createBatchWriter, detectionsTable, eventsTable, migrate, openStore, type DetectionRecord } from '../pipeline/store/index.js';

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
    'detections-per-s': { type: 'string' },
    'health-every': { type: 'string' },
    'health-thresholds': { type: 'string' },
    'backoff-cap-ms': { type: 'string' },
    'stats-every': { type: 'string' },
    'max-batch': { type: 'string' },
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
  --detections-per-s N      detection rows stored per camera per second at most (default 1; 0 = none)
  --health-every S          camera_health row interval (default 10)
  --health-thresholds JSON  e.g. '{"offlineAfterS":20,"frozenAfterS":30}'
  --backoff-cap-ms MS       longest reconnect wait (default 30000)
  --stats-every S           stats line interval (default 30)
  --max-batch N             detector batch size across cameras (default 8)
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

const logger = createLogger({ name: 'camera-worker' });
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
let thresholds: Partial<HealthThresholds> = {};
if (args['health-thresholds']) {
  try {
    thresholds = JSON.parse(args['health-thresholds']) as Partial<HealthThresholds>;
  } catch (err) {
    log.fatal(`--health-thresholds is not JSON: ${(err as Error).message}`);
    process.exit(2);
  }
}
const cameras = new Map<string, CameraConfig>(site.cameras.filter((c) => c.enabled).map((c) => [c.id, c]));
const keyframeIntervalS = args['keyframe-interval'] ? num(args['keyframe-interval'], 'keyframe-interval', 0) : null;
const detectionsPerS = num(args['detections-per-s'], 'detections-per-s', 1);
const statsEveryS = num(args['stats-every'], 'stats-every', 30);

// ---- store
const store = await openStore({ databaseUrl: process.env.DATABASE_URL, dataDir: args['data-dir'], logger: log });
await migrate(store, { logger: log });
const eventsWriter = createBatchWriter(store, eventsTable, { logger: log, flushIntervalMs: 100 });
const healthWriter = createBatchWriter(store, cameraHealthTable, { logger: log });
const detectionsWriter = createBatchWriter(store, detectionsTable, { logger: log });

// ---- Redis: leases and the events queue
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
const queue = new EventQueue({
  connection: redis,
  logger: log,
  ...(args.queue ? { name: args.queue } : {}),
  ...(args['queue-prefix'] ? { prefix: args['queue-prefix'] } : {}),
});

// ---- detectors: one session per model, one batcher shared by all cameras of this process
const detectors = new Map<string, { detector: Detector; batcher: BatchDetector }>();
for (const model of new Set([...cameras.values()].filter((c) => c.zones.length + c.tripwires.length > 0).map((c) => c.detect.model))) {
  const maxBatch = num(args['max-batch'], 'max-batch', 8);
  const detector = await loadDetector(model, { logger: log, maxBatch });
  detectors.set(model, { detector, batcher: new BatchDetector(detector, { logger: log, maxBatch, maxQueue: 64 }) });
}

// ---- sinks
const counts = { events: 0, queued: 0, queueErrors: 0, storeRejected: 0, detectionRows: 0 };
const lastDetectionRow = new Map<string, number>();
const sinksFor = (camera: string, epoch: number | null): CameraSinks => ({
  async event(e: PortEvent) {
    counts.events++;
    const [stored] = await Promise.all([
      eventsWriter.write(e),
      queue.publish(e).then(
        () => void counts.queued++,
        (err: Error) => {
          counts.queueErrors++;
          log.warn({ err: err.message, event: e.id, kind: e.kind }, 'event not queued (it is in the store)');
        },
      ),
    ]);
    if (!stored.ok) counts.storeRejected++;
  },
  health(r: HealthRecord) {
    const { time, camera: cam, state, reason, ...metrics } = r;
    void healthWriter.write({
      id: eventId('camera_health', cam, time.toISOString()),
      time,
      camera: cam,
      state,
      reason,
      metrics: { ...metrics, worker: workerId, leaseEpoch: epoch },
    });
  },
  detections(b: DetectionBatch) {
    if (detectionsPerS <= 0) return;
    const t = b.time.getTime();
    if (t - (lastDetectionRow.get(camera) ?? -Infinity) < 1000 / detectionsPerS) return;
    lastDetectionRow.set(camera, t);
    b.detections.slice(0, 50).forEach((d, i) => {
      const row: DetectionRecord = { id: eventId('detection', camera, t, i), time: b.time, camera, frameId: b.frame, class: d.class, score: d.score, box: d.box, track: b.tracks[i] ?? null };
      counts.detectionRows++;
      void detectionsWriter.write(row);
    });
  },
});

const supervisor = new CameraSupervisor({
  logger: log,
  createRunner: (id, epoch) => {
    const camera = cameras.get(id);
    if (!camera) throw new Error(`camera ${id} is not in ${siteFile}`);
    const d = detectors.get(camera.detect.model);
    return new CameraRunner({
      camera,
      timeZone: site.site.timezone,
      detector: d?.batcher ?? { detect: () => Promise.resolve([]) },
      labels: d?.detector.labels ?? [],
      sinks: sinksFor(id, epoch),
      logger: log,
      snapshotRoot: args.snapshots ?? './data/snapshots',
      eventDetails: { leaseEpoch: epoch, worker: workerId },
      keyframeIntervalS,
      health: thresholds,
      healthEveryS: num(args['health-every'], 'health-every', 10),
      backoff: { capMs: num(args['backoff-cap-ms'], 'backoff-cap-ms', 30_000) },
    });
  },
});

const leaseTtl = args['lease-ttl-ms'] ? num(args['lease-ttl-ms'], 'lease-ttl-ms', 10_000) : undefined;
const leases = new CameraLeaseManager({
  redis,
  prefix: args['redis-prefix'] ?? 'portwatch:',
  workerId,
  cameras: [...cameras.keys()],
  logger: log,
  ...(args.capacity ? { capacity: num(args.capacity, 'capacity', Infinity) } : {}),
  ...(leaseTtl ? { ttlMs: leaseTtl } : {}),
});
supervisor.attach(leases);
await leases.start();
log.info({ cameras: cameras.size, models: [...detectors.keys()], store: store.kind }, 'camera worker started');

// ---- stats
const statsTimer = setInterval(() => {
  const s = supervisor.stats();
  const sum = (k: 'frames' | 'dropped' | 'detectorRuns' | 'cropRuns' | 'detectorDropped' | 'events') => s.reduce((n, r) => n + r[k], 0);
  log.info(
    {
      cameras: s.length,
      connected: s.filter((r) => r.connected).length,
      faults: s.filter((r) => r.state !== 'ok' && r.state !== 'learning').map((r) => `${r.camera}:${r.state}`),
      frames: sum('frames'),
      dropped: sum('dropped'),
      detectorRuns: sum('detectorRuns'),
      cropRuns: sum('cropRuns'),
      detectorDropped: sum('detectorDropped'),
      maxLatencyMs: Math.round(Math.max(0, ...s.map((r) => r.maxLatencyMs))),
      ...counts,
      batches: [...detectors.values()].map((d) => d.batcher.stats().batches).reduce((a, b) => a + b, 0),
    },
    'stats',
  );
}, statsEveryS * 1000);
statsTimer.unref();

// ---- shutdown: cameras first (their end events must reach the writers), then writers, queue, Redis, store.
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
      await leases.stop();
      await supervisor.stopAll();
      await Promise.all([...detectors.values()].map((d) => d.batcher.close()));
      const stats = await Promise.all([eventsWriter, healthWriter, detectionsWriter].map((w) => w.close({ timeoutMs: 20_000 })));
      if (stats.some((s) => s.abandoned > 0)) code = 1;
      await queue.close();
      redis.disconnect();
      await store.close();
      log.info({ written: stats.map((s) => s.written) }, 'camera worker stopped');
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = 1;
    }
    process.exit(code);
  })();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
