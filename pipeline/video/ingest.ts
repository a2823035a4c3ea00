import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../log/index.js';
import { childLogger, silentLogger } from '../log/index.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { AccessUnit } from './annexb.js';
import { H264Depacketizer, type H264DepacketizerStats } from './rtp-h264.js';
import { RtspClient, type RtspError } from './rtsp-client.js';
import { buildFfmpegArgs, type FrameSize, type IngestArgsOptions, type IngestPlan } from './ffmpeg-args.js';
import { KeyframeDecoder, type KeyframeDecoderStats } from './keyframe-decoder.js';
import { StreamActivity, type StreamActivityOptions } from './stream-activity.js';
import { FrameCutter } from './frame-cutter.js';
import { terminate } from './terminate.js';
import type { StartLimiter } from './start-limiter.js';
import { LatestSlot } from './frame-slot.js';
import { classifyFfmpegExit, ERROR_LEVELS, parseFfmpegLine, StderrTail, type IngestReason } from './ingest-reason.js';
import { describeStream, redactCredentials } from './redact.js';
import { yuv420pBytes } from './yuv.js';

/** Decoding errors and no picture for this long after ffmpeg started: the stream is reported undecodable. */
const UNDECODABLE_AFTER_MS = 5000;

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
  /** Decoding keyframes on demand (the stream received here, one ffmpeg decoding the keyframes due). */
  onDemand: boolean;
  /** On demand: access units received, keyframes among them, keyframes decoded. */
  accessUnits: number;
  keyframes: number;
  decoded: number;
  /** On demand: the decoder's own counts (refused while busy, failed, spawns). */
  decoder: KeyframeDecoderStats | null;
  /** On demand: RTP packets and what was lost or refused of them, over all connections. */
  rtp: H264DepacketizerStats | null;
  /** On demand: socket reads over all connections (fewer while quiet: OnDemandOptions.quietReadEveryMs). */
  reads: number;
  /** The size the camera sends (before scaling to the detect size), once the decoder told it. */
  sourceSize: FrameSize | null;
  /** Times the camera's resolution changed while watched (the decoder and scalers re-initialised). */
  sizeChanges: number;
}

export interface OnDemandOptions {
  /** A quiet camera still has a keyframe decoded at least this often (health, heartbeat, missed motion). Default 4 s. */
  quietEveryS?: number;
  /**
   * While the camera is quiet (last GOP still, nothing asked for), its socket
   * is read at most this often instead of `readEveryMs`: each read is a
   * wake-up, and a still camera needs few. Activity is then seen up to this
   * much later. Default 1000 ms.
   */
  quietReadEveryMs?: number;
  /** How P-frame sizes are judged. */
  activity?: StreamActivityOptions;
}

export interface CameraIngestOptions extends IngestArgsOptions {
  camera: string;
  logger?: Logger;
  ffmpegPath?: string;
  /** Restart ffmpeg when no frame came for this long (alive but stuck). Default 20 s. */
  stallTimeoutMs?: number;
  backoff?: BackoffOptions;
  /**
   * Called on every connect and disconnect; health monitoring listens here. A
   * connection whose data cannot be decoded (no picture yet, decoding errors)
   * is reported once, as not connected with reason `codec`, while it goes on.
   */
  onStatus?: (status: IngestStatus) => void;
  /**
   * The camera's own picture size, when first known and whenever it changes
   * (`previous` then set). Frames keep their detect size: ffmpeg re-initialises
   * its decoder and scalers by itself.
   */
  onSourceSize?: (size: FrameSize, previous: FrameSize | null, at: Date) => void;
  /**
   * Decode keyframes on demand (rtsp:// H.264, only where keyframe-only
   * decoding is allowed): this process receives the stream (RtspClient,
   * H264Depacketizer) and judges its P-frame sizes; a long-lived ffmpeg
   * decodes the keyframes that are due: when the compressed stream shows
   * activity, when `demand()` asks, and every `quietEveryS` regardless.
   * Anything else (or a stream that turns out not to be H.264) uses one
   * ffmpeg that receives and decodes every sampled keyframe.
   */
  onDemand?: OnDemandOptions | boolean | null;
  /** On demand: the worker's limit on decoder start-ups at a time (one StartLimiter shared by its cameras). */
  startLimiter?: StartLimiter;
  /** On demand: read an active camera's socket at most this often (RtspClientOptions.readEveryMs). Default 200 ms. */
  readEveryMs?: number;
  /** On demand: every H.264 access unit as received (evidence clips keep them); must return at once. */
  onAccessUnit?: (au: AccessUnit) => void;
}

