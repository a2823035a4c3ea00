import type { PortEvent } from '../events/types.js';
import { CameraHealthMonitor, type HealthThresholds } from '../health/index.js';
import type { Logger } from '../log/index.js';
import { childLogger, silentLogger } from '../log/index.js';
import { CameraIngest, type AccessUnit, type BackoffOptions, type IngestStatus, type OnDemandOptions, type StartLimiter } from '../video/index.js';
import { CameraAnalyser, type CameraAnalyserOptions } from './analyser.js';
import type { CameraRunnerStats, CameraSinks } from './types.js';

export interface CameraRunnerOptions extends CameraAnalyserOptions {
  sinks: CameraSinks;
  logger?: Logger;
  /** The camera's keyframe interval (GOP) in seconds, when known: allows keyframe-only decoding at low fps. */
  keyframeIntervalS?: number | null;
  /** Default true; false decodes every frame (the benchmark's naive pipeline). */
  allowKeyframeOnly?: boolean;
  /**
   * Where keyframe-only decoding applies: decode keyframes on demand (default
   * off: every keyframe is decoded). A quiet camera then has a keyframe
   * decoded every `quietEveryS` (4 s) or sooner when its compressed stream
   * shows activity; while its pictures show motion, every keyframe for
   * `demandHoldS` more seconds (default 5).
   */
  onDemand?: (OnDemandOptions & { demandHoldS?: number }) | boolean;
  /** On demand: one per worker, shared by its cameras: decoder start-ups a few at a time. */
  startLimiter?: StartLimiter;
  /** On demand: every access unit as received (the camera's evidence clips); must return at once. */
  onAccessUnit?: (au: AccessUnit) => void;
  /**
   * Colour frames from ffmpeg: `yuv420p` (default when gated: converted to RGB
   * in JS only for the frames the detector runs on) or `rgb24` (default when
   * `ungated`: every frame goes to the detector, and swscale converts faster).
   */
  colour?: 'rgb24' | 'yuv420p';
  ffmpegPath?: string;
  /** ffmpeg's RTSP socket timeout. Default 10 s. */
  timeoutMs?: number;
  /** Restart ffmpeg when no frame came for this long. Default 20 s. */
  stallTimeoutMs?: number;
  backoff?: BackoffOptions;
  health?: Partial<HealthThresholds>;
  /** A `camera_health` row every this many seconds. Default 10. */
  healthEveryS?: number;
  /** Health clock (offline detection). Default 1000 ms. */
  tickMs?: number;
  /** Called after every frame (benchmarks, stats): how long from the frame being cut to its analysis done. */
  onFrame?: (info: { camera: string; latencyMs: number; gate: string; detectorRan: boolean; fullFrame: boolean; seq: number }) => void;
}

/**
 * One camera, live: ffmpeg ingest → health monitor (every frame, every tick)
 * → analyser (motion → gate → detect → track → zones) → sinks. The newest frame
 * wins: while a frame is being analysed, later ones are dropped and counted by
 * ingest, never queued. `stop()` ends the camera's open events (`shutdown`), so
 * the worker taking it over starts clean.
 */
export class CameraRunner {
  readonly camera: string;
  readonly analyser: CameraAnalyser;
  readonly health: CameraHealthMonitor;
  private readonly ingest: CameraIngest;
  private readonly o: CameraRunnerOptions;
  private readonly log: Logger;
  private loop: Promise<void> | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private lastHealthMs = 0;
  private running = false;
  private events = 0;
  private lastLatencyMs = 0;
  private maxLatencyMs = 0;
  private sinkErrors = 0;
  private backpressureDrops = 0;
  private sinkWaitMs = 0;
  /** While the loop waits on the sink: when it started and ingest's drop count then (stats count the wait live). */
  private waiting: { fromMs: number; dropped: number } | null = null;
  private readonly demandHoldS: number;

