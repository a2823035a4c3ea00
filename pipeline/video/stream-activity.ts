/**
 * Motion read off the compressed stream, before anything is decoded. A P-frame
 * codes what changed since the picture before it, so the bytes of a GOP's
 * P-frames rise when something moves and fall back when the scene is still.
 * Compared with the camera's own quiet level (cameras differ: bitrate, noise,
 * night gain), this wakes the decoder for the next keyframe without decoding
 * the pictures in between.
 *
 * It is a hint, never the only guard: a constant-bitrate encoder spends bits on
 * a still scene too (the simulated cameras' 512 kbit/s sub-stream: ~0.4–1.2 kB
 * per still P-frame against ~2–2.6 kB with people walking), so the ingest also
 * decodes a keyframe every few seconds regardless and the camera asks for every
 * keyframe while its pictures show motion (docs/camera-pipeline.md).
 */

export interface StreamActivityOptions {
  /** A GOP is active when its mean P-frame size exceeds the quiet level × this. Default 1.3. */
  ratio?: number;
  /** …and exceeds the quiet level by at least this many bytes per P-frame (noise floor). Default 150. */
  minExtraBytes?: number;
  /** The quiet level is the largest mean of this many recent quiet GOPs. Default 8. */
  history?: number;
  /** After this many active GOPs in a row the scene is taken as the new quiet (rain, a new light). Default 60. */
  relearnAfter?: number;
  /**
   * GOPs learnt as quiet, whatever their size, before any is judged (at start
   * and after a relearn); meanwhile every keyframe is decoded. Default 8: a
   * rate-controlled still scene's swing must be seen whole, or starting at its
   * trough would call the rest of it active for good.
   */
  learnGops?: number;
}

export interface GopSummary {
  /** Mean slice bytes per P-frame in the GOP that just ended. */
  meanPBytes: number;
  pFrames: number;
  /** The quiet level it was compared with, null while learning. */
  quietLevel: number | null;
  /** Above the quiet level (always false while learning). */
  active: boolean;
  /** Learnt as quiet without being judged (the first `learnGops` GOPs). */
  learning: boolean;
}

/**
 * The quiet level is the largest of the recent quiet GOPs, not their mean: a
 * rate-controlled encoder's still scene swings by 3× from GOP to GOP (0.37 to
 * 1.2 kB per P-frame on the simulated sub-stream) as it spends and saves its
 * budget, and a mean would call every swing upward "activity".
 */
export class StreamActivity {
  private readonly ratio: number;
  private readonly minExtra: number;
  private readonly history: number;
  private readonly relearnAfter: number;
  private readonly learnGops: number;
  private quiet: number[] = [];
  private pBytes = 0;
  private pFrames = 0;
  private lastActive = true; // unknown at start: treat as active so the first pictures are decoded
  private activeRun = 0;
  private seenKey = false;

  constructor(o: StreamActivityOptions = {}) {
    this.ratio = o.ratio ?? 1.3;
    this.minExtra = o.minExtraBytes ?? 150;
    this.history = Math.max(1, o.history ?? 8);
    this.relearnAfter = o.relearnAfter ?? 60;
    this.learnGops = Math.min(this.history, Math.max(1, o.learnGops ?? 8));
  }

  /** Should the next keyframe be decoded: was the last GOP active, or is the quiet level still being learnt? */
  get active(): boolean {
    return this.lastActive;
  }

  /** The largest recent quiet GOP mean (also while learning), null before any. */
  get quietLevel(): number | null {
    return this.quiet.length > 0 ? Math.max(...this.quiet) : null;
  }

  /**
   * Feeds one access unit's slice bytes. On a keyframe the GOP before it is
   * judged and the summary returned; otherwise null.
   */
  observe(key: boolean, sliceBytes: number): GopSummary | null {
    if (!key) {
      if (this.seenKey) {
        this.pBytes += sliceBytes;
        this.pFrames++;
      }
      return null;
    }
    const hadGop = this.seenKey && this.pFrames > 0;
    this.seenKey = true;
    if (!hadGop) {
      this.pBytes = 0;
      this.pFrames = 0;
      return null;
    }
    const mean = this.pBytes / this.pFrames;
    const pFrames = this.pFrames;
    this.pBytes = 0;
    this.pFrames = 0;
    if (this.quiet.length < this.learnGops) {
      this.quiet.push(mean);
      this.lastActive = true;
      return { meanPBytes: mean, pFrames, quietLevel: null, active: false, learning: true };
    }
    const q = this.quietLevel!;
    const active = mean > q * this.ratio && mean > q + this.minExtra;
    this.activeRun = active ? this.activeRun + 1 : 0;
    if (this.activeRun >= this.relearnAfter) {
      this.quiet = [];
      this.activeRun = 0;
    }
    if (!active) {
      this.quiet.push(mean);
      if (this.quiet.length > this.history) this.quiet.shift();
    }
    this.lastActive = active;
    return { meanPBytes: mean, pFrames, quietLevel: q, active, learning: false };
  }

  reset(): void {
    this.quiet = [];
    this.pBytes = 0;
    this.pFrames = 0;
    this.lastActive = true;
    this.activeRun = 0;
    this.seenKey = false;
  }
}
