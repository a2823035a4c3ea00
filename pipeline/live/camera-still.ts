import { spawn } from 'node:child_process';
import { chooseStream, type CameraStreams } from '../video/ffmpeg-args.js';
import { redactCredentials } from '../video/redact.js';
import { terminate } from '../video/terminate.js';

export interface CameraStillsOptions {
  ffmpegPath?: string;
  /** A still is served again for this long before a new one is grabbed. Default 30 s. */
  maxAgeMs?: number;
  /** ffmpegs grabbing stills at once; more wait their turn. Default 2. */
  concurrency?: number;
  /** Width of the still (height follows the picture). Default 480. */
  width?: number;
  /** Give up on a camera after this long. Default 10 s. */
  timeoutMs?: number;
}

/**
 * Recent stills for the camera grid: one JPEG grabbed from the camera's
 * sub-stream (the first picture ffmpeg decodes), kept for `maxAgeMs` and shared
 * by every viewer; a few grabs at a time so a grid of hundreds never starts
 * hundreds of decoders.
 */
export class CameraStills {
  private readonly cache = new Map<string, { at: number; jpeg: Promise<Buffer> }>();
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly o: CameraStillsOptions = {}) {}

  get(camera: string, streams: CameraStreams): Promise<Buffer> {
    const maxAge = this.o.maxAgeMs ?? 30_000;
    const hit = this.cache.get(camera);
    if (hit && Date.now() - hit.at < maxAge) return hit.jpeg;
    const jpeg = this.slot(() => this.grab(streams));
    this.cache.set(camera, { at: Date.now(), jpeg });
    // A failed grab is not kept: the next viewer tries again.
    jpeg.catch(() => this.cache.get(camera)?.jpeg === jpeg && this.cache.delete(camera));
    return jpeg;
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= (this.o.concurrency ?? 2)) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }

  private grab(streams: CameraStreams): Promise<Buffer> {
    const { url } = chooseStream(streams);
    const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error'];
    if (/^rtsps?:/i.test(url)) args.push('-rtsp_transport', 'tcp', '-timeout', String((this.o.timeoutMs ?? 10_000) * 1000));
    args.push('-i', url, '-an', '-frames:v', '1', '-vf', `scale=${this.o.width ?? 480}:-2`, '-q:v', '5', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1');
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      const timer = setTimeout(() => terminate(child), this.o.timeoutMs ?? 10_000);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-1000)));
      child.once('error', (e) => reject(new Error(`ffmpeg could not start: ${e.message}`)));
      child.once('close', (code) => {
        clearTimeout(timer);
        const jpeg = Buffer.concat(out);
        if (code === 0 && jpeg.length > 0) resolve(jpeg);
        else reject(new Error(`no still from the camera: ${redactCredentials(err.trim().split('\n').pop() || `ffmpeg exited with ${code}`)}`));
      });
    });
  }
}
