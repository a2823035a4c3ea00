import type { Detection } from '../detect/types.js';
import type { Box } from '../events/types.js';
import { blendHistogram, colourHistogram, histogramSimilarity, sameObject } from './appearance.js';
import { assign } from './assignment.js';
import { bufferedIou, coverage, isValidBox } from '../geometry/index.js';
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
  /** Running colour histogram of the matched boxes; null until a picture came with a detection. */
  appearance: number[] | null;
  /** Centre speed at the last match, box heights per second (Kalman velocity). */
  speed: number;
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
    const image = options.image;
    const hists = valid.map((d) => (image ? colourHistogram(image, d.box) : null));

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
    const first = this.match(pool, high, valid, s.firstPassIou, s.iouBuffer, true, hists, now);
    for (const [t, di] of first.matches) this.apply(t, valid[di]!, now, hists[di]!);

    // Pass 2: tracks that were being followed (not already lost) vs low-score detections.
    const stillTracked = first.unmatchedTracks.filter((t) => t.state === 'confirmed');
    const second = this.match(stillTracked, low, valid, s.secondPassIou, s.iouBuffer, false, hists, now);
    for (const [t, di] of second.matches) this.apply(t, valid[di]!, now, hists[di]!);
    for (const t of second.unmatchedTracks) {
      if (examined(t)) {
        t.state = 'lost';
        t.misses++;
        t.lastExamined = now;
      }
    }

    // Pass 3: tentative tracks vs the high detections nobody took.
    const tentative = this.tracks.filter((t) => t.state === 'tentative');
    const third = this.match(tentative, first.unmatchedDetections, valid, s.tentativeIou, s.tentativeIouBuffer, false, hists, now);
    for (const [t, di] of third.matches) this.apply(t, valid[di]!, now, hists[di]!);
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
      created.push(this.create(d, now, hists[di]!));
    }

    // Removal: lost past the buffer, tentative dropped, or not looked at for far too long.
    const before = this.tracks.length;
    this.tracks = this.tracks.filter((t) => {
      if (dropped.has(t)) return false;
      if (t.state === 'lost' && (now - t.lastSeen) / 1000 > this.lostTtl(t)) return false;
      if ((now - Math.max(t.lastSeen, t.lastExamined)) / 1000 > UNEXAMINED_FACTOR * Math.max(s.lostTtlSeconds, 1)) return false;
      return true;
    });
    this.statsValue.tracksRemoved += before - this.tracks.length;
    this.tracks.push(...created);
    return this.tracks.map((t) => this.view(t, now));
  }

  /**
   * How long a lost track may still be the same object: one that left the
   * picture is gone after a grace of one missed run; a moving one soon (its
   * position is a guess that grows by the second, and a person who walked on
   * is not coming back to where they were); a stationary one (a parked truck
   * the detector blinks on) for `lostTtlSeconds`.
   */
  private lostTtl(t: InternalTrack): number {
    const s = this.settings;
    if (this.leaving(t)) return Math.min(s.exitGraceSeconds, s.lostTtlSeconds);
    return t.speed < s.stationarySpeed ? s.lostTtlSeconds : Math.min(s.movingLostTtlSeconds, s.lostTtlSeconds);
  }

  /** Lost, last seen at the frame's edge and moving out of it. */
  private leaving(t: InternalTrack): boolean {
    const f = this.settings.frameSize;
    if (!f || t.state !== 'lost') return false;
    const [x1, y1, x2, y2] = t.lastObservedBox;
    const mx = this.settings.edgeMargin * f.width;
    const my = this.settings.edgeMargin * f.height;
    const vx = t.kalman.mean[4]!;
    const vy = t.kalman.mean[5]!;
    // Outward at a tenth of a box size per second or more: a person standing at the edge has not left.
    const minV = 0.1 * Math.max(x2 - x1, y2 - y1);
    return (x1 <= mx && vx < -minV) || (x2 >= f.width - mx && vx > minV) || (y1 <= my && vy < -minV) || (y2 >= f.height - my && vy > minV);
  }

  /**
   * Evidence that a detection is the lost track's object after a long gap:
   * similar size, and similar colours when both have them. Without colours only
   * a stationary object (a parked truck that blinked out) may come back, on size.
   */
  private sameObject(t: InternalTrack, box: Box, hist: number[] | null): boolean {
    const s = this.settings;
    return sameObject({ box: t.lastObservedBox, appearance: t.appearance }, { box, appearance: hist }, { ...s, withoutColours: t.speed < s.stationarySpeed });
  }

  private create(d: Detection, now: number, hist: number[] | null): InternalTrack {
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
      appearance: hist,
      speed: 0,
    };
    this.statsValue.tracksCreated++;
    return t;
  }

  private apply(t: InternalTrack, d: Detection, now: number, hist: number[] | null): void {
    t.kalman = this.kf.update(t.kalman, boxToMeasurement(d.box));
    if (hist) t.appearance = blendHistogram(t.appearance, hist);
    t.speed = Math.hypot(t.kalman.mean[4]!, t.kalman.mean[5]!) / Math.max(d.box[3] - d.box[1], 1);
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
  private match(
    tracks: InternalTrack[],
    detIdx: number[],
    dets: Detection[],
    minIou: number,
    buffer: number,
    withLastSeen: boolean,
    hists: Array<number[] | null>,
    now: number,
  ) {
    const cost = tracks.map((t) => {
      const predicted = measurementToBox(t.kalman.mean);
      const needsEvidence = t.state === 'lost' && (now - t.lastSeen) / 1000 > this.settings.evidenceGapSeconds;
      return detIdx.map((di) => {
        const d = dets[di]!;
        if (!this.compatible(t.class, d.class)) return Number.POSITIVE_INFINITY;
        // Position alone does not say a different object is not this one after a long gap.
        if (needsEvidence && !this.sameObject(t, d.box, hists[di]!)) return Number.POSITIVE_INFINITY;
        let overlap = bufferedIou(predicted, d.box, buffer);
        if (withLastSeen && t.state === 'lost') overlap = Math.max(overlap, bufferedIou(t.lastObservedBox, d.box, buffer));
        if (1 - overlap > 1 - minIou) return Number.POSITIVE_INFINITY;
        // Among admissible pairs, colours break the ties overlap cannot: two
        // people crossing have boxes that overlap both tracks about as well.
        const hist = hists[di];
        const unlike = t.appearance && hist ? 1 - histogramSimilarity(t.appearance, hist) : 0;
        return 1 - overlap + this.settings.appearanceWeight * unlike;
      });
    });
    const result = assign(cost, 1 - minIou + this.settings.appearanceWeight, detIdx.length);
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
      leaving: this.leaving(t),
      stationary: t.speed < this.settings.stationarySpeed,
      appearance: t.appearance,
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
