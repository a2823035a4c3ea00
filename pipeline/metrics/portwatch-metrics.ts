import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's metrics, read at scrape time from the stats objects the
 * services already keep (camera service, AIS ingest, event sink, queue): no
 * hot path is touched, and a process exposes only what it runs. Counters are
 * set from the services' running totals on every scrape.
 */

export interface CameraStatsSource {
  stats(): { frames: number; dropped: number; detectorRuns: number; cropRuns: number; detectorDropped: number; events: number; maxLatencyMs: number; detectionRows: number; storeRejected: number };
  runners(): Array<{ camera: string; frames: number; dropped: number; detectorRuns: number; lastLatencyMs: number; connected: boolean }>;
}

export interface AisStatsSource {
  summary(): {
    messages: number;
    rejected: number;
    rejects: Record<string, number>;
    positions: number;
    events: Record<string, number>;
    backpressure_drops?: number;
    writers?: Record<string, { written: number; held: number; rejected: number }>;
  };
}

export interface QueueStatsSource {
  /** Jobs per state (waiting, active, delayed, failed, completed) and the oldest waiting job's age, ms. */
  depth(): Promise<{ counts: Record<string, number>; oldestWaitingMs: number | null }>;
}

export interface MetricSources {
  cameras?: () => CameraStatsSource | null;
  ais?: () => AisStatsSource | null;
  /** The event spine: events stored, refused, outbox entries pending. */
  events?: () => { stored: number; refused: number; published: number; pending: number } | null;
  queues?: Record<string, QueueStatsSource>;
  /** Alerts by kind and state (e.g. from the store), at scrape time. */
  alerts?: () => Promise<Array<{ kind: string; state: string; count: number }>>;
  /** Each camera's health state, as the latest camera_health row says. */
  cameraStates?: () => Promise<Array<{ camera: string; state: string }>>;
}

export interface MetricsRegistryOptions {
  /** Labels on every series (e.g. worker id, kind). */
  labels?: Record<string, string>;
  /** Node's own metrics (heap, event loop lag, GC); default true. */
  processMetrics?: boolean;
}

/** One registry per process: what `/metrics` and the metrics server serve. */
export function createMetricsRegistry(o: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (o.labels) registry.setDefaultLabels(o.labels);
  if (o.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'portwatch_process_' });
  return registry;
}

/** A counter whose value is a running total kept elsewhere, set at scrape time. */
function totalCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]> | Promise<Array<[Record<string, string>, number]>>) {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [labels, v] of await read()) if (v > 0) this.inc(labels, v);
    },
  });
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]> | Promise<Array<[Record<string, string>, number]>>) {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [labels, v] of await read()) this.set(labels, v);
    },
  });
}

/**
 * Defines the portwatch metrics on `registry`, each reading its source at
 * scrape time; a source that is absent (the process does not run it) yields
 * no samples. Rows per second are the writers' totals' rate: Prometheus takes
 * `rate(portwatch_writer_rows_total[1m])`.
 */
