import type { Detection } from '../detect/types.js';
import type { PortEvent } from '../events/types.js';
import type { CameraHealthRecord } from '../health/index.js';
import type { Track } from '../track/types.js';
import type { Point, TripwireSpec, ZoneSpec } from '../zones/types.js';
import type { DetectRequest } from '../detect/detector.js';

/** What a camera runner needs from a detector: `BatchDetector` (shared by all cameras of a process) or `Detector` fit. */
export interface CameraDetector {
  detect(request: DetectRequest): Promise<Detection[]>;
  /** The model takes any input size (Detector.takesAnySize); crops are then planned for it. */
  readonly takesAnySize?: boolean;
}

/** One camera as the pipeline needs it (a subset of the site config's camera, so `CameraConfig` fits). */
export interface CameraSpec {
  id: string;
  streams: { main: string; sub?: string | undefined | null };
  detect: { fps: number; width: number; height: number; stream?: 'sub' | 'main' };
  zones: readonly ZoneSpec[];
  tripwires: readonly TripwireSpec[];
  masks: readonly (readonly Point[])[];
}

/** One detector run on one frame, as the runner hands it to sinks. */
export interface DetectionBatch {
  camera: string;
  time: Date;
  /** The frame's sequence number from ingest. */
  frame: number;
  detections: Detection[];
  /** Track id per detection, when the tracker matched it (same order), else null. */
  tracks: Array<number | null>;
}

/**
 * Where a runner's output goes. Every method is optional, and none is awaited
 * on the frame path except `event` (so a slow store pushes back on one camera,
 * not on the process): `analyze` runs with only `event`, the worker with all
 * of them (store writers + the `events` queue).
 */
export interface CameraSinks {
  event?(event: PortEvent): void | Promise<void>;
  health?(record: CameraHealthRecord): void;
  detections?(batch: DetectionBatch): void;
}

/** Per-camera counters, for the worker's stats line and the benchmark. */
export interface CameraRunnerStats {
  camera: string;
  frames: number;
  /** Frames ingest dropped because the runner was still busy with an earlier one. */
  dropped: number;
  detectorRuns: number;
  /** Detector runs on a crop (motion regions) rather than the whole frame. */
  cropRuns: number;
  /** Detector requests the batcher dropped (queue full). */
  detectorDropped: number;
  detectorErrors: number;
  events: number;
  /**
   * Backpressure: frames ingest dropped while the camera waited for the event
   * sink (a slow or unreachable store), and the time spent waiting. Part of `dropped`.
   */
  backpressureDrops: number;
  sinkWaitMs: number;
  /** Wall ms from the frame being cut to its events being handed to the sink (last and max). */
  lastLatencyMs: number;
  maxLatencyMs: number;
  connected: boolean;
  /** Which stream ffmpeg reads and whether it decodes keyframes only (the ingest plan). */
  usedSubStream: boolean;
  keyframeOnly: boolean;
  /** Keyframes decoded on demand (docs/camera-pipeline.md), and how many were. */
  onDemand: boolean;
  decoded: number;
  state: string;
}

export type { Track };
