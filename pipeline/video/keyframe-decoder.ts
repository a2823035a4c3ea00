import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import { ACCESS_UNIT_DELIMITER } from './annexb.js';
import { buildKeyframeDecoderArgs, type KeyframeDecoderArgsOptions } from './ffmpeg-args.js';
import { FrameCutter } from './frame-cutter.js';
import { terminate } from './terminate.js';
import type { StartLimiter } from './start-limiter.js';
import { classifyFfmpegExit, ERROR_LEVELS, parseFfmpegLine, StderrTail } from './ingest-reason.js';
import type { FrameSize } from './ffmpeg-args.js';
import { yuv420pBytes } from './yuv.js';

export interface DecodedPicture {
  /** Colour frame (rgb24 or yuv420p as asked), or null when only grey was asked for. */
  colour: Buffer | null;
  gray: Buffer | null;
}

export interface KeyframeDecoderOptions extends KeyframeDecoderArgsOptions {
  ffmpegPath?: string;
  logger?: Logger;
  /** A keyframe that gives no picture within this long restarts the decoder. Default 3 s. */
  timeoutMs?: number;
  /**
   * The same for a decoder's first picture, which waits for ffmpeg to start:
   * ~0.3 s alone, but 60 cameras starting together on 2 cores took 1–3 s each,
   * and with the short limit they timed out, restarted and never caught up.
   * Default 20 s.
   */
  startTimeoutMs?: number;
  /** Shared by a worker's decoders: at most a few start at a time (StartLimiter). */
  startLimiter?: StartLimiter;
  /** The keyframes' own picture size, from the decoder (each time it (re)initialises at a size). */
  onSourceSize?: (size: FrameSize) => void;
  /** A decoding error (the keyframe's data could not be decoded), its line. */
  onDecodeError?: (detail: string) => void;
}

interface Pending {
  resolve: (p: DecodedPicture | null) => void;
  /** Armed once the keyframe is written (not while waiting for a start-up slot). */
  timer: NodeJS.Timeout | null;
}

export interface KeyframeDecoderStats {
  decoded: number;
  /** Keyframes refused because one was still being decoded. */
  busy: number;
  /** Keyframes that gave no picture in time (the decoder was restarted). */
  failed: number;
  spawns: number;
}

/**
 * One long-lived ffmpeg that decodes the keyframes it is handed, one at a
 * time, and answers each with its picture as soon as it is decoded (see
 * `buildKeyframeDecoderArgs` for what that takes). Started on the first
 * keyframe, restarted when it dies or a keyframe gives no picture; it never
 * queues: a keyframe offered while another is being decoded is refused.
 */
export class KeyframeDecoder {
  private readonly args: string[];
  private readonly colourBytes: number;
  private readonly grayBytes: number;
  private readonly grayFd: 1 | 3 | null;
  private readonly log: Logger;
  private readonly stderr = new StderrTail(10, (line) => this.ffmpegLine(line));
  private child: ChildProcess | null = null;
  private colourCut: FrameCutter | null = null;
  private grayCut: FrameCutter | null = null;
  private colour: Buffer | null = null;
  private gray: Buffer | null = null;
  private pending: Pending | null = null;
  private releaseStart: (() => void) | null = null;
  private closed = false;
  /** The current process has not given a picture yet. */
  private starting = true;
  private readonly counts: KeyframeDecoderStats = { decoded: 0, busy: 0, failed: 0, spawns: 0 };

  constructor(private readonly o: KeyframeDecoderOptions) {
    this.args = buildKeyframeDecoderArgs(o);
    const colour = o.colour ?? 'rgb24';
    this.colourBytes = o.rgb ? (colour === 'yuv420p' ? yuv420pBytes(o.rgb.width, o.rgb.height) : o.rgb.width * o.rgb.height * 3) : 0;
    this.grayBytes = o.gray ? o.gray.width * o.gray.height : 0;
    this.grayFd = o.gray ? (o.rgb ? 3 : 1) : null;
    this.log = o.logger ?? silentLogger();
  }

  /** Reads the decoder's size line, reports decoding errors, keeps the error lines. */
  private ffmpegLine(line: string): string | null {
    const { level, text } = parseFfmpegLine(line);
    const size = /Reinit context to (\d+)x(\d+)/.exec(text);
    if (size) this.o.onSourceSize?.({ width: Number(size[1]), height: Number(size[2]) });
    if (level === null || !ERROR_LEVELS.has(level)) return null;
    if (classifyFfmpegExit([text], 1) === 'codec') this.o.onDecodeError?.(text.slice(0, 500));
    return text;
  }

