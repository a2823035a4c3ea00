import type { EventKind, PortEvent } from '../events/types.js';
import type { AccessUnit } from '../video/annexb.js';
import { ClipBuffer, type TimedUnit } from './clip-buffer.js';

/** The camera events that make alerts about what a camera saw (zone rules), so get a clip; camera health does not. */
export const CLIP_EVENT_KINDS: ReadonlySet<EventKind> = new Set<EventKind>(['unauthorized_access', 'cargo_movement', 'line_crossing', 'loitering']);

/** One clip due: the units from the keyframe at or before `fromMs` through `toMs`, for one event. */
export interface ClipRequest {
  event: string;
  camera: string;
  fromMs: number;
  toMs: number;
  units: TimedUnit[];
  /** Cut at the longest clip (the event lasted longer), or at stop before its post-roll. */
  truncated: boolean;
}

export interface ClipRecorderOptions {
  camera: string;
  /** Before the event's start. Default 5 000 ms (site file: alerts.clips.pre_roll_seconds). */
  preRollMs?: number;
  /** After the event's end. Default 5 000 ms (alerts.clips.post_roll_seconds). */
  postRollMs?: number;
  /** A zone event starts after its dwell: the buffer keeps this much more than the pre-roll. Default 0. */
  startDelayMs?: number;
  /** Longest clip, pre-roll included: a long event does not hold the camera's video in memory. Default 60 000 ms. */
  maxMs?: number;
  /** Most bytes the camera's buffer holds (ClipBuffer.maxBytes). */
  maxBytes?: number;
  /** Called when a clip is due; must return at once (writing belongs elsewhere, off the frame path). */
  onClip: (request: ClipRequest) => void;
}

interface PendingClip {
  fromMs: number;
  /** The event's end plus the post-roll, capped at fromMs + maxMs; null while the event is open. */
  toMs: number | null;
}

/**
 * One camera's evidence clips: a rolling `ClipBuffer` of the access units as
 * received, and the clips its zone events ask for, from the pre-roll before
 * the event started to the post-roll after it ended. A clip is handed over
 * once the stream has passed its end (or at the longest clip); a repeated
 * event phase asks for nothing new. Times are wall ms (events' `time` and
 * the arrival of the units are the same clock).
 */
export class ClipRecorder {
  readonly buffer: ClipBuffer;
  private readonly pending = new Map<string, PendingClip>();
  /** Events whose clip was handed over (bounded: the last 1,000), so a re-delivered phase asks for nothing. */
  private readonly done = new Set<string>();
  private readonly preRollMs: number;
  private readonly postRollMs: number;
  private readonly maxMs: number;

  constructor(private readonly o: ClipRecorderOptions) {
    this.preRollMs = o.preRollMs ?? 5_000;
    this.postRollMs = o.postRollMs ?? 5_000;
    this.maxMs = o.maxMs ?? 60_000;
    this.buffer = new ClipBuffer({ keepMs: this.preRollMs + (o.startDelayMs ?? 0), ...(o.maxBytes ? { maxBytes: o.maxBytes } : {}) });
  }

  get pendingClips(): number {
    return this.pending.size;
  }

  /** One access unit as it arrives (the ingest's hot path: a push and a comparison). */
  push(unit: AccessUnit, timeMs = Date.now()): void {
    let holdFrom = Infinity;
    for (const p of this.pending.values()) if (p.fromMs < holdFrom) holdFrom = p.fromMs;
    this.buffer.push(unit, timeMs, holdFrom);
    if (this.pending.size > 0) this.handOver(timeMs, false);
  }

  /** One event phase the camera emitted. */
  observe(e: PortEvent): void {
    // Nothing received (a camera whose stream ffmpeg receives): no clip to wait for.
    if (!CLIP_EVENT_KINDS.has(e.kind) || this.done.has(e.id) || this.buffer.size.units === 0) return;
    const t = e.time.getTime();
    let p = this.pending.get(e.id);
    if (!p) {
      if (e.phase === 'end') return; // its start came before this camera was ours: nothing of it is buffered here
      // A zone event starts after its dwell (details.dwell_seconds): the clip starts before the object came in.
      const dwellS = typeof e.details?.dwell_seconds === 'number' && e.details.dwell_seconds > 0 ? e.details.dwell_seconds : 0;
      const fromMs = t - dwellS * 1000 - this.preRollMs;
      p = { fromMs, toMs: null };
      this.pending.set(e.id, p);
    }
    if (e.phase === 'end' || e.phase === 'instant') p.toMs = Math.min(t + this.postRollMs, p.fromMs + this.maxMs);
  }

  /** Hands over every pending clip with what the buffer holds up to now (the camera stops). */
  flush(nowMs = Date.now()): void {
    this.handOver(nowMs, true);
  }

  private handOver(nowMs: number, all: boolean): void {
    for (const [event, p] of this.pending) {
      const cap = p.fromMs + this.maxMs;
      const toMs = p.toMs ?? cap;
      if (nowMs < toMs && !all) continue;
      this.pending.delete(event);
      this.done.add(event);
      if (this.done.size > 1000) this.done.delete(this.done.values().next().value!);
      const end = Math.min(toMs, nowMs);
      this.o.onClip({ event, camera: this.o.camera, fromMs: p.fromMs, toMs: end, units: this.buffer.slice(p.fromMs, end), truncated: p.toMs === null || end < toMs || toMs === cap });
    }
  }
}
