import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CameraConfig, SiteConfig } from '../config/index.js';
import { CameraClips, type ClipRecorder, type ClipWriterStats } from '../clips/index.js';
import { BatchDetector, int8Caveat, loadDetector, loadManifest, manifestPath, type Detector } from '../detect/index.js';
import { eventId, type EventPublisher, type PortEvent } from '../events/index.js';
import { EVENT_FLUSH_INTERVAL_MS, type EventSink } from '../events/event-sink.js';
import type { CameraHealthRecord, HealthThresholds } from '../health/index.js';
import { CameraLeaseManager } from '../lease/index.js';
import type { Logger } from '../log/index.js';
import { JpegEncoder } from '../snapshot/index.js';
import { StartLimiter } from '../video/index.js';
import { cameraHealthTable, createBatchWriter, detectionsTable, eventsTable, type BatchWriter, type DetectionRecord, type Store } from '../store/index.js';
import { DetectorPool } from './detector-pool.js';
import { ThreadedDetector } from './threaded-detector.js';
import { CameraRunner } from './runner.js';
import { CameraSupervisor, type RunnerCounter } from './supervisor.js';
import type { CameraDetector, CameraRunnerStats, CameraSinks, DetectionBatch } from './types.js';

export type { EventPublisher } from '../events/index.js';

export interface CameraServiceOptions {
  site: SiteConfig;
  store: Store;
  logger: Logger;
  /**
   * The event spine (store, then queue through the outbox): what a worker built by
   * `pipeline/runtime` passes. Without it the service writes events itself and
   * hands them to `publisher` (library use and older tests).
   */
  events?: EventSink | null;
  /** The `events` queue when `events` is not given; null: events reach the store only. */
  publisher?: EventPublisher | null;
  /** Redis for camera leases; null: this process runs every enabled camera, unshared. */
  redis?: Redis | null;
  /** Unique per process. Default host:pid:random. */
  workerId?: string;
  /** Lease key prefix. Default `portwatch:`. */
  leasePrefix?: string;
  leaseTtlMs?: number;
  /** Keep running held cameras while Redis is unreachable (default true); false: stop them at the lease deadline. */
  keepThroughOutage?: boolean;
  /** Most cameras this process runs. Default unlimited. */
  capacity?: number;
  /** Default ./data/snapshots. */
  snapshotDir?: string;
  /** The cameras' keyframe interval (s) where the site file gives none (`detect.keyframe_interval`): keyframe-only decoding at low fps. */
  keyframeIntervalS?: number | null;
  /** With keyframe-only decoding (rtsp:// H.264): decode keyframes on demand (docs/camera-pipeline.md). Default true. */
  decodeOnDemand?: boolean;
  /** Detector runs stored per camera per second at most. Default 1; 0 = none. */
  detectionsPerS?: number;
  /** camera_health row interval. Default 10 s. */
  healthEveryS?: number;
  health?: Partial<HealthThresholds>;
  /** Longest reconnect wait. Default 30 s. */
  backoffCapMs?: number;
  /** Detector batch across cameras. Default 4. */
  maxBatch?: number;
  /** Detector sessions per model (one inference at a time each: about one core each). Default 1. */
  sessions?: number;
  /**
   * Run each session in its own worker thread (default true): onnxruntime-node
   * blocks the calling thread for a whole inference, which would stall ingest,
   * health and lease heartbeats on the main loop.
   */
  threads?: boolean;
  modelsDir?: string;
  /**
   * Evidence clips of zone events (on-demand cameras: the H.264 is received
   * here), written under `<dataDir>/clips` and recorded in `event_clips`;
   * null: none. Roll and retention from the site file's `alerts.clips`.
   */
  clips?: { dataDir: string; maxSeconds?: number } | null;
}

export interface CameraServiceStats {
  cameras: number;
  connected: number;
  faults: string[];
  frames: number;
  dropped: number;
  detectorRuns: number;
  cropRuns: number;
  detectorDropped: number;
  maxLatencyMs: number;
  events: number;
  queued: number;
  queueErrors: number;
  storeRejected: number;
  detectionRows: number;
  clips: ClipWriterStats | null;
}

export interface CameraService {
  readonly workerId: string;
  readonly supervisor: CameraSupervisor;
  readonly leases: CameraLeaseManager | null;
  stats(): CameraServiceStats;
  runners(): CameraRunnerStats[];
  /** Releases the cameras (their open events are ended and written), drains the detectors, flushes the writers. Leaves the store open. */
  stop(options?: { timeoutMs?: number }): Promise<{ abandoned: number }>;
}

/**
 * The camera side of a process: detectors (one set of sessions per model,
 * shared by all its cameras), store writers (events, camera_health,
 * detections), the events publisher, and a supervisor that runs the cameras
 * this process holds — by Redis leases when `redis` is given, else all of them.
 */
