import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../log/index.js';
import { childLogger, silentLogger } from '../log/index.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { buildFfmpegArgs, type FrameSize, type IngestArgsOptions, type IngestPlan } from './ffmpeg-args.js';
import { FrameCutter } from './frame-cutter.js';
import { LatestSlot } from './frame-slot.js';
import { classifyFfmpegExit, StderrTail, type IngestReason } from './ingest-reason.js';
import { describeStream } from './redact.js';
import { yuv420pBytes } from './yuv.js';

/** One sampled picture from one camera. */
export interface VideoFrame {
  camera: string;
  /** Monotonic per ingest, across reconnects: a gap means frames were dropped. */
  seq: number;
  /** Wall time when the frame was cut from ffmpeg's output. */
  time: Date;
  /** performance.now() at the same moment, for intervals that survive clock steps. */
  monoMs: number;
  /** W×H×3 bytes, RGB, row-major; null when only grey frames or yuv420p colour frames were asked for. */
  rgb: Buffer | null;
  /** The colour frame as yuv420p (`colour: 'yuv420p'`), else null; `yuv420pToRgb` converts it. */
  yuv: Buffer | null;
  /** Size of the colour frame, whichever its format. */
  rgbSize: FrameSize | null;
  /** W×H bytes, luma; null when only RGB frames were asked for. */
  gray: Buffer | null;
  graySize: FrameSize | null;
  keyframeOnly: boolean;
}

export interface IngestStatus {
  camera: string;
  at: Date;
  /** True from the first frame of a connection until ffmpeg ends. */
  connected: boolean;
  /** Why the last connection ended or could not start; null while connected. */
  reason: IngestReason | null;
  /** ffmpeg's last stderr line, credentials removed. */
  detail: string | null;
  /** Failed attempts since the last healthy connection. */
  attempt: number;
  /** Delay before the next attempt, when one is scheduled. */
  retryInMs: number | null;
}

export interface IngestStats {
  camera: string;
  frames: number;
  /** Frames cut from ffmpeg but overwritten before the consumer took them. */
  dropped: number;
  /** ffmpeg processes started. */
  spawns: number;
  connected: boolean;
  lastFrameAt: Date | null;
  lastReason: IngestReason | null;
  keyframeOnly: boolean;
  usedSubStream: boolean;
}

export interface CameraIngestOptions extends IngestArgsOptions {
  camera: string;
  logger?: Logger;
  ffmpegPath?: string;
  /** Restart ffmpeg when no frame came for this long (alive but stuck). Default 20 s. */
  stallTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Called on every connect and disconnect; health monitoring listens here. */
  onStatus?: (status: IngestStatus) => void;
}

/**
 * One camera's ffmpeg, kept running: spawned from `buildFfmpegArgs`, its raw
 * output cut into frames, the newest frame offered to one consumer (older ones
 * dropped and counted), restarted with backoff when it ends or stalls. Nothing
 * it logs, reports or throws contains the stream's credentials.
 */
