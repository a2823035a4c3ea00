import type { Detection } from '../detect/types.js';
import type { Box } from '../events/types.js';
import { assign } from './assignment.js';
import { bufferedIou, coverage, isValidBox } from './box.js';
import { BoxKalmanFilter, boxToMeasurement, measurementToBox, type KalmanSettings, type KalmanState } from './kalman.js';
import {
  DEFAULT_TRACKER_SETTINGS,
  type Track,
  type TrackerSettings,
  type TrackerStats,
  type TrackerUpdateOptions,
  type TrackState,
} from './types.js';

interface InternalTrack {
  id: number;
  state: TrackState;
  kalman: KalmanState;
  classVotes: string[];
  class: string;
  scores: number[];
  detectionBox: Box;
  /** Box at the last match: a lost track is also matched against it, see `matchCost`. */
  lastObservedBox: Box;
  hits: number;
  misses: number;
  firstSeen: number;
  lastSeen: number;
  /** Last time this track was inside an examined region (matched or missed). */
  lastExamined: number;
  observed: boolean;
}

/** A track nobody looked at for this many lost-buffers is gone, however motion gating runs (safety net). */
const UNEXAMINED_FACTOR = 4;

/**
 * ByteTrack-style multi-object tracker for one camera.
 *
 * Each update: predict every track by the elapsed seconds; match confirmed
 * and lost tracks to high-score detections; match tracks still unmatched
 * (and not already lost) to low-score detections, which rescues partly hidden
 * objects without letting weak boxes start tracks; match tentative tracks to
 * the high detections left; start tentative tracks from high detections
 * still left. Matching is Hungarian (optimal, with a cost limit) on
 * 1 − buffered IoU, and only between detections and tracks of the same class
 * (or class group).
 */
export class Tracker {
  readonly settings: TrackerSettings;
  private readonly kf: BoxKalmanFilter;
  private tracks: InternalTrack[] = [];
  private nextId: number;
  private lastTime: number | null = null;
  private readonly groupOf = new Map<string, number>();
  private readonly statsValue: TrackerStats = {
    updates: 0,
    outOfOrder: 0,
    invalidDetections: 0,
    tracksCreated: 0,
    tracksRemoved: 0,
  };

  constructor(settings: Partial<TrackerSettings> = {}, kalman: Partial<KalmanSettings> = {}) {
    this.settings = { ...DEFAULT_TRACKER_SETTINGS, ...settings };
    const s = this.settings;
    if (!(s.lowThreshold <= s.highThreshold)) {
      throw new RangeError(`tracker: lowThreshold (${s.lowThreshold}) must not exceed highThreshold (${s.highThreshold})`);
    }
    if (!(Number.isInteger(s.minHits) && s.minHits >= 1)) throw new RangeError(`tracker: minHits must be an integer >= 1, got ${s.minHits}`);
    if (!(s.lostTtlSeconds >= 0)) throw new RangeError(`tracker: lostTtlSeconds must be >= 0, got ${s.lostTtlSeconds}`);
    this.kf = new BoxKalmanFilter(kalman);
    this.nextId = s.firstId;
    s.classGroups.forEach((group, i) => group.forEach((c) => this.groupOf.set(c, i)));
  }

  get stats(): Readonly<TrackerStats> {
    return { ...this.statsValue };
  }

  /** The current tracks (tentative, confirmed and lost), without changing anything. */
  current(): Track[] {
    return this.tracks.map((t) => this.view(t, this.lastTime ?? t.lastSeen));
  }

  /**
   * Feeds one detection run. `time` is a Date or epoch milliseconds; runs may be
   * any distance apart. Returns every live track (removed ones are absent).
   */
  update(detections: readonly Detection[], time: Date | number, options: TrackerUpdateOptions = {}): Track[] {
    const now = typeof time === 'number' ? time : time.getTime();
    if (!Number.isFinite(now)) throw new RangeError(`tracker: time must be a finite epoch-ms or a valid Date, got ${String(time)}`);
    if (this.lastTime !== null && now < this.lastTime) {
      // A late frame after a reconnect: drop it rather than run the filter backwards.
      this.statsValue.outOfOrder++;
      return this.current();
    }
    const dt = this.lastTime === null ? 0 : (now - this.lastTime) / 1000;
    this.lastTime = now;
    this.statsValue.updates++;
    const s = this.settings;

    const valid: Detection[] = [];
    for (const d of detections) {
      if (isValidBox(d.box) && typeof d.score === 'number' && Number.isFinite(d.score) && typeof d.class === 'string') valid.push(d);
      else this.statsValue.invalidDetections++;
    }

    for (const t of this.tracks) {
      t.kalman = this.kf.predict(t.kalman, dt);
      t.observed = false;
    }

    const high: number[] = [];
    const low: number[] = [];
    valid.forEach((d, i) => {
      if (d.score >= s.highThreshold) high.push(i);
      else if (d.score >= s.lowThreshold) low.push(i);
    });

    const examined = (t: InternalTrack): boolean => {
      if (!options.examined) return true;
      const box = measurementToBox(t.kalman.mean);
      return options.examined.some((r) => coverage(box, r) >= 0.5) || options.examined.some((r) => coverage(t.lastObservedBox, r) >= 0.5);
    };

    // Pass 1: confirmed and lost tracks vs high-score detections.
    const pool = this.tracks.filter((t) => t.state !== 'tentative');
    const first = this.match(pool, high, valid, s.firstPassIou, s.iouBuffer, true);
    for (const [t, di] of first.matches) this.apply(t, valid[di]!, now);

    // Pass 2: tracks that were being followed (not already lost) vs low-score detections.
    const stillTracked = first.unmatchedTracks.filter((t) => t.state === 'confirmed');
    const second = this.match(stillTracked, low, valid, s.secondPassIou, s.iouBuffer, false);
    for (const [t, di] of second.matches) this.apply(t, valid[di]!, now);
    for (const t of second.unmatchedTracks) {
      if (examined(t)) {
        t.state = 'lost';
        t.misses++;
        t.lastExamined = now;
      }
    }

    // Pass 3: tentative tracks vs the high detections nobody took.
    const tentative = this.tracks.filter((t) => t.state === 'tentative');
    const third = this.match(tentative, first.unmatchedDetections, valid, s.tentativeIou, s.tentativeIouBuffer, false);
    for (const [t, di] of third.matches) this.apply(t, valid[di]!, now);
    const dropped = new Set<InternalTrack>();
    for (const t of third.unmatchedTracks) {
      if (!examined(t)) continue;
      t.misses++;
      t.lastExamined = now;
      if (t.misses >= s.tentativeMaxMisses) dropped.add(t);
    }

    // New tentative tracks from confident detections still unmatched.
    const created: InternalTrack[] = [];
    for (const di of third.unmatchedDetections) {
      const d = valid[di]!;
      if (d.score < s.newTrackThreshold) continue;
      created.push(this.create(d, now));
    }

    // Removal: lost past the buffer, tentative dropped, or not looked at for far too long.
    const before = this.tracks.length;
    this.tracks = this.tracks.filter((t) => {
      if (dropped.has(t)) return false;
      if (t.state === 'lost' && (now - t.lastSeen) / 1000 > s.lostTtlSeconds) return false;
      if ((now - Math.max(t.lastSeen, t.lastExamined)) / 1000 > UNEXAMINED_FACTOR * Math.max(s.lostTtlSeconds, 1)) return false;
      return true;
    });
    this.statsValue.tracksRemoved += before - this.tracks.length;
    this.tracks.push(...created);
    return this.tracks.map((t) => this.view(t, now));
  }