  constructor(o: CameraRunnerOptions) {
    this.o = o;
    this.camera = o.camera.id;
    this.log = childLogger(o.logger ?? silentLogger(), { camera: o.camera.id });
    this.analyser = new CameraAnalyser({ ...o, logger: this.log });
    this.health = new CameraHealthMonitor(o.camera.id, o.health);
    this.demandHoldS = (typeof o.onDemand === 'object' ? o.onDemand.demandHoldS : undefined) ?? 5;
    const { width, height } = o.camera.detect;
    this.ingest = new CameraIngest({
      camera: o.camera.id,
      streams: { main: o.camera.streams.main, sub: o.camera.streams.sub ?? null },
      forceMain: o.camera.detect.stream === 'main',
      detectFps: o.camera.detect.fps,
      rgb: this.analyser.detects ? { width, height } : null,
      colour: o.colour ?? (o.ungated ? 'rgb24' : 'yuv420p'),
      gray: this.analyser.grid,
      keyframeIntervalS: o.keyframeIntervalS ?? null,
      allowKeyframeOnly: o.allowKeyframeOnly ?? true,
      onDemand: o.onDemand === true ? {} : o.onDemand || null,
      ...(o.startLimiter ? { startLimiter: o.startLimiter } : {}),
      ...(o.onAccessUnit ? { onAccessUnit: o.onAccessUnit } : {}),
      ...(o.ffmpegPath ? { ffmpegPath: o.ffmpegPath } : {}),
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.stallTimeoutMs ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      logger: this.log,
      onStatus: (s) => this.onStatus(s),
      onSourceSize: (size) => this.health.observeSourceSize(size.width, size.height),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastHealthMs = Date.now();
    this.ingest.start();
    this.ticker = setInterval(() => this.tick(), this.o.tickMs ?? 1000);
    this.ticker.unref?.();
    this.loop = this.run();
  }

  /** Stops ffmpeg, waits for the frame in hand, ends open events, writes a last health row. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    await this.ingest.stop();
    await this.loop;
    const now = Date.now();
    this.emit(await this.analyser.flush(now));
    // Open health episodes end here too; the camera's next holder opens its own.
    this.emit(this.health.flush(new Date(now), 'stopped'));
    this.recordHealth(now);
    await this.chain;
  }

  stats(): CameraRunnerStats {
    const i = this.ingest.stats();
    const c = this.analyser.counters;
    return {
      camera: this.camera,
      frames: i.frames,
      dropped: i.dropped,
      detectorRuns: c.detectorRuns,
      cropRuns: c.cropRuns,
      detectorDropped: c.detectorDropped,
      detectorErrors: c.detectorErrors,
      events: this.events,
      backpressureDrops: this.backpressureDrops + (this.waiting ? i.dropped - this.waiting.dropped : 0),
      sinkWaitMs: Math.round(this.sinkWaitMs + (this.waiting ? performance.now() - this.waiting.fromMs : 0)),
      lastLatencyMs: this.lastLatencyMs,
      maxLatencyMs: this.maxLatencyMs,
      connected: i.connected,
      usedSubStream: i.usedSubStream,
      keyframeOnly: i.keyframeOnly,
      onDemand: i.onDemand,
      decoded: i.decoded,
      state: this.health.state(),
    };
  }

  private async run(): Promise<void> {
    const grid = this.analyser.grid;
    for (;;) {
      const f = await this.ingest.next();
      if (!f) return;
      try {
        const at = f.time;
        const events: PortEvent[] = f.gray ? this.health.observeFrame(f.gray, grid.width, grid.height, at) : [];
        if ((f.rgb || f.yuv) && f.gray) {
          // A newer frame arriving while this one waits for the detector takes its place in line
          // (live video wants the newest frame; the tracker sees it as one frame dropped).
          const superseded = new AbortController();
          this.ingest.onFrameWaiting(() => superseded.abort());
          const r = await this.analyser.analyse({ rgb: f.rgb, yuv: f.yuv, gray: f.gray, time: at.getTime(), seq: f.seq, superseded: superseded.signal }).finally(() => this.ingest.onFrameWaiting(null));
          events.push(...r.events);
          // Something moves in the watch area: see every keyframe while it does (on demand; a no-op otherwise).
          if (r.motionRegions.length > 0 || r.gate === 'hold' || r.gate === 'lighting') this.ingest.demand(this.demandHoldS);
          this.o.onFrame?.({ camera: this.camera, latencyMs: performance.now() - f.monoMs, gate: r.gate, detectorRan: r.detection !== null, fullFrame: r.fullFrame, seq: f.seq });
          if (r.detection && r.detection.detections.length > 0 && this.o.sinks.detections) {
            try {
              this.o.sinks.detections(r.detection);
            } catch (err) {
              this.log.warn({ err }, 'detections sink failed');
            }
          }
        }
        if (events.length > 0) {
          // Awaited: a slow sink slows this camera (ingest then drops frames, counted), never memory.
          const waiting = { fromMs: performance.now(), dropped: this.ingest.stats().dropped };
          this.waiting = waiting;
          try {
            await this.emit(events);
          } finally {
            this.waiting = null;
            this.sinkWaitMs += performance.now() - waiting.fromMs;
            this.backpressureDrops += this.ingest.stats().dropped - waiting.dropped;
          }
          const latency = performance.now() - f.monoMs;
          this.lastLatencyMs = latency;
          if (latency > this.maxLatencyMs) this.maxLatencyMs = latency;
        }
      } catch (err) {
        this.log.error({ err }, 'frame analysis failed; next frame');
      }
    }
  }

  private onStatus(s: IngestStatus): void {
    this.emit(this.health.observeStream(s.connected, s.reason, s.at));
  }

  private tick(): void {
    const now = Date.now();
    // Frames still arriving while the loop waits on the sink (a store outage) are proof of life:
    // the camera is not offline because its frames are dropped here.
    const last = this.ingest.stats().lastFrameAt;
    if (last) this.emit(this.health.observeDelivery(last));
    this.emit(this.health.tick(new Date(now)));
    if (now - this.lastHealthMs >= (this.o.healthEveryS ?? 10) * 1000) this.recordHealth(now);
  }

  private recordHealth(now: number): void {
    this.lastHealthMs = now;
    if (!this.o.sinks.health) return;
    try {
      this.o.sinks.health(this.health.record(new Date(now)));
    } catch (err) {
      this.log.warn({ err }, 'health sink failed');
    }
  }

  /** Hands events to the event sink in order, one at a time. */
  private emit(events: PortEvent[]): Promise<void> {
    if (events.length === 0) return this.chain;
    const details = this.o.eventDetails;
    this.chain = this.chain.then(async () => {
      for (const e of events) {
        if (details && e.kind.startsWith('camera_')) e.details = { ...e.details, ...details };
        this.events++;
        try {
          await this.o.sinks.event?.(e);
        } catch (err) {
          this.sinkErrors++;
          if (this.sinkErrors === 1 || this.sinkErrors % 100 === 0) this.log.error({ err, errors: this.sinkErrors }, 'event sink failed');
        }
      }
    });
    return this.chain;
  }
}
