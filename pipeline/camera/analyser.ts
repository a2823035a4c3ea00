import type { Detection } from '../detect/types.js';
import type { Box, PortEvent } from '../events/types.js';
import type { Logger } from '../log/index.js';
import { childLogger, silentLogger } from '../log/index.js';
import { DetectGate, MotionDetector, type DetectGateOptions, type GateReason, type MotionOptions } from '../motion/index.js';
import { yuv420pToRgb, type PixelRect } from '../video/index.js';
import { JpegEncoder, snapshotPath, writeSnapshot, type SnapshotOverlay } from '../snapshot/index.js';
import { Tracker, type AppearanceImage, type Track, type TrackerSettings } from '../track/index.js';
import { ZoneEngine, DEFAULT_ZONE_CLASSES, type ZoneEngineOptions } from '../zones/index.js';
import { planDetection, unionBox, type DetectPlanOptions } from './detect-plan.js';
import type { CameraDetector, CameraSpec, DetectionBatch } from './types.js';

export interface CameraAnalyserOptions {
  camera: CameraSpec;
  /** The site's IANA time zone (zone schedules). */
  timeZone: string;
  detector: CameraDetector;
  /** The model's labels: zone classes the model does not know (container, crane…) are left out of the request. */
  labels?: readonly string[];
  logger?: Logger;
  /** The motion grid (grey frame from ffmpeg). Default 160 wide, the detect frame's aspect. */
  grid?: { width: number; height: number };
  motion?: Partial<Omit<MotionOptions, 'width' | 'height' | 'outputWidth' | 'outputHeight' | 'masks'>>;
  gate?: DetectGateOptions;
  tracker?: Partial<TrackerSettings>;
  zones?: Partial<Omit<ZoneEngineOptions, 'camera' | 'zones' | 'tripwires' | 'timeZone'>>;
  plan?: DetectPlanOptions;
  /**
   * The detector takes any input size (its manifest has size_multiple), so a
   * crop costs its area. Default: what the detector says (`takesAnySize`);
   * set it only to override. With it: crops keep their own shape and may be larger (up to
   * 80 % of the frame), and where a fixed-size model would look at the whole
   * frame (heartbeat, lighting change, motion everywhere) this looks at the
   * watch area (zones and tripwires plus margin) when there is one.
   */
  anySizeDetector?: boolean;
  /**
   * Heartbeat interval while the camera has no track at all (an empty scene):
   * the gate's heartbeat (10 s) keeps parked objects' tracks fresh, but with
   * nothing tracked it only guards against motion the gate missed, so it runs
   * less often. Default 60 s.
   */
  idleHeartbeatS?: number;
  /**
   * Look only where it matters: motion counts when it touches the box round all
   * zones and tripwires, grown by `zoneMargin` of the frame on each side (so an
   * object is tracked for a while before it reaches a zone). Motion elsewhere
   * (a road behind a restricted gate) runs no detector. Default true; a zone
   * covering the picture makes it a no-op.
   */
  zoneGating?: boolean;
  /** Share of the frame's width/height added round the zones' box. Default 0.25. */
  zoneMargin?: number;
  /** Detector score threshold; default 0.3 (the tracker's second pass uses the weak boxes). */
  threshold?: number;
  /** Write event snapshots (JPEG with boxes) under this folder; null/absent: none. */
  snapshotRoot?: string | null;
  /** Encodes them: a worker shares one among its cameras; by default the analyser starts its own when it first needs it. */
  snapshotEncoder?: JpegEncoder;
  /** Merged into every event's details (the worker puts `leaseEpoch` here). */
  eventDetails?: Record<string, unknown>;
  /**
   * The naive pipeline, for the benchmark: no motion gate, the detector on
   * every frame, always the whole frame.
   */
  ungated?: boolean;
}

