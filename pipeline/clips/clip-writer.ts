import { relative } from 'node:path';
import type { Logger } from '../log/index.js';
import type { Queryable } from '../store/index.js';
import { clipPath } from './clip-store.js';
import type { ClipRequest } from './clip-recorder.js';
import type { RunCommand } from '../video/spawn-helper.js';
import { muxClip } from './mux-clip.js';

export interface ClipWriterOptions {
  store: Queryable;
  logger: Logger;
  /** Where clips go (`<dir>/<yyyy-mm-dd>/<event id>.mp4`). */
  dir: string;
  /** The data folder: paths are recorded relative to it (what the API serves from). */
  root: string;
  ffmpegPath?: string;
  /** How ffmpeg is started (`muxClip`'s `run`): a worker passes its `SpawnHelper`'s. Default a child of this process. */
  run?: RunCommand;
  /** Clips waiting to be written at most; more are dropped, counted (each holds its video). Default 8. */
  maxQueued?: number;
}

export interface ClipWriterStats {
  written: number;
  failed: number;
  /** Failures because the disk is full (ENOSPC, or ffmpeg saying so). */
  diskFull: number;
  /** Nothing of the span was left in the camera buffer (a camera that reconnected, a late event). */
  empty: number;
  /** Dropped because too many clips were waiting. */
  dropped: number;
  queued: number;
}

/**
 * Writes the clips cameras hand over, one at a time per process (an ffmpeg
 * `-c copy` each), and records each in `event_clips` by event id, where an
 * alert finds its evidence. Never awaited by the frame path; errors are
 * counted and logged on the first and every 100th.
 */
export class ClipWriter {
  private chain: Promise<void> = Promise.resolve();
  private readonly counts: ClipWriterStats = { written: 0, failed: 0, diskFull: 0, empty: 0, dropped: 0, queued: 0 };

  constructor(private readonly o: ClipWriterOptions) {}

  stats(): ClipWriterStats {
    return { ...this.counts };
  }

  /** Queues one clip; returns at once. */
  write(r: ClipRequest): void {
    if (r.units.length === 0) {
      this.counts.empty++;
      return;
    }
    if (this.counts.queued >= (this.o.maxQueued ?? 8)) {
      this.counts.dropped++;
      if (this.counts.dropped === 1 || this.counts.dropped % 100 === 0) this.o.logger.warn({ event: r.event, camera: r.camera, dropped: this.counts.dropped }, 'evidence clip dropped: too many waiting to be written');
      return;
    }
    this.counts.queued++;
    this.chain = this.chain.then(() => this.writeOne(r)).finally(() => void this.counts.queued--);
  }

  /** Waits for the clips queued so far. */
  async idle(): Promise<void> {
    await this.chain;
  }

  private async writeOne(r: ClipRequest): Promise<void> {
    try {
      const path = clipPath(this.o.dir, r.event, new Date(r.fromMs));
      const clip = await muxClip(r.units, path, { ...(this.o.ffmpegPath ? { ffmpegPath: this.o.ffmpegPath } : {}), ...(this.o.run ? { run: this.o.run } : {}) });
      await this.o.store.query(
        `INSERT INTO event_clips (event, camera, path, from_at, to_at, duration_s, bytes, truncated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (event) DO UPDATE SET path = EXCLUDED.path, from_at = EXCLUDED.from_at, to_at = EXCLUDED.to_at, duration_s = EXCLUDED.duration_s, bytes = EXCLUDED.bytes, truncated = EXCLUDED.truncated`,
        [r.event, r.camera, relative(this.o.root, path), new Date(r.units[0]!.timeMs), new Date(r.toMs), clip.durationS, clip.bytes, r.truncated],
      );
      this.counts.written++;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const full = e.code === 'ENOSPC' || /no space left/i.test(e.message ?? '');
      this.counts.failed++;
      if (full) this.counts.diskFull++;
      if (this.counts.failed === 1 || this.counts.failed % 100 === 0 || (full && this.counts.diskFull === 1)) {
        this.o.logger.error({ err: e.message, event: r.event, camera: r.camera, failed: this.counts.failed, diskFull: this.counts.diskFull }, full ? 'evidence clip not written: the disk is full' : 'evidence clip not written');
      }
    }
  }
}