  private create(d: Detection, now: number): InternalTrack {
    const t: InternalTrack = {
      id: this.nextId++,
      state: this.settings.minHits <= 1 ? 'confirmed' : 'tentative',
      kalman: this.kf.initiate(boxToMeasurement(d.box)),
      classVotes: [d.class],
      class: d.class,
      scores: [d.score],
      detectionBox: [...d.box],
      lastObservedBox: [...d.box],
      hits: 1,
      misses: 0,
      firstSeen: now,
      lastSeen: now,
      lastExamined: now,
      observed: true,
    };
    this.statsValue.tracksCreated++;
    return t;
  }

  private apply(t: InternalTrack, d: Detection, now: number): void {
    t.kalman = this.kf.update(t.kalman, boxToMeasurement(d.box));
    t.hits++;
    t.misses = 0;
    t.lastSeen = now;
    t.lastExamined = now;
    t.observed = true;
    t.detectionBox = [...d.box];
    t.lastObservedBox = [...d.box];
    t.scores.push(d.score);
    if (t.scores.length > this.settings.scoreWindow) t.scores.shift();
    t.classVotes.push(d.class);
    if (t.classVotes.length > this.settings.scoreWindow) t.classVotes.shift();
    t.class = mode(t.classVotes, t.class);
    if (t.state === 'lost' || (t.state === 'tentative' && t.hits >= this.settings.minHits)) t.state = 'confirmed';
  }

  private compatible(a: string, b: string): boolean {
    if (a === b) return true;
    const ga = this.groupOf.get(a);
    return ga !== undefined && ga === this.groupOf.get(b);
  }

  /**
   * Cost = 1 − buffered IoU against the predicted box. For lost tracks the box
   * where the object was last seen is tried too: an object that stopped while
   * hidden (a truck parking) would otherwise be predicted away by its old velocity.
   */
  private match(tracks: InternalTrack[], detIdx: number[], dets: Detection[], minIou: number, buffer: number, withLastSeen: boolean) {
    const cost = tracks.map((t) => {
      const predicted = measurementToBox(t.kalman.mean);
      return detIdx.map((di) => {
        const d = dets[di]!;
        if (!this.compatible(t.class, d.class)) return Number.POSITIVE_INFINITY;
        let overlap = bufferedIou(predicted, d.box, buffer);
        if (withLastSeen && t.state === 'lost') overlap = Math.max(overlap, bufferedIou(t.lastObservedBox, d.box, buffer));
        return 1 - overlap;
      });
    });
    const result = assign(cost, 1 - minIou, detIdx.length);
    return {
      matches: result.matches.map(([r, c]) => [tracks[r]!, detIdx[c]!] as [InternalTrack, number]),
      unmatchedTracks: result.unmatchedRows.map((r) => tracks[r]!),
      unmatchedDetections: result.unmatchedCols.map((c) => detIdx[c]!),
    };
  }

  private view(t: InternalTrack, now: number): Track {
    return {
      id: t.id,
      class: t.class,
      score: median(t.scores),
      box: measurementToBox(t.kalman.mean),
      detectionBox: [...t.detectionBox],
      velocity: { x: t.kalman.mean[4]!, y: t.kalman.mean[5]! },
      hits: t.hits,
      age: (now - t.firstSeen) / 1000,
      state: t.state,
      observed: t.observed,
      firstSeen: t.firstSeen,
      lastSeen: t.lastSeen,
    };
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Most frequent value; ties go to the current one so the class does not flicker. */
function mode(values: readonly string[], current: string): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = current;
  let bestCount = counts.get(current) ?? 0;
  for (const [v, c] of counts) {
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}
