import { join } from 'node:path';
import type { Logger } from '../log/index.js';
import type { Queryable } from '../store/index.js';
import { SpawnHelper } from '../video/spawn-helper.js';
import { pruneClips } from './clip-store.js';
import { ClipRecorder } from './clip-recorder.js';
import { ClipWriter, type ClipWriterStats } from './clip-writer.js';

export interface CameraClipsOptions {
  store: Queryable;
  logger: Logger;
  /** The data folder: clips go to `<dataDir>/clips`, recorded relative to it. */
  dataDir: string;
  /** The site file's `alerts.clips`. */
  settings: { pre_roll_seconds: number; post_roll_seconds: number; retain_days: number };
  /** Longest clip, pre-roll included. Default 60 s. */
  maxSeconds?: number;
}

/** What a camera's recorder needs to know of it. */
export interface ClipCamera {
  id: string;
  zones: ReadonlyArray<{ min_dwell_seconds: number }>;
  detect: { fps: number };
}

/**
 * The evidence clips of a camera worker: one `ClipRecorder` per camera (kept
 * across its runners, so a restart does not lose a clip being waited for),
 * one `ClipWriter` for the process, its ffmpeg started by a `SpawnHelper`
 * (forking the worker for each clip costs it page faults on all its memory),
 * retention (`pruneClips`) at start and hourly.
 */
export class CameraClips {
  private readonly writer: ClipWriter;
  private readonly recorders = new Map<string, ClipRecorder>();
  private readonly dir: string;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly spawner = new SpawnHelper();

  constructor(private readonly o: CameraClipsOptions) {
    this.dir = join(o.dataDir, 'clips');
    this.writer = new ClipWriter({ store: o.store, logger: o.logger, dir: this.dir, root: o.dataDir, run: this.spawner.run });
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
  }

  recorder(camera: ClipCamera): ClipRecorder {
    let r = this.recorders.get(camera.id);
    if (!r) {
      const s = this.o.settings;
      r = new ClipRecorder({
        camera: camera.id,
        preRollMs: s.pre_roll_seconds * 1000,
        postRollMs: s.post_roll_seconds * 1000,
        // A zone event starts after its dwell and the frames that confirm the track (a few at detect fps):
        // keep that much more so its clip still starts before the object came in.
        startDelayMs: Math.min(30, Math.max(0, ...camera.zones.map((z) => z.min_dwell_seconds)) + 4 / camera.detect.fps) * 1000,
        maxMs: (this.o.maxSeconds ?? 60) * 1000,
        onClip: (req) => this.writer.write(req),
      });
      this.recorders.set(camera.id, r);
    }
    return r;
  }

  stats(): ClipWriterStats {
    return this.writer.stats();
  }

  /** Writes the clips still waiting for their post-roll with what is buffered, and waits for the writer. Call after the cameras stopped. */
  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    for (const r of this.recorders.values()) r.flush();
    await this.writer.idle();
    await this.spawner.close();
  }

  private prune(): void {
    try {
      const removed = pruneClips(this.dir, this.o.settings.retain_days);
      if (removed.length > 0) this.o.logger.info({ removed }, 'evidence clips past retention removed');
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'evidence clip retention failed');
    }
  }
}