export interface AnalyserFrame {
  /** W×H×3 RGB24 at the camera's detect size; or `yuv` instead. */
  rgb?: Buffer | Uint8Array | null;
  /**
   * The same picture as yuv420p (live ingest): converted to RGB only when the
   * detector runs or a snapshot is written, which most frames of a quiet camera never need.
   */
  yuv?: Buffer | Uint8Array | null;
  /** The grey motion grid; null only when `ungated`. */
  gray: Buffer | Uint8Array | null;
  /** Epoch ms (wall time live, clip start + offset offline). */
  time: number;
  seq: number;
  /** Aborted when a newer frame arrived while this one waits for the detector: it gives up its place to it (live). */
  superseded?: AbortSignal;
}

export interface AnalyserResult {
  events: PortEvent[];
  gate: GateReason;
  /** Null when the detector did not run. */
  detection: DetectionBatch | null;
  /** Where the detector looked (null when it did not run). */
  region: Box | null;
  fullFrame: boolean;
  motionRegions: Box[];
  /** True when the detector request was dropped or failed (the frame counts as not examined). */
  detectorFailed: boolean;
}

export interface AnalyserCounters {
  frames: number;
  detectorRuns: number;
  cropRuns: number;
  detectorDropped: number;
  detectorErrors: number;
  snapshots: number;
  snapshotErrors: number;
  /** yuv420p frames converted to RGB (only those the detector ran on). */
  rgbConversions: number;
}

/** The motion grid for a detect size: 160 wide (Frigate's size class), same aspect, even. */
export function motionGrid(width: number, height: number, gridWidth = 160): { width: number; height: number } {
  const h = Math.max(8, Math.round((gridWidth * height) / width / 2) * 2);
  return { width: gridWidth, height: h };
}

/**
 * The per-camera analysis path, shared by live workers and `portwatch analyze`:
 * grey grid → motion → gate → detector on the padded union of motion regions
 * (whole frame on heartbeat) → tracker → zones → events (+ snapshots).
 * Time comes in with each frame, so replays are exact.
 */
export class CameraAnalyser {
  readonly camera: CameraSpec;
  readonly grid: { width: number; height: number };
  readonly classes: string[] | null;
  readonly counters: AnalyserCounters = { frames: 0, detectorRuns: 0, cropRuns: 0, detectorDropped: 0, detectorErrors: 0, snapshots: 0, snapshotErrors: 0, rgbConversions: 0 };
  private readonly o: CameraAnalyserOptions;
  private readonly log: Logger;
  private readonly motion: MotionDetector | null;
  private readonly gate: DetectGate;
  private readonly tracker: Tracker;
  private readonly engine: ZoneEngine;
  private readonly snapshots = new Map<string, string>();
  private encoder: JpegEncoder | null = null;
  private readonly overlayZones: NonNullable<SnapshotOverlay['zones']>;
  private lastTime = 0;
  private lastRegions: Box[] = [];
  private lastDetectMs = -Infinity;
  private readonly watchArea: Box | null;
  private readonly anySize: boolean;

  constructor(o: CameraAnalyserOptions) {
    this.o = o;
    this.camera = o.camera;
    this.log = childLogger(o.logger ?? silentLogger(), { camera: o.camera.id });
    const { width, height } = o.camera.detect;
    this.grid = o.grid ?? motionGrid(width, height);
    this.anySize = o.anySizeDetector ?? o.detector.takesAnySize ?? false;
    this.motion = o.ungated
      ? null
      : new MotionDetector({ ...o.motion, width: this.grid.width, height: this.grid.height, outputWidth: width, outputHeight: height, masks: o.camera.masks });
    this.gate = new DetectGate(o.gate);
    // The frame size lets the tracker tell an object that walked out of the picture from one that is hidden.
    this.tracker = new Tracker({ frameSize: { width, height }, ...o.tracker });
    this.engine = new ZoneEngine({ ...o.zones, camera: o.camera.id, zones: o.camera.zones, tripwires: o.camera.tripwires, timeZone: o.timeZone });
    this.classes = detectClasses(o.camera, o.labels);
    this.watchArea = o.ungated || o.zoneGating === false ? null : watchArea(o.camera, width, height, o.zoneMargin ?? 0.25);
    this.overlayZones = [
      ...o.camera.zones.map((z) => ({ polygon: z.polygon })),
      ...o.camera.tripwires.map((w) => ({ polygon: w.line, closed: false })),
    ];
  }