export function registerPortwatchMetrics(registry: Registry, s: MetricSources): void {
  const cams = () => s.cameras?.() ?? null;
  const ais = () => s.ais?.() ?? null;
  const perCamera = (k: 'frames' | 'dropped' | 'detectorRuns') => (): Array<[Record<string, string>, number]> => (cams()?.runners() ?? []).map((r) => [{ camera: r.camera }, r[k]]);

  totalCounter(registry, 'portwatch_frames_analysed_total', 'Frames the camera pipeline analysed (motion gate, detector when needed)', ['camera'], perCamera('frames'));
  totalCounter(registry, 'portwatch_frames_dropped_total', 'Frames dropped because the camera runner was still busy', ['camera'], perCamera('dropped'));
  totalCounter(registry, 'portwatch_detector_runs_total', 'Detector runs (whole frames and motion crops)', ['camera'], perCamera('detectorRuns'));
  totalCounter(registry, 'portwatch_detector_dropped_total', 'Detector requests dropped by the batcher (queue full)', [], () => {
    const c = cams();
    return c ? [[{}, c.stats().detectorDropped]] : [];
  });
  gauge(registry, 'portwatch_detector_latency_seconds', 'Frame cut to events handed on, last per camera', ['camera'], () => (cams()?.runners() ?? []).map((r) => [{ camera: r.camera }, r.lastLatencyMs / 1000]));
  gauge(registry, 'portwatch_detector_latency_max_seconds', 'Frame cut to events handed on, the longest since start', [], () => {
    const c = cams();
    return c ? [[{}, c.stats().maxLatencyMs / 1000]] : [];
  });
  gauge(registry, 'portwatch_camera_connected', '1 while the camera stream is connected', ['camera'], () => (cams()?.runners() ?? []).map((r) => [{ camera: r.camera }, r.connected ? 1 : 0]));
  gauge(registry, 'portwatch_camera_state', 'Camera health state (1 for the current state), from camera_health', ['camera', 'state'], async () => ((await s.cameraStates?.()) ?? []).map((c) => [{ camera: c.camera, state: c.state }, 1]));

  totalCounter(registry, 'portwatch_events_total', 'Events emitted, by kind', ['kind', 'source'], () => {
    const out: Array<[Record<string, string>, number]> = [];
    const a = ais();
    if (a) for (const [kind, n] of Object.entries(a.summary().events)) out.push([{ kind, source: 'ais' }, n]);
    const c = cams();
    if (c) out.push([{ kind: 'camera', source: 'camera' }, c.stats().events]);
    return out;
  });
  totalCounter(registry, 'portwatch_events_stored_total', 'Events stored by the event spine', [], () => {
    const e = s.events?.();
    return e ? [[{}, e.stored]] : [];
  });
  gauge(registry, 'portwatch_outbox_pending', 'Stored events not yet published to the queue', [], () => {
    const e = s.events?.();
    return e ? [[{}, e.pending]] : [];
  });
  gauge(registry, 'portwatch_alerts', 'Alerts in the store by kind and state', ['kind', 'state'], async () => ((await s.alerts?.()) ?? []).map((a) => [{ kind: a.kind, state: a.state }, a.count]));

  gauge(registry, 'portwatch_queue_jobs', 'Jobs on a queue by state', ['queue', 'state'], async () => {
    const out: Array<[Record<string, string>, number]> = [];
    for (const [queue, q] of Object.entries(s.queues ?? {})) for (const [state, n] of Object.entries((await q.depth()).counts)) out.push([{ queue, state }, n]);
    return out;
  });
  gauge(registry, 'portwatch_queue_lag_seconds', 'Age of the oldest waiting job', ['queue'], async () => {
    const out: Array<[Record<string, string>, number]> = [];
    for (const [queue, q] of Object.entries(s.queues ?? {})) out.push([{ queue }, ((await q.depth()).oldestWaitingMs ?? 0) / 1000]);
    return out;
  });

  const writers = () => Object.entries(ais()?.summary().writers ?? {});
  totalCounter(registry, 'portwatch_writer_rows_total', 'Rows written by the batched writers, by table (rows/s: rate())', ['table'], () => {
    const out: Array<[Record<string, string>, number]> = writers().map(([table, w]) => [{ table }, w.written]);
    const c = cams();
    if (c) out.push([{ table: 'detections' }, c.stats().detectionRows]);
    return out;
  });
  gauge(registry, 'portwatch_writer_held_rows', 'Rows held by a writer (buffered or being written)', ['table'], () => writers().map(([table, w]) => [{ table }, w.held]));
  totalCounter(registry, 'portwatch_writer_rejected_total', 'Rows the database refused', ['table'], () => writers().map(([table, w]) => [{ table }, w.rejected]));

  totalCounter(registry, 'portwatch_ais_messages_total', 'AIS messages decoded', [], () => {
    const a = ais();
    return a ? [[{}, a.summary().messages]] : [];
  });
  totalCounter(registry, 'portwatch_ais_rejects_total', 'AIS/NMEA lines refused, by reason', ['reason'], () => Object.entries(ais()?.summary().rejects ?? {}).map(([reason, n]) => [{ reason }, n]));
  totalCounter(registry, 'portwatch_ais_positions_total', 'AIS position reports handed to the writer', [], () => {
    const a = ais();
    return a ? [[{}, a.summary().positions]] : [];
  });
}