export class CameraIngest {
  readonly camera: string;
  readonly plan: IngestPlan;
  private readonly log: Logger;
  private readonly slot = new LatestSlot<VideoFrame>();
  private readonly backoff: Backoff;
  private readonly stderr = new StderrTail(20);
  private readonly stallTimeoutMs: number;
  private child: ChildProcess | null = null;
  private running = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private seq = 0;
  private frames = 0;
  private pairDropped = 0;
  private spawns = 0;
  private connected = false;
  private connectedAtMono = 0;
  private spawnedAtMono = 0;
  private lastFrameMono = 0;
  private lastFrameAt: Date | null = null;
  private lastReason: IngestReason | null = null;
  private killReason: IngestReason | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly o: CameraIngestOptions) {
    this.camera = o.camera;
    this.plan = buildFfmpegArgs(o);
    this.log = childLogger(o.logger ?? silentLogger(), { camera: o.camera, stream: describeStream(this.plan.url) });
    this.backoff = new Backoff(o.backoff);
    this.stallTimeoutMs = o.stallTimeoutMs ?? 20_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.watchdog = setInterval(() => this.checkStall(), Math.min(1000, Math.max(100, this.stallTimeoutMs / 4)));
    this.watchdog.unref?.();
    this.spawnOnce();
  }

  /** Stops ffmpeg (SIGTERM, SIGKILL after 2 s) and ends `next()` with null. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.retryTimer = null;
    this.watchdog = null;
    if (this.child) this.kill('stopped');
    await this.exited;
    this.slot.close();
  }

  /** The newest frame not yet taken; waits for one; null after stop(). */
  next(): Promise<VideoFrame | null> {
    return this.slot.take();
  }

  poll(): VideoFrame | null {
    return this.slot.poll();
  }

  stats(): IngestStats {
    return {
      camera: this.camera,
      frames: this.frames,
      dropped: this.slot.dropped + this.pairDropped,
      spawns: this.spawns,
      connected: this.connected,
      lastFrameAt: this.lastFrameAt,
      lastReason: this.lastReason,
      keyframeOnly: this.plan.keyframeOnly,
      usedSubStream: this.plan.usedSubStream,
    };
  }

  private spawnOnce(): void {
    this.retryTimer = null;
    if (!this.running) return;
    this.stderr.clear();
    this.killReason = null;
    this.spawns++;
    this.spawnedAtMono = performance.now();
    const { rgbFd, grayFd } = this.plan;
    const child = spawn(this.o.ffmpegPath ?? 'ffmpeg', this.plan.args, {
      stdio: ['ignore', 'pipe', 'pipe', ...(grayFd === 3 ? (['pipe'] as const) : [])],
      windowsHide: true,
    });
    this.child = child;
    this.log.debug({ spawn: this.spawns, keyframeOnly: this.plan.keyframeOnly, sub: this.plan.usedSubStream }, 'ffmpeg started');

    const colourBytes = this.o.rgb ? (this.plan.colour === 'yuv420p' ? yuv420pBytes(this.o.rgb.width, this.o.rgb.height) : this.o.rgb.width * this.o.rgb.height * 3) : 0;
    const rgbCut = rgbFd && this.o.rgb ? new FrameCutter(colourBytes) : null;
    const grayCut = grayFd && this.o.gray ? new FrameCutter(this.o.gray.width * this.o.gray.height) : null;
    // With two outputs ffmpeg writes frame n to both pipes; pair them in order.
    const rgbQ: Buffer[] = [];
    const grayQ: Buffer[] = [];
    const emitPairs = () => {
      while ((!rgbCut || rgbQ.length) && (!grayCut || grayQ.length)) {
        this.emit(rgbCut ? rgbQ.shift()! : null, grayCut ? grayQ.shift()! : null);
      }
      // One side far ahead means the other stalled; keep memory bounded.
      for (const q of [rgbQ, grayQ]) {
        while (q.length > 8) {
          q.shift();
          this.pairDropped++;
        }
      }
    };
    const streamOf = (fd: number): Readable | null => (child.stdio[fd] as Readable | null | undefined) ?? null;
    if (rgbCut) {
      streamOf(1)?.on('data', (chunk: Buffer) => {
        for (const f of rgbCut.push(chunk)) rgbQ.push(f);
        emitPairs();
      });
    }
    if (grayCut) {
      streamOf(grayFd!)?.on('data', (chunk: Buffer) => {
        for (const f of grayCut.push(chunk)) grayQ.push(f);
        emitPairs();
      });
    }
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk));

    let done!: () => void;
    this.exited = new Promise((r) => (done = r));
    let spawnError: Error | null = null;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      this.child = null;
      const lines = this.stderr.get();
      let reason: IngestReason;
      if (spawnError) reason = 'spawn';
      else if (this.killReason === 'stopped') reason = 'stopped';
      else {
        const silentMs = performance.now() - Math.max(this.lastFrameMono, this.spawnedAtMono);
        reason = classifyFfmpegExit(lines, code, { silentMs, timeoutMs: this.o.timeoutMs ?? 10_000 });
        if (this.killReason && (reason === 'other' || reason === 'ended')) reason = this.killReason;
      }
      const upForMs = this.connected ? performance.now() - this.connectedAtMono : 0;
      this.connected = false;
      this.lastReason = reason;
      this.backoff.connectionEnded(upForMs);
      const detail = spawnError ? `cannot start ffmpeg: ${(spawnError as Error).message}` : (lines.at(-1) ?? null);
      let retryInMs: number | null = null;
      if (this.running) {
        retryInMs = this.backoff.next();
        this.retryTimer = setTimeout(() => this.spawnOnce(), retryInMs);
      }
      this.log[reason === 'stopped' ? 'debug' : 'warn'](
        { reason, code, signal, detail, attempt: this.backoff.attempt, retryInMs },
        reason === 'spawn' ? 'ffmpeg could not be started; is ffmpeg installed?' : 'camera stream ended',
      );
      this.status({ connected: false, reason, detail, retryInMs });
      done();
    });
  }

  private emit(colour: Buffer | null, gray: Buffer | null): void {
    const yuv = this.plan.colour === 'yuv420p' ? colour : null;
    const rgb = yuv ? null : colour;
    const now = performance.now();
    this.lastFrameMono = now;
    this.lastFrameAt = new Date();
    this.frames++;
    if (!this.connected) {
      this.connected = true;
      this.connectedAtMono = now;
      this.log.info({ spawn: this.spawns }, 'camera stream connected');
      this.status({ connected: true, reason: null, detail: null, retryInMs: null });
    }
    this.slot.put({
      camera: this.camera,
      seq: this.seq++,
      time: this.lastFrameAt,
      monoMs: now,
      rgb,
      yuv,
      rgbSize: colour ? this.o.rgb! : null,
      gray,
      graySize: gray ? this.o.gray! : null,
      keyframeOnly: this.plan.keyframeOnly,
    });
  }

  private status(s: Pick<IngestStatus, 'connected' | 'reason' | 'detail' | 'retryInMs'>): void {
    try {
      this.o.onStatus?.({ camera: this.camera, at: new Date(), attempt: this.backoff.attempt, ...s });
    } catch (err) {
      this.log.error({ err }, 'onStatus handler threw');
    }
  }

  private checkStall(): void {
    if (!this.child) return;
    const since = Math.max(this.lastFrameMono, this.spawnedAtMono);
    if (performance.now() - since > this.stallTimeoutMs) {
      this.log.warn({ stallTimeoutMs: this.stallTimeoutMs }, 'no frame from ffmpeg; restarting it');
      this.kill('stalled');
    }
  }

  private kill(reason: IngestReason): void {
    const child = this.child;
    if (!child || this.killReason) return;
    this.killReason = reason;
    child.kill('SIGTERM');
    const hard = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 2000);
    hard.unref?.();
    child.once('close', () => clearTimeout(hard));
  }
}