  /** Does this camera have anything for the detector to look for? (No zones and no tripwires: health only.) */
  get detects(): boolean {
    return this.classes === null || this.classes.length > 0;
  }

  async analyse(frame: AnalyserFrame): Promise<AnalyserResult> {
    this.counters.frames++;
    const { width, height } = this.camera.detect;
    const result: AnalyserResult = { events: [], gate: 'idle', detection: null, region: null, fullFrame: false, motionRegions: [], detectorFailed: false };
    let decision: { run: boolean; reason: GateReason };
    if (this.motion) {
      if (!frame.gray) throw new RangeError(`camera ${this.camera.id}: a grey frame is needed for motion gating`);
      const m = this.motion.update(frame.gray);
      const area = this.watchArea;
      result.motionRegions = area ? m.regions.filter((r) => overlaps(r, area)) : m.regions;
      decision = this.gate.decide(frame.time, { regions: result.motionRegions, lightingChange: m.lightingChange });
      if (result.motionRegions.length > 0) this.lastRegions = result.motionRegions;
    } else decision = { run: true, reason: 'motion' };
    result.gate = decision.reason;
    if (
      decision.run &&
      decision.reason === 'heartbeat' &&
      frame.time - this.lastDetectMs < (this.o.idleHeartbeatS ?? 60) * 1000 &&
      this.tracker.current().every((t) => t.state === 'tentative')
    ) {
      result.gate = 'idle';
      return result;
    }
    if (!decision.run || !this.detects) return result;
    this.lastDetectMs = frame.time;

    // Motion: the padded union of its regions. Hold: where things last moved plus
    // where the tracks are (objects coming to rest). Heartbeat/lighting: everything.
    let plan = { region: [0, 0, width, height] as Box, full: true };
    const planOptions: DetectPlanOptions = this.anySize ? { modelAspect: null, maxCropArea: 0.8, ...this.o.plan } : { ...this.o.plan };
    if (!this.o.ungated) {
      if (decision.reason === 'motion') {
        // Tracked objects next to the motion go into the crop whole: a crop edge through a
        // person loses the detection, and a tentative track missed once is dropped.
        const u = unionBox(result.motionRegions)!;
        const near: Box = [u[0] - 48, u[1] - 48, u[2] + 48, u[3] + 48];
        const tracked = this.tracker.current().map((t) => t.box).filter((b) => overlaps(b, near));
        plan = planDetection([...result.motionRegions, ...tracked], width, height, planOptions);
      }
      else if (decision.reason === 'hold') {
        const boxes = [...this.lastRegions, ...this.tracker.current().filter((t) => t.state !== 'tentative').map((t) => t.box)];
        plan = planDetection(boxes, width, height, planOptions);
      }
      // Nothing outside the watch area can raise an event, and for this detector
      // every pixel costs: look at the crop's part of the watch area only.
      if (this.anySize && this.watchArea) {
        const [x1, y1, x2, y2] = this.watchArea;
        const r = plan.region;
        const cut: Box = [Math.max(r[0], Math.floor(x1)), Math.max(r[1], Math.floor(y1)), Math.min(r[2], Math.ceil(x2)), Math.min(r[3], Math.ceil(y2))];
        const empty = cut[2] - cut[0] < 8 || cut[3] - cut[1] < 8;
        plan = { region: empty ? [Math.floor(x1), Math.floor(y1), Math.ceil(x2), Math.ceil(y2)] : cut, full: false };
      }
    }
    result.region = plan.region;
    result.fullFrame = plan.full;

    let detections: Detection[];
    // The picture the boxes came from, for the tracker's colour histograms.
    let seen: AppearanceImage | undefined;
    // A crop of a yuv frame for a detector that takes any size: only the crop is converted
    // and handed over (its boxes come back in crop pixels). Else the whole RGB frame and the
    // region (a fixed-size detector treats a whole image differently: it may tile it).
    const crop = this.anySize && !plan.full && !frame.rgb && frame.yuv ? evenRect(plan.region, width, height) : null;
    let rgb: Buffer | Uint8Array | null = null;
    // An object in a zone, its dwell running: this frame may start an alarm.
    const urgent = this.engine.awaitingStart();
    try {
      if (crop) {
        this.counters.rgbConversions++;
        const image = { width: crop.width, height: crop.height, data: yuv420pToRgb(frame.yuv!, width, height, undefined, crop) };
        seen = { ...image, x: crop.x, y: crop.y };
        detections = await this.o.detector.detect({ image, crop: true, threshold: this.o.threshold ?? 0.3, ...(this.classes ? { classes: this.classes } : {}), ...(urgent ? { urgent } : {}), ...this.sourceOf(frame) });
        detections = detections.map((d) => ({ ...d, box: [d.box[0] + crop.x, d.box[1] + crop.y, d.box[2] + crop.x, d.box[3] + crop.y] as Box }));
      } else {
        rgb = this.rgbOf(frame);
        seen = { width, height, data: rgb };
        detections = await this.o.detector.detect({
          image: { width, height, data: rgb },
          ...(plan.full ? {} : { region: plan.region }),
          threshold: this.o.threshold ?? 0.3,
          ...(this.classes ? { classes: this.classes } : {}),
          ...(urgent ? { urgent } : {}),
          ...this.sourceOf(frame),
        });
      }
    } catch (err) {
      result.detectorFailed = true;
      if ((err as { code?: string }).code === 'DETECTION_DROPPED') this.counters.detectorDropped++;
      else {
        this.counters.detectorErrors++;
        if (this.counters.detectorErrors === 1 || this.counters.detectorErrors % 100 === 0) {
          this.log.error({ err, errors: this.counters.detectorErrors }, 'detector failed on a frame');
        }
      }
      return result;
    }
    this.counters.detectorRuns++;
    if (!plan.full) this.counters.cropRuns++;

    // The tracker and the zone clock must never go back in time (a late frame after a reconnect).
    const t = Math.max(frame.time, this.lastTime);
    this.lastTime = t;
    const tracks = this.tracker.update(detections, t, { examined: [plan.region], ...(seen ? { image: seen } : {}) });
    result.detection = {
      camera: this.camera.id,
      time: new Date(t),
      frame: frame.seq,
      detections,
      tracks: detections.map((d) => tracks.find((tr) => tr.observed && sameBox(tr.detectionBox, d.box))?.id ?? null),
    };
    const events = this.engine.update(tracks, { width, height }, t);
    // The whole RGB frame, for a snapshot: converted only when an event wants one.
    result.events = await this.finish(events, tracks, () => rgb ?? (rgb = this.rgbOf(frame)));
    return result;
  }