  /** Is a keyframe being decoded now? */
  get busy(): boolean {
    return this.pending !== null;
  }

  stats(): KeyframeDecoderStats {
    return { ...this.counts };
  }

  /**
   * Decodes one keyframe access unit (from `H264Depacketizer` or `AccessUnitSplitter`, SPS/PPS
   * included). Resolves with its picture, or null when busy, closed or failed.
   */
  decode(keyframe: Buffer): Promise<DecodedPicture | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.pending) {
      this.counts.busy++;
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const pending: Pending = { resolve, timer: null };
      this.pending = pending;
      const send = () => {
        if (this.pending !== pending) return; // closed while waiting for a start-up slot
        const child = this.child ?? this.spawnOnce();
        pending.timer = setTimeout(() => {
          this.counts.failed++;
          this.log.warn({ detail: this.stderr.get().at(-1) ?? null }, 'keyframe decoder gave no picture; restarting it');
          this.finish(null);
          this.kill();
        }, this.starting ? (this.o.startTimeoutMs ?? 20_000) : (this.o.timeoutMs ?? 3000));
        this.colour = null;
        this.gray = null;
        // The AUD after the keyframe ends it for ffmpeg's parser: without it the picture waits for the next one.
        child.stdin?.write(Buffer.concat([keyframe, ACCESS_UNIT_DELIMITER]));
      };
      const limiter = this.o.startLimiter;
      if (this.child || !limiter) return send();
      // A new process: start when the worker's start-ups allow, release once it gave a picture or ended.
      void limiter.acquire().then((release) => {
        this.releaseStart = release;
        if (this.pending !== pending) this.endStart();
        else send();
      });
    });
  }

  /** The start-up slot goes back (first picture, failure, close). */
  private endStart(): void {
    const release = this.releaseStart;
    this.releaseStart = null;
    release?.();
  }

  /** Stops ffmpeg; a keyframe being decoded resolves null. */
  async close(): Promise<void> {
    this.closed = true;
    this.finish(null);
    this.endStart();
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    this.kill();
    await exited;
  }

  private spawnOnce(): ChildProcess {
    this.counts.spawns++;
    this.starting = true;
    this.stderr.clear();
    const child = spawn(this.o.ffmpegPath ?? 'ffmpeg', this.args, {
      stdio: ['pipe', 'pipe', 'pipe', ...(this.grayFd === 3 ? (['pipe'] as const) : [])],
      windowsHide: true,
    });
    this.child = child;
    const colourCut = this.colourBytes ? new FrameCutter(this.colourBytes) : null;
    const grayCut = this.grayBytes ? new FrameCutter(this.grayBytes) : null;
    this.colourCut = colourCut;
    this.grayCut = grayCut;
    const out = (fd: number) => (child.stdio[fd] as Readable | null | undefined) ?? null;
    if (colourCut) out(1)?.on('data', (chunk: Buffer) => this.onPicture(child, colourCut.push(chunk), 'colour'));
    if (grayCut) out(this.grayFd!)?.on('data', (chunk: Buffer) => this.onPicture(child, grayCut.push(chunk), 'gray'));
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    // EPIPE when ffmpeg died: 'close' below handles it.
    child.stdin?.on('error', () => undefined);
    child.on('error', (err) => this.log.warn({ err }, 'keyframe decoder could not be started; is ffmpeg installed?'));
    child.on('close', (code, signal) => {
      if (!this.closed) this.log.debug({ code, signal, detail: this.stderr.get().at(-1) ?? null }, 'keyframe decoder ended');
      // A decoder replaced after a timeout must not answer for its successor.
      if (this.child === child) {
        this.child = null;
        this.finish(null);
        this.endStart();
      }
    });
    return child;
  }

  private onPicture(child: ChildProcess, frames: Buffer[], which: 'colour' | 'gray'): void {
    if (child !== this.child || frames.length === 0) return;
    // One keyframe in, one picture out: more than one means the stream was not what we fed it.
    const last = frames.at(-1)!;
    if (which === 'colour') this.colour = last;
    else this.gray = last;
    if ((this.colourBytes && !this.colour) || (this.grayBytes && !this.gray)) return;
    this.counts.decoded++;
    this.starting = false;
    this.endStart();
    this.finish({ colour: this.colour, gray: this.gray });
    this.colour = null;
    this.gray = null;
  }

  private finish(p: DecodedPicture | null): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    if (pending.timer) clearTimeout(pending.timer);
    pending.resolve(p);
  }

  private kill(): void {
    const child = this.child;
    if (!child) return;
    this.child = null;
    this.endStart();
    child.stdin?.end();
    terminate(child);
  }
}