/**
 * One camera's stream, kept running: an ffmpeg spawned from `buildFfmpegArgs`
 * whose raw output is cut into frames (or, on demand, an RTSP session here and
 * a keyframe decoder), the newest frame offered to one consumer (older ones
 * dropped and counted), restarted with backoff when it ends or stalls. Nothing
 * it logs, reports or throws contains the stream's credentials.
 */
export class CameraIngest {
  readonly camera: string;
  readonly plan: IngestPlan;
  private readonly log: Logger;
  private readonly slot = new LatestSlot<VideoFrame>();
  private readonly backoff: Backoff;
  private readonly stderr = new StderrTail(20, (line) => this.ffmpegLine(line));
  private sourceSize: FrameSize | null = null;
  private sizeChanges = 0;
  /** This connection was reported undecodable (once per connection). */
  private undecodableReported = false;
  /** On demand: a keyframe of this connection gave a picture. */
  private decodedThisConnection = false;
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
  // On-demand decoding.
  private rtsp: RtspClient | null = null;
  private depacketizer: H264Depacketizer | null = null;
  /** Depacketizer counts of the connections that ended. */
  private depacketized: H264DepacketizerStats | null = null;
  private onDemand: boolean;
  private readonly quietEveryMs: number;
  private readonly readEveryMs: number;
  private readonly quietReadEveryMs: number;
  private readsEnded = 0;
  private readonly activity: StreamActivity;
  private decoder: KeyframeDecoder | null = null;
  private lastPacketMono = 0;
  private lastDecodeMono = -Infinity;
  private demandUntilMono = 0;
  private accessUnits = 0;
  private keyframes = 0;
  private decoded = 0;

  constructor(private readonly o: CameraIngestOptions) {
    this.camera = o.camera;
    this.plan = buildFfmpegArgs(o);
    this.log = childLogger(o.logger ?? silentLogger(), { camera: o.camera, stream: describeStream(this.plan.url) });
    this.backoff = new Backoff(o.backoff);
    this.stallTimeoutMs = o.stallTimeoutMs ?? 20_000;
    const od = o.onDemand === true ? {} : o.onDemand || null;
    // rtsp:// only: the stream is read by this process's RTSP client (rtsps, http and files go to ffmpeg).
    this.onDemand = od !== null && this.plan.keyframeOnly && /^rtsp:\/\//i.test(this.plan.url);
    this.quietEveryMs = (od?.quietEveryS ?? 4) * 1000;
    this.readEveryMs = o.readEveryMs ?? 200;
    this.quietReadEveryMs = Math.max(this.readEveryMs, od?.quietReadEveryMs ?? 1000);
    this.activity = new StreamActivity(od?.activity);
  }

  /**
   * Asks for every keyframe to be decoded for the next `seconds` (on demand
   * only; otherwise every sampled keyframe is decoded anyway). The camera
   * calls it while its pictures show motion or tracked objects.
   */
  demand(seconds: number): void {
    this.demandUntilMono = Math.max(this.demandUntilMono, performance.now() + seconds * 1000);
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
    this.kill('stopped');
    await Promise.all([this.exited, this.decoder?.close()]);
    this.slot.close();
  }

  /** The newest frame not yet taken; waits for one; null after stop(). */
  next(): Promise<VideoFrame | null> {
    return this.slot.take();
  }

  poll(): VideoFrame | null {
    return this.slot.poll();
  }