  /** The detector request's source and signal: a newer frame of this camera may take this one's place in line. */
  private sourceOf(frame: AnalyserFrame): { source: string; signal?: AbortSignal } {
    return frame.superseded ? { source: this.camera.id, signal: frame.superseded } : { source: this.camera.id };
  }

  private rgbOf(frame: AnalyserFrame): Buffer | Uint8Array {
    if (frame.rgb) return frame.rgb;
    const { width, height } = this.camera.detect;
    if (!frame.yuv) throw new RangeError(`camera ${this.camera.id}: a frame needs rgb or yuv pixels`);
    this.counters.rgbConversions++;
    return yuv420pToRgb(frame.yuv, width, height);
  }

  /** Ends every open event (shutdown, lease handed over, end of clip). */
  async flush(time: number): Promise<PortEvent[]> {
    const t = Math.max(time, this.lastTime);
    return this.finish(this.engine.flush(t), [], () => null);
  }

  currentTracks(): Track[] {
    return this.tracker.current();
  }

  private async finish(events: PortEvent[], tracks: Track[], frameRgb: () => Buffer | Uint8Array | null): Promise<PortEvent[]> {
    for (const e of events) {
      if (this.o.eventDetails) e.details = { ...e.details, ...this.o.eventDetails };
      const root = this.o.snapshotRoot;
      if (!root) continue;
      const wants = e.phase === 'start' || e.phase === 'instant' || e.details?.reason === 'better_snapshot';
      const rgb = wants && e.bbox ? frameRgb() : null;
      if (rgb && e.bbox) {
        try {
          const rel = await writeSnapshot({
            root,
            encoder: (this.encoder ??= this.o.snapshotEncoder ?? new JpegEncoder({ logger: this.log })),
            event: e,
            frame: { width: this.camera.detect.width, height: this.camera.detect.height, data: rgb },
            overlay: {
              boxes: tracks.filter((t) => t.state === 'confirmed' && t.id !== e.track).map((t) => ({ box: t.box, key: t.id })),
              zones: this.overlayZones,
            },
          });
          this.snapshots.set(e.id, rel);
          this.counters.snapshots++;
        } catch (err) {
          this.counters.snapshotErrors++;
          this.log.warn({ err, event: e.id }, 'snapshot not written; the event is kept without one');
        }
      }
      // Every row of an event points at its (latest, best) picture.
      const rel = this.snapshots.get(e.id);
      if (rel) e.snapshot = rel;
      if (e.phase === 'end' || e.phase === 'instant') this.snapshots.delete(e.id);
    }
    return events;
  }
}

