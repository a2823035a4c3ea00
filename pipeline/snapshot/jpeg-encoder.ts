import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log/index.js';
import { silentLogger } from '../log/index.js';
import { StderrTail } from '../video/ingest-reason.js';
import { terminate } from '../video/terminate.js';
import { assertFrame, type RgbImage } from './draw.js';

export interface JpegEncoderOptions {
  ffmpegPath?: string;
  /** A picture not back within this long fails, and its ffmpeg is restarted. Default 5000 ms. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface JpegEncoderStats {
  encoded: number;
  failed: number;
  /** ffmpeg processes started (one per picture size and quality, again after a failure). */
  spawns: number;
}

/**
 * JPEG bytes of RGB24 pictures, from long-lived ffmpeg processes (its mjpeg
 * encoder, 4:2:0), one per picture size and quality, each answering the
 * pictures it is handed in order. Measured on the 2-core machine for a
 * 640×480 event snapshot: about 4 ms and a few ms of CPU, against 59 ms of
 * CPU for the pure-JavaScript encoder (jpeg-js) it replaces, which ran on the
 * camera worker's main loop for every event (decision 38). The processes hold
 * no reference on the event loop while idle, so an encoder left open never
 * keeps a finished command alive; `close()` ends them.
 */
export class JpegEncoder {
  private readonly processes = new Map<string, EncoderProcess>();
  private readonly counts: JpegEncoderStats = { encoded: 0, failed: 0, spawns: 0 };
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly o: JpegEncoderOptions = {}) {
    this.log = o.logger ?? silentLogger();
  }

  /** The JPEG of `frame` at `quality` (1–100, as image editors count it; default 80). */
  encode(frame: RgbImage, quality = 80): Promise<Buffer> {
    assertFrame(frame);
    if (this.closed) return Promise.reject(new Error('the JPEG encoder is closed'));
    const q = qscale(quality);
    const key = `${frame.width}x${frame.height}q${q}`;
    let p = this.processes.get(key);
    if (!p || p.ended) {
      this.counts.spawns++;
      p = new EncoderProcess(frame.width, frame.height, q, this.o, this.log, this.counts);
      this.processes.set(key, p);
    }
    return p.encode(frame.data);
  }

  stats(): JpegEncoderStats {
    return { ...this.counts };
  }

  /** Ends every ffmpeg; pictures still being encoded fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.processes.values()].map((p) => p.close()));
    this.processes.clear();
  }
}

/** ffmpeg's mjpeg qscale (2 best … 31 worst) for a 1–100 quality: 80 → 4, 90 → 2, 50 → 10. */
export function qscale(quality: number): number {
  if (!(quality >= 1 && quality <= 100)) throw new RangeError(`JPEG quality must be 1–100, got ${quality}`);
  return Math.min(31, Math.max(2, Math.round((100 - quality) / 5)));
}

/**
 * Where the first complete JPEG in `b` ends (the index after its EOI marker),
 * or -1 while it is not all there. The markers are walked by their lengths up
 * to the scan, and the scan's entropy-coded bytes are skipped by JPEG's own
 * rule (a 0xFF there is followed by 0x00 or a restart marker), so no byte
 * inside a table or the image data is taken for the end.
 */
export function jpegEnd(b: Uint8Array): number {
  if (b.length < 4) return -1;
  if (b[0] !== 0xff || b[1] !== 0xd8) throw new Error('not a JPEG stream: it does not start with SOI');
  let i = 2;
  for (;;) {
    if (i + 2 > b.length) return -1;
    if (b[i] !== 0xff) throw new Error(`not a JPEG stream: no marker at byte ${i}`);
    const marker = b[i + 1]!;
    if (marker === 0xd9) return i + 2;
    if (i + 4 > b.length) return -1;
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    i += 2 + length;
    if (marker !== 0xda) continue;
    // Entropy-coded data until a marker that is neither a stuffed 0xFF nor a restart.
    for (;;) {
      if (i + 1 >= b.length) return -1;
      if (b[i] === 0xff) {
        const next = b[i + 1]!;
        if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7) && next !== 0xff) break;
      }
      i++;
    }
  }
}