export async function startCameraService(o: CameraServiceOptions): Promise<CameraService> {
  const workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = o.logger;
  // Body-worn recorders are watched live from an inspector's job, never analysed continuously.
  const cameras = new Map<string, CameraConfig>(o.site.cameras.filter((c) => c.enabled && c.kind !== 'body_worn').map((c) => [c.id, c]));

  const eventsWriter = createBatchWriter(o.store, eventsTable, { logger: log, flushIntervalMs: EVENT_FLUSH_INTERVAL_MS });
  // One JPEG encoder for every camera's event snapshots (an ffmpeg per picture size).
  const snapshots = new JpegEncoder({ logger: log });
  const healthWriter = createBatchWriter(o.store, cameraHealthTable, { logger: log });
  const detectionsWriter = createBatchWriter(o.store, detectionsTable, { logger: log });
  const writers: BatchWriter<never>[] = [eventsWriter, healthWriter, detectionsWriter] as unknown as BatchWriter<never>[];

  const maxBatch = o.maxBatch ?? 4;
  const models = new Map<string, { sessions: Array<Detector | ThreadedDetector>; batchers: BatchDetector[]; detector: CameraDetector; labels: readonly string[] }>();
  for (const model of new Set([...cameras.values()].filter((c) => c.zones.length + c.tripwires.length > 0).map((c) => c.detect.model))) {
    const sessions: Array<Detector | ThreadedDetector> = [];
    const dir = o.modelsDir ? { modelsDir: o.modelsDir } : {};
    const caveat = int8Caveat(await loadManifest(manifestPath(model, o.modelsDir)));
    if (caveat) log.warn({ model }, caveat);
    for (let i = 0; i < Math.max(1, o.sessions ?? 1); i++) {
      sessions.push(o.threads === false ? await loadDetector(model, { logger: log, maxBatch, ...dir }) : await ThreadedDetector.start(model, { maxBatch, ...dir }));
    }
    const batchers = sessions.map((d) => new BatchDetector(d, { logger: log, maxBatch, maxQueue: 64 }));
    models.set(model, { sessions, batchers, detector: batchers.length === 1 ? batchers[0]! : new DetectorPool(batchers), labels: sessions[0]!.labels });
  }

  // Rows not handed to a full writer (the store away past its bound): counted, never queued in memory.
  const counts = { queued: 0, queueErrors: 0, storeRejected: 0, detectionRows: 0, healthRowsDropped: 0, detectionRowsDropped: 0 };
  const detectionsPerS = o.detectionsPerS ?? 1;
  const lastDetectionRow = new Map<string, number>();
  const sinksFor = (camera: string, epoch: number | null, recorder: ClipRecorder | null): CameraSinks => ({
    async event(e: PortEvent) {
      recorder?.observe(e);
      if (o.events) {
        const stored = await o.events.emit(e);
        if (!stored.ok) counts.storeRejected++;
        return;
      }
      const publish = o.publisher
        ? o.publisher.publish(e).then(
            () => void counts.queued++,
            (err: Error) => {
              counts.queueErrors++;
              log.warn({ err: err.message, event: e.id, kind: e.kind }, 'event not queued (it is in the store)');
            },
          )
        : null;
      const [stored] = await Promise.all([eventsWriter.write(e), publish]);
      if (!stored.ok) counts.storeRejected++;
    },
    health(r: CameraHealthRecord) {
      const { time, camera: cam, state, reason, ...metrics } = r;
      if (healthWriter.full) {
        counts.healthRowsDropped++;
        return;
      }
      void healthWriter.write({ id: eventId('camera_health', cam, time.toISOString()), time, camera: cam, state, reason, metrics: { ...metrics, worker: workerId, leaseEpoch: epoch } });
    },
    detections(b: DetectionBatch) {
      if (detectionsPerS <= 0) return;
      const t = b.time.getTime();
      if (t - (lastDetectionRow.get(camera) ?? -Infinity) < 1000 / detectionsPerS) return;
      lastDetectionRow.set(camera, t);
      if (detectionsWriter.full) {
        counts.detectionRowsDropped += Math.min(50, b.detections.length);
        return;
      }
      b.detections.slice(0, 50).forEach((d, i) => {
        const row: DetectionRecord = { id: eventId('detection', camera, t, i), time: b.time, camera, frameId: b.frame, class: d.class, score: d.score, box: d.box, track: b.tracks[i] ?? null };
        counts.detectionRows++;
        void detectionsWriter.write(row);
      });
    },
  });

  // Evidence clips: a rolling buffer per camera fed by its ingest; one writer per process, off the frame path.
  const clips = o.clips ? new CameraClips({ store: o.store, logger: log, dataDir: o.clips.dataDir, settings: o.site.alerts.clips, ...(o.clips.maxSeconds ? { maxSeconds: o.clips.maxSeconds } : {}) }) : null;

  const noDetector: CameraDetector = { detect: () => Promise.resolve([]) };
  // Decoder start-ups a few at a time: a worker starting or taking over many cameras at once.
  const startLimiter = new StartLimiter();
  const supervisor = new CameraSupervisor({
    logger: log,
    createRunner: (id, epoch) => {
      const camera = cameras.get(id);
      if (!camera) throw new Error(`camera ${id} is not an enabled camera of the site`);
      const m = models.get(camera.detect.model);
      const recorder = clips?.recorder(camera) ?? null;
      return new CameraRunner({
        camera,
        timeZone: o.site.site.timezone,
        detector: m?.detector ?? noDetector,
        labels: m?.labels ?? [],
        sinks: sinksFor(id, epoch, recorder),
        ...(recorder ? { onAccessUnit: (au) => recorder.push(au) } : {}),
        logger: log,
        snapshotRoot: o.snapshotDir ?? './data/snapshots',
        snapshotEncoder: snapshots,
        eventDetails: { leaseEpoch: epoch, worker: workerId },
        // The camera's own GOP from the site file, else the worker's --keyframe-interval.
        keyframeIntervalS: camera.detect.keyframe_interval ?? o.keyframeIntervalS ?? null,
        onDemand: o.decodeOnDemand ?? true,
        startLimiter,
        ...(o.health ? { health: o.health } : {}),
        healthEveryS: o.healthEveryS ?? 10,
        backoff: { capMs: o.backoffCapMs ?? 30_000 },
      });
    },
  });

  let leases: CameraLeaseManager | null = null;
  if (o.redis) {
    leases = new CameraLeaseManager({
      redis: o.redis,
      prefix: o.leasePrefix ?? 'portwatch:',
      workerId,
      cameras: [...cameras.keys()],
      logger: log,
      // The port stays watched while Redis is away; the lease epochs decide on its return (docs/scale-out.md).
      keepThroughOutage: o.keepThroughOutage ?? true,
      ...(o.capacity ? { capacity: o.capacity } : {}),
      ...(o.leaseTtlMs ? { ttlMs: o.leaseTtlMs } : {}),
    });
    supervisor.attach(leases);
    await leases.start();
  } else {
    for (const id of [...cameras.keys()].slice(0, o.capacity ?? Infinity)) void supervisor.start(id, null);
  }
  log.info({ worker: workerId, cameras: cameras.size, models: [...models.keys()], shared: !!leases }, 'camera service started');

  let stopped: Promise<{ abandoned: number }> | null = null;
  return {
    workerId,
    supervisor,
    leases,
    runners: () => supervisor.stats(),
    stats() {
      const s = supervisor.stats();
      // Counters over every runner of the process, stopped ones included: the summary at exit is whole.
      const totals = supervisor.totals();
      const sum = (k: RunnerCounter) => totals[k];
      return {
        cameras: s.length,
        connected: s.filter((r) => r.connected).length,
        faults: s.filter((r) => r.state !== 'ok' && r.state !== 'learning').map((r) => `${r.camera}:${r.state}`),
        frames: sum('frames'),
        dropped: sum('dropped'),
        detectorRuns: sum('detectorRuns'),
        cropRuns: sum('cropRuns'),
        detectorDropped: sum('detectorDropped'),
        maxLatencyMs: Math.round(Math.max(0, ...s.map((r) => r.maxLatencyMs))),
        events: sum('events'),
        backpressureDrops: sum('backpressureDrops'),
        sinkWaitMs: sum('sinkWaitMs'),
        ...counts,
        clips: clips ? clips.stats() : null,
        // Rows held by the writers (bounded: 10 batches each) and failed flushes retried.
        held: { camera_health: healthWriter.stats.held, detections: detectionsWriter.stats.held, ...(o.events ? {} : { events: eventsWriter.stats.held }) },
        retries: healthWriter.stats.retries + detectionsWriter.stats.retries + (o.events ? 0 : eventsWriter.stats.retries),
        ...(o.events ? { stored: o.events.stats().stored } : { stored: eventsWriter.stats.written }),
        ...(o.events ? { queued: o.events.stats().published } : {}),
      };
    },
    stop(options = {}) {
      stopped ??= (async () => {
        // Cameras first: their end events must reach the writers.
        if (leases) await leases.stop();
        await supervisor.stopAll();
        await snapshots.close();
        // The cameras' clips still waiting for their post-roll, with what their buffers hold.
        await clips?.stop();
        for (const m of models.values()) await Promise.all(m.batchers.map((b) => b.close()));
        const stats = await Promise.all(writers.map((w) => w.close({ timeoutMs: options.timeoutMs ?? 20_000 })));
        for (const m of models.values()) for (const d of m.sessions) await (d instanceof ThreadedDetector ? d.close() : d.release());
        return { abandoned: stats.reduce((n, s) => n + s.abandoned, 0) };
      })();
      return stopped;
    },
  };
}