/** The classes the detector is asked for: every zone's and tripwire's, that the model knows. Null = all. */
export function detectClasses(camera: Pick<CameraSpec, 'zones' | 'tripwires'>, labels?: readonly string[]): string[] | null {
  const wanted = new Set<string>();
  for (const z of camera.zones) {
    const list = z.classes.length > 0 ? z.classes : DEFAULT_ZONE_CLASSES[z.kind];
    if (list === null) return null; // a watch zone without classes: every class
    for (const c of list) wanted.add(c);
  }
  for (const w of camera.tripwires) for (const c of w.classes.length > 0 ? w.classes : DEFAULT_ZONE_CLASSES.cargo!) wanted.add(c);
  const list = [...wanted];
  return labels ? list.filter((c) => labels.includes(c)) : list;
}

/** The box round every zone and tripwire, grown by `margin` of the frame; null when it is (nearly) the whole frame. */
export function watchArea(camera: Pick<CameraSpec, 'zones' | 'tripwires'>, width: number, height: number, margin: number): Box | null {
  const pts = [...camera.zones.flatMap((z) => z.polygon), ...camera.tripwires.flatMap((w) => w.line)];
  if (pts.length === 0) return null;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x1 = Math.max(0, Math.min(...xs) - margin) * width;
  const y1 = Math.max(0, Math.min(...ys) - margin) * height;
  const x2 = Math.min(1, Math.max(...xs) + margin) * width;
  const y2 = Math.min(1, Math.max(...ys) + margin) * height;
  if ((x2 - x1) * (y2 - y1) >= 0.95 * width * height) return null;
  return [x1, y1, x2, y2];
}

/** The box as whole pixels on even coordinates (yuv420p chroma pairs), inside the frame. */
function evenRect(box: Box, width: number, height: number): PixelRect {
  const x1 = Math.max(0, Math.floor(box[0] / 2) * 2);
  const y1 = Math.max(0, Math.floor(box[1] / 2) * 2);
  const x2 = Math.min(width, Math.ceil(box[2] / 2) * 2);
  const y2 = Math.min(height, Math.ceil(box[3] / 2) * 2);
  return { x: x1, y: y1, width: Math.max(2, x2 - x1), height: Math.max(2, y2 - y1) };
}

function overlaps(a: Box, b: Box): boolean {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

function sameBox(a: Box, b: Box): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

export { snapshotPath, unionBox };