interface Waiting {
  resolve: (jpeg: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
}

/** One ffmpeg: raw RGB24 pictures of one size in, one JPEG each out, in order. */
class EncoderProcess {
  ended = false;
  private readonly child: ChildProcess;
  private readonly waiting: Waiting[] = [];
  private readonly stderr = new StderrTail(5);
  private out: Buffer = Buffer.alloc(0);

  constructor(
    private readonly width: number,
    private readonly height: number,
    q: number,
    private readonly o: JpegEncoderOptions,
    private readonly log: Logger,
    private readonly counts: JpegEncoderStats,
  ) {
    const args = [
      '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
      '-probesize', '32', '-analyzeduration', '0',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0',
      // Every picture out as soon as it is in: no frame-rate logic holding one back, each packet flushed.
      '-threads', '1', '-fps_mode', 'passthrough', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', String(q),
      '-f', 'image2pipe', '-flush_packets', '1', 'pipe:1',
    ];
    this.child = spawn(o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    // EPIPE when ffmpeg died: 'close' below answers for it.
    this.child.stdin!.on('error', () => undefined);
    this.child.on('error', (err) => this.fail(new Error(`the JPEG encoder (ffmpeg) could not be started: ${err.message}; is ffmpeg installed?`)));
    this.child.on('close', (code, signal) => this.fail(new Error(`the JPEG encoder (ffmpeg) ended (${signal ?? `code ${code}`})${this.detail()}`)));
    this.idle();
  }

  encode(rgb: Uint8Array): Promise<Buffer> {
    if (this.ended) return Promise.reject(new Error(`the JPEG encoder (ffmpeg) has ended${this.detail()}`));
    return new Promise((resolve, reject) => {
      const w: Waiting = { resolve, reject, timer: null };
      w.timer = setTimeout(() => {
        this.log.warn({ width: this.width, height: this.height, detail: this.stderr.get().at(-1) ?? null }, 'JPEG encoder gave no picture in time; restarting it');
        this.fail(new Error(`the JPEG encoder (ffmpeg) gave no picture within ${this.o.timeoutMs ?? 5000} ms${this.detail()}`));
        terminate(this.child);
      }, this.o.timeoutMs ?? 5000);
      this.waiting.push(w);
      this.busy();
      (this.child.stdin as Writable).write(rgb);
    });
  }

  async close(): Promise<void> {
    if (this.ended) return;
    const closed = new Promise<void>((r) => this.child.once('close', () => r()));
    this.fail(new Error('the JPEG encoder is closed'));
    terminate(this.child);
    await closed;
  }

  private onData(chunk: Buffer): void {
    this.out = this.out.length === 0 ? chunk : Buffer.concat([this.out, chunk]);
    for (;;) {
      let end: number;
      try {
        end = jpegEnd(this.out);
      } catch (err) {
        this.fail(new Error(`the JPEG encoder (ffmpeg) wrote something else than JPEG: ${(err as Error).message}`));
        terminate(this.child);
        return;
      }
      if (end < 0) return;
      const jpeg = Buffer.from(this.out.subarray(0, end));
      this.out = this.out.subarray(end);
      const w = this.waiting.shift();
      if (!w) continue;
      if (w.timer) clearTimeout(w.timer);
      this.counts.encoded++;
      w.resolve(jpeg);
      if (this.waiting.length === 0) this.idle();
    }
  }

  private fail(err: Error): void {
    this.ended = true;
    for (const w of this.waiting.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      this.counts.failed++;
      w.reject(err);
    }
    this.idle();
  }

  private detail(): string {
    const last = this.stderr.get().at(-1);
    return last ? `: ${last}` : '';
  }

  /** Nothing in hand: the process and its pipes must not keep the event loop alive. */
  private idle(): void {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr] as Array<(Readable | Writable) & { unref?: () => void }>) s?.unref?.();
  }

  private busy(): void {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr] as Array<(Readable | Writable) & { ref?: () => void }>) s?.ref?.();
  }
}
