import type { AppearanceImage } from './appearance.js';
import type { Box } from '../events/types.js';

/**
 * `tentative`: seen fewer than `minHits` times, not yet an object anyone should act on.
 * `confirmed`: matched in the last examined detection run.
 * `lost`: confirmed once, missing now; kept for `lostTtlSeconds` so a short
 * occlusion or a missed detection does not change its id.
 */
export type TrackState = 'tentative' | 'confirmed' | 'lost';

export interface Track {
  /** Stable per tracker (one tracker per camera), counting up from `firstId`. */
  id: number;
  class: string;
  /** Median of the recent detection scores (`scoreWindow`), not the last frame's. */
  score: number;
  /** Kalman-filtered box in source pixels; for a lost track, the prediction. */
  box: Box;
  /** The detector's box from the last match, unfiltered. */
  detectionBox: Box;
  /** Centre velocity in source pixels per second. */
  velocity: { x: number; y: number };
  /** Number of detections matched to this track. */
  hits: number;
  /** Seconds since the track was created. */
  age: number;
  state: TrackState;
  /** True when a detection was matched to this track in this update. */
  observed: boolean;
  /** Epoch ms of the first and the last matched detection. */
  firstSeen: number;
  lastSeen: number;
  /**
   * Lost, and last seen at the frame's edge moving out of it: the object left
   * the picture. Such a track is removed after `exitGraceSeconds`, and nothing
   * should wait for it to come back.
   */
  leaving?: boolean;
  /** Moving slower than `stationarySpeed` when last seen (a parked truck, a person standing). */
  stationary?: boolean;
  /** Running colour histogram of the object (see `colourHistogram`); null when no picture came with the detections. */
  appearance?: readonly number[] | null;
}

export interface TrackerSettings {
  /** Detections at or above this score take part in the first pass (ByteTrack τ_high). */
  highThreshold: number;
  /** Detections between this and `highThreshold` only extend existing tracks (second pass). */
  lowThreshold: number;
  /** An unmatched high detection starts a track only at or above this score. */
  newTrackThreshold: number;
  /** Minimum (buffered) IoU for the first pass (confirmed and lost tracks vs high detections). */
  firstPassIou: number;
  /** Minimum (buffered) IoU for the second pass (still-tracked tracks vs low detections). */
  secondPassIou: number;
  /** Minimum (buffered) IoU for tentative tracks vs leftover high detections. */
  tentativeIou: number;
  /** Box growth for matching, share of width/height per side (see `bufferedIou`); 0 = plain IoU. */
  iouBuffer: number;
  /**
   * Box growth for tentative tracks, which have no velocity yet to predict
   * with: between two detection runs the object may move most of a box width.
   */
  tentativeIouBuffer: number;
  /** Matches needed before a track is confirmed. */
  minHits: number;
  /** Seconds a lost stationary track is kept before it is removed (moving ones: `movingLostTtlSeconds`). */
  lostTtlSeconds: number;
  /** A tentative track missed this many times in examined runs is dropped. */
  tentativeMaxMisses: number;
  /** Recent scores kept for the median. */
  scoreWindow: number;
  /**
   * Classes that may be matched with each other (a detector often flips
   * between car and truck on one vehicle). Empty: a detection only matches a
   * track of its own class. The track's class is then the most frequent one.
   */
  classGroups: string[][];
  /** Track ids start here (e.g. to continue after a camera moves to another worker). */
  firstId: number;
  /**
   * The camera frame in source pixels. With it, a lost track last seen at the
   * frame's edge moving out of it counts as gone (`leaving`). Null: no edge rule.
   */
  frameSize: { width: number; height: number } | null;
  /** A box within this share of the frame's width (height) from an edge is at that edge. */
  edgeMargin: number;
  /** A lost track that is `leaving` is removed this many seconds after it was last seen (one missed run is forgiven). */
  exitGraceSeconds: number;
  /** A lost track that was moving is removed this many seconds after it was last seen; a stationary one after `lostTtlSeconds`. */
  movingLostTtlSeconds: number;
  /** Centre speed, in box heights per second, under which a track counts as stationary. */
  stationarySpeed: number;
  /**
   * A lost track may take a detection after a longer gap than this only on
   * evidence that it is the same object: a box of similar size
   * (`maxSizeRatio`) and similar colours (`minAppearance`); without colours
   * (no picture) only a stationary object may, on size alone.
   */
  evidenceGapSeconds: number;
  /** Greatest ratio of box heights (and widths) between a lost track and a detection that revives it after the gap. */
  maxSizeRatio: number;
  /** Least colour-histogram similarity (Bhattacharyya coefficient, 0..1) for a revival after the gap. */
  minAppearance: number;
  /**
   * Weight of colour dissimilarity (1 − similarity) added to the matching cost
   * (1 − buffered IoU) of admissible pairs: it decides between tracks whose
   * boxes overlap a detection about equally (people crossing), never admits a
   * pair the overlap does not. 0: overlap only.
   */
  appearanceWeight: number;
}

export const DEFAULT_TRACKER_SETTINGS: TrackerSettings = {
  highThreshold: 0.5,
  lowThreshold: 0.1,
  newTrackThreshold: 0.6,
  firstPassIou: 0.2,
  secondPassIou: 0.4,
  tentativeIou: 0.15,
  iouBuffer: 0.3,
  tentativeIouBuffer: 0.5,
  minHits: 3,
  lostTtlSeconds: 30,
  tentativeMaxMisses: 2,
  scoreWindow: 15,
  classGroups: [],
  firstId: 1,
  frameSize: null,
  edgeMargin: 0.02,
  exitGraceSeconds: 1,
  movingLostTtlSeconds: 5,
  stationarySpeed: 0.25,
  evidenceGapSeconds: 2,
  maxSizeRatio: 1.4,
  minAppearance: 0.75,
  appearanceWeight: 0.5,
};

export interface TrackerUpdateOptions {
  /**
   * The regions the detector actually looked at in this run (motion regions),
   * in source pixels. A track whose predicted box lies mostly outside all of
   * them was not looked for, so missing it is not evidence it left: it is
   * neither marked lost nor counted as a miss. Absent: the whole frame.
   */
  examined?: Box[];
  /**
   * The picture the detections came from (RGB24, or a crop of it placed with
   * `x`, `y`): colour histograms of the boxes give the appearance evidence a
   * lost track needs to be revived after `evidenceGapSeconds`.
   */
  image?: AppearanceImage;
}

export interface TrackerStats {
  updates: number;
  /** Updates skipped because their time was before the previous update's. */
  outOfOrder: number;
  /** Detections dropped for a non-finite or empty box or score. */
  invalidDetections: number;
  tracksCreated: number;
  tracksRemoved: number;
}