  /** `listener` is called whenever a frame arrives while the consumer is busy with an earlier one; null removes it. */
  onFrameWaiting(listener: (() => void) | null): void {
    this.slot.onWaiting = listener;
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
      onDemand: this.onDemand,
      accessUnits: this.accessUnits,
      keyframes: this.keyframes,
      decoded: this.decoded,
      decoder: this.decoder?.stats() ?? null,
      rtp: this.rtpStats(),
      reads: this.readsEnded + (this.rtsp?.stats().reads ?? 0),
      sourceSize: this.sourceSize,
      sizeChanges: this.sizeChanges,
    };
  }

  private spawnOnce(): void {
    this.retryTimer = null;
    if (!this.running) return;
    this.stderr.clear();
    this.killReason = null;
    this.undecodableReported = false;
    this.spawns++;
    this.spawnedAtMono = performance.now();
    if (this.onDemand) {
      this.receive();
      return;
    }
    const grayFd = this.plan.grayFd;
    const child = spawn(this.o.ffmpegPath ?? 'ffmpeg', this.plan.args, {
      stdio: ['ignore', 'pipe', 'pipe', ...(grayFd === 3 ? (['pipe'] as const) : [])],
      windowsHide: true,
    });
    this.child = child;
    this.log.debug({ spawn: this.spawns, keyframeOnly: this.plan.keyframeOnly, sub: this.plan.usedSubStream }, 'ffmpeg started');
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    this.cutFrames(child);

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
        // Stopped by the watchdog, ffmpeg was alive: its socket timeout did not end it, and
        // decoding errors then mean data came that could not be decoded (garbage), not a silence.
        const silentMs = this.killReason === 'stalled' ? undefined : performance.now() - Math.max(this.lastFrameMono, this.spawnedAtMono);
        reason = classifyFfmpegExit(lines, code, silentMs === undefined ? {} : { silentMs, timeoutMs: this.o.timeoutMs ?? 10_000 });
        if (this.killReason && (reason === 'other' || reason === 'ended')) reason = this.killReason;
        // Pictures came and ffmpeg saw the end of its input: the camera closed the connection. A
        // picture cut short by it leaves a decoding error as the last line (the detail says so).
        else if (!this.killReason && code === 0 && this.connected && reason === 'codec') reason = 'ended';
      }
      const detail = spawnError ? `cannot start ffmpeg: ${(spawnError as Error).message}` : (lines.at(-1) ?? null);
      this.connectionEnded(reason, detail, { code, signal });
      done();
    });
  }

  /**
   * Every complete stderr line of the ingest's ffmpeg (`INGEST_LOG_LEVEL`): the
   * decoder's size line is read, error lines are kept for the reason, the rest
   * dropped. Decoding errors before the connection's first picture are
   * reported at once (reason `codec`): a camera sending garbage keeps ffmpeg
   * alive and silent until the stall watchdog, which is far longer.
   */
  private ffmpegLine(line: string): string | null {
    const { level, text } = parseFfmpegLine(line);
    const size = /Reinit context to (\d+)x(\d+)/.exec(text);
    if (size) this.observeSourceSize({ width: Number(size[1]), height: Number(size[2]) });
    if (level === null || !ERROR_LEVELS.has(level)) return null;
    if (!this.connected && this.child && classifyFfmpegExit([text], 1) === 'codec') this.undecodable(text);
    return text;
  }

  /**
   * A decoding error before this connection's first picture: reported once per
   * connection (not connected, reason `codec`), and not at once: a stream
   * joined between keyframes gives such errors until its next keyframe. On
   * demand the session counts as connected from its first access unit, so
   * "no picture yet" is what decides there.
   */
  private undecodable(line: string): void {
    const noPicture = this.onDemand ? !this.decodedThisConnection : !this.connected;
    if (!noPicture || this.undecodableReported || performance.now() - this.spawnedAtMono < UNDECODABLE_AFTER_MS) return;
    this.undecodableReported = true;
    const detail = line.slice(0, 500);
    this.log.warn({ detail }, 'camera stream cannot be decoded');
    this.status({ connected: false, reason: 'codec', detail, retryInMs: null });
  }

  private observeSourceSize(size: FrameSize): void {
    const previous = this.sourceSize;
    if (previous && previous.width === size.width && previous.height === size.height) return;
    this.sourceSize = size;
    if (previous) {
      this.sizeChanges++;
      this.log.warn({ from: `${previous.width}x${previous.height}`, to: `${size.width}x${size.height}`, changes: this.sizeChanges }, 'camera stream resolution changed');
    }
    try {
      this.o.onSourceSize?.(size, previous, new Date());
    } catch (err) {
      this.log.error({ err }, 'onSourceSize handler threw');
    }
  }

  /** After a connection (ffmpeg or RTSP session) ended: count, report, schedule the next attempt. */
  private connectionEnded(reason: IngestReason, detail: string | null, extra: Record<string, unknown> = {}): void {
    const upForMs = this.connected ? performance.now() - this.connectedAtMono : 0;
    this.connected = false;
    this.lastReason = reason;
    this.backoff.connectionEnded(upForMs);
    let retryInMs: number | null = null;
    if (this.running) {
      retryInMs = this.backoff.next();
      this.retryTimer = setTimeout(() => this.spawnOnce(), retryInMs);
    }
    this.log[reason === 'stopped' ? 'debug' : 'warn'](
      { reason, ...extra, detail, attempt: this.backoff.attempt, retryInMs },
      reason === 'spawn' ? 'ffmpeg could not be started; is ffmpeg installed?' : 'camera stream ended',
    );
    this.status({ connected: false, reason, detail, retryInMs });
  }

  /** Decoding ffmpeg: raw frames on one or two pipes, cut and paired. */
  private cutFrames(child: ChildProcess): void {
    const { rgbFd, grayFd } = this.plan;

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
  }

  /**
   * On demand: the stream is received in this process (RTSP over TCP, RTP
   * depacketized into pictures), nothing is decoded until a keyframe is due:
   * when the GOP before it was active, when the camera asked (`demand`), or
   * when the last decoded one is `quietEveryS` old. A stream that is not
   * H.264 is handed to one decoding ffmpeg instead, for good.
   */
  private receive(): void {
    const client = new RtspClient({ url: this.plan.url, timeoutMs: this.o.timeoutMs ?? 10_000, readEveryMs: this.readEveryMs });
    this.rtsp = client;
    this.activity.reset();
    this.decodedThisConnection = false;
    this.lastDecodeMono = -Infinity; // a new connection shows its first picture at once
    this.depacketizer = null;
    let done!: () => void;
    this.exited = new Promise((r) => (done = r));
    let ended = false;
    const end = (reason: IngestReason, detail: string | null) => {
      if (ended) return;
      ended = true;
      if (this.rtsp === client) this.rtsp = null;
      this.readsEnded += client.stats().reads;
      this.depacketized = this.rtpStats(); // this connection's counts join the total
      this.depacketizer = null;
      // Ended by us (stop, stall, not H.264): our reason; else the session's.
      this.connectionEnded(this.killReason ?? reason, detail);
      done();
    };
    client.onRtp = (packet) => {
      const d = this.depacketizer;
      if (d) for (const au of d.push(packet)) this.onAccessUnit(au);
    };
    client.onClose = (err) => end(err?.reason ?? 'stopped', err?.message ?? null);
    client.onTrack = (track) => {
      if (track.codec === 'H264') this.depacketizer = new H264Depacketizer({ parameterSets: track.parameterSets, payloadType: track.payloadType });
    };
    client.start().then(
      (track) => {
        if (track.codec !== 'H264' && this.rtsp === client) {
          this.onDemand = false;
          this.log.warn({ codec: track.codec }, 'stream is not H.264: on-demand keyframe decoding off for this camera; ffmpeg decodes it');
          this.kill('codec');
        }
      },
      (err: unknown) => {
        const e = err as Partial<RtspError>;
        end(e.reason ?? 'other', redactCredentials(e.message ?? String(err)));
      },
    );
  }

  /** RTP counts over all connections: the ended ones' total plus the current one's. */
  private rtpStats(): H264DepacketizerStats | null {
    if (!this.depacketizer) return this.depacketized;
    const now = this.depacketizer.stats();
    if (!this.depacketized) return now;
    const sum = { ...this.depacketized };
    for (const k of Object.keys(sum) as (keyof H264DepacketizerStats)[]) sum[k] += now[k];
    return sum;
  }

  private onAccessUnit(au: AccessUnit): void {
    const now = performance.now();
    this.lastPacketMono = now;
    this.accessUnits++;
    if (!this.connected) this.markConnected(now);
    this.o.onAccessUnit?.(au);
    this.activity.observe(au.key, au.sliceBytes);
    const quiet = !this.activity.active && now >= this.demandUntilMono;
    this.rtsp?.setReadEvery(quiet ? this.quietReadEveryMs : this.readEveryMs);
    if (!au.key) return;
    this.keyframes++;
    // Half a GOP of slack: "every 4 s" must not become every 5 s through keyframe phase.
    const due = this.activity.active || now < this.demandUntilMono || now - this.lastDecodeMono >= this.quietEveryMs - 500;
    if (!due) return;
    this.decoder ??= new KeyframeDecoder({
      rgb: this.o.rgb ?? null,
      gray: this.o.gray ?? null,
      colour: this.plan.colour,
      logger: this.log,
      ...(this.o.ffmpegPath ? { ffmpegPath: this.o.ffmpegPath } : {}),
      ...(this.o.startLimiter ? { startLimiter: this.o.startLimiter } : {}),
      onSourceSize: (size) => this.observeSourceSize(size),
      onDecodeError: (detail) => this.undecodable(detail),
    });
    if (this.decoder.busy) return;
    this.lastDecodeMono = now;
    const arrived = new Date();
    void this.decoder.decode(au.data).then((p) => {
      if (!p || !this.running) return;
      this.decodedThisConnection = true;
      this.decoded++;
      this.emit(p.colour, p.gray, arrived, now);
    });
  }

  /**
   * Offers one frame. `time`/`monoMs`: when its data arrived (on demand, the
   * keyframe's arrival, before decoding), else now.
   */
  private emit(colour: Buffer | null, gray: Buffer | null, time?: Date, monoMs?: number): void {
    const yuv = this.plan.colour === 'yuv420p' ? colour : null;
    const rgb = yuv ? null : colour;
    const now = performance.now();
    this.lastFrameMono = now;
    this.lastFrameAt = time ?? new Date();
    this.frames++;
    if (!this.connected) this.markConnected(now);
    this.slot.put({
      camera: this.camera,
      seq: this.seq++,
      time: this.lastFrameAt,
      monoMs: monoMs ?? now,
      rgb,
      yuv,
      rgbSize: colour ? this.o.rgb! : null,
      gray,
      graySize: gray ? this.o.gray! : null,
      keyframeOnly: this.plan.keyframeOnly,
    });
  }

  private markConnected(now: number): void {
    this.connected = true;
    this.connectedAtMono = now;
    this.log.info({ spawn: this.spawns, onDemand: this.onDemand }, 'camera stream connected');
    this.status({ connected: true, reason: null, detail: null, retryInMs: null });
  }

  private status(s: Pick<IngestStatus, 'connected' | 'reason' | 'detail' | 'retryInMs'>): void {
    try {
      this.o.onStatus?.({ camera: this.camera, at: new Date(), attempt: this.backoff.attempt, ...s });
    } catch (err) {
      this.log.error({ err }, 'onStatus handler threw');
    }
  }

  private checkStall(): void {
    if (!this.child && !this.rtsp) return;
    const since = Math.max(this.lastFrameMono, this.lastPacketMono, this.spawnedAtMono);
    if (performance.now() - since > this.stallTimeoutMs) {
      this.log.warn({ stallTimeoutMs: this.stallTimeoutMs }, this.rtsp ? 'no picture from the camera; reconnecting' : 'no frame from ffmpeg; restarting it');
      this.kill('stalled');
    }
  }

  /** Ends the current connection: the RTSP session, or ffmpeg (SIGTERM, SIGKILL after 2 s). */
  private kill(reason: IngestReason): void {
    if (this.killReason) return;
    if (this.rtsp) {
      this.killReason = reason;
      void this.rtsp.close();
      return;
    }
    const child = this.child;
    if (!child) return;
    this.killReason = reason;
    terminate(child);
  }
}
