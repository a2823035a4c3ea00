import { eventId, type EventKind, type PortEvent } from '../events/index.js';
import { bestShift, bestShiftCoarseFine, downscale, edgeMap, pictureChange, pictureStats, type PictureStats } from './picture.js';

export type CameraFault = 'offline' | 'frozen' | 'covered' | 'blackout' | 'defocused' | 'moved';
export type CameraState = CameraFault | 'ok' | 'learning';

/** Thresholds; every one has a default (see docs/video.md). */
export interface HealthThresholds {
  /** No frame for this long → offline. */
  offlineAfterS: number;
  /** Picture unchanged this long while frames arrive → frozen. */
  frozenAfterS: number;
  /**
   * Two frames count as "unchanged" below this mean absolute difference (0–255)…
   * A frozen encoder re-sending one picture still differs by up to ~1 level at
   * each keyframe (requantisation), so this is not zero.
   */
  frozenMaxMeanDiff: number;
  /** …and below this fraction of pixels changing by more than 6 levels. */
  frozenMaxChangedFraction: number;
  /** Mean brightness at or below this, with contrast at or below `blackoutMaxContrast` → blackout (no baseline needed). */
  blackoutMaxBrightness: number;
  blackoutMaxContrast: number;
  /**
   * Covered: edge energy falls below `coveredEdgeRatio` of the baseline and the
   * picture flattens: entropy below `coveredEntropyRatio` or contrast below
   * `coveredContrastRatio` of the baseline.
   */
  coveredEdgeRatio: number;
  coveredEntropyRatio: number;
  coveredContrastRatio: number;
  /** Below this edge energy a picture is too flat to show change (not judged frozen or moved). */
  minTextureEdge: number;
  /** Defocused: edge energy below this fraction of baseline while entropy stays above `defocusMinEntropyRatio`. */
  defocusEdgeRatio: number;
  defocusMinEntropyRatio: number;
  /** Moved: the best alignment with the reference is at least this many grid pixels (of 80) away… */
  movedMinShiftPx: number;
  /** …and correlates this much better than no shift; or the zero-shift correlation fell below this fraction of its usual level. */
  movedMinGain: number;
  movedLostRatio: number;
  /** Largest shift searched, grid pixels (of 80). */
  movedMaxShiftPx: number;
  /** A picture fault must hold this long to start and be gone this long to end. */
  confirmS: number;
  /** Frames that form the baseline and reference before picture faults (other than blackout) are judged. */
  learnFrames: number;
  /** Baseline adaptation per healthy frame (slow: dusk is not a fault). */
  baselineAlpha: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  offlineAfterS: 20,
  frozenAfterS: 30,
  frozenMaxMeanDiff: 1.5,
  frozenMaxChangedFraction: 0.002,
  blackoutMaxBrightness: 20,
  blackoutMaxContrast: 8,
  coveredEdgeRatio: 0.3,
  coveredEntropyRatio: 0.7,
  coveredContrastRatio: 0.35,
  minTextureEdge: 1,
  defocusEdgeRatio: 0.45,
  defocusMinEntropyRatio: 0.75,
  movedMinShiftPx: 3,
  movedMinGain: 0.1,
  movedLostRatio: 0.5,
  movedMaxShiftPx: 8,
  confirmS: 3,
  learnFrames: 10,
  baselineAlpha: 0.02,
};

/** One `camera_health` row: the camera's state and the measurements behind it. */
export interface CameraHealthRecord {
  time: Date;
  camera: string;
  /** The most serious active fault, `ok`, or `learning` until a baseline exists. */
  state: CameraState;
  /** All active faults. */
  faults: CameraFault[];
  connected: boolean;
  /** Frames per second received over the last record interval. */
  fps: number;
  brightness: number | null;
  contrast: number | null;
  entropy: number | null;
  edge_energy: number | null;
  /** Seconds the picture has not changed. */
  unchanged_s: number | null;
  /** Best alignment against the reference, grid pixels (of 80). */
  shift_px: [number, number] | null;
  /** Why the stream is down (refused, unauthorized, not_found, timeout…), when it is. */
  reason: string | null;
  /** Connections that ended since the last record (a camera that keeps dropping its stream), and the last one's reason. */
  stream_drops: number;
  last_drop_reason: string | null;
  /** The camera's own picture size (`WxH`, before scaling), when the decoder told it, and how often it changed. */
  source_size: string | null;
  size_changes: number;
}

const SEVERITY: CameraFault[] = ['offline', 'blackout', 'covered', 'frozen', 'moved', 'defocused'];
const KIND: Record<CameraFault, EventKind> = {
  offline: 'camera_offline',
  frozen: 'camera_frozen',
  covered: 'camera_covered',
  blackout: 'camera_blackout',
  defocused: 'camera_defocused',
  moved: 'camera_moved',
};
const GRID_W = 80;
const GRID_H = 60;

interface FaultTrack {
  active: boolean;
  since: Date | null; // when the active fault started
  candidateSince: number | null; // ms: condition true since
  clearSince: number | null; // ms: condition false since (while active)
}

/**
 * Watches one camera's picture and stream and turns them into `camera_health`
 * records and start/end events. Feed it every sampled grey frame
 * (`observeFrame`), the ingest's connect/disconnect statuses (`observeStream`),
 * and call `tick` every second or so (offline is the absence of frames, so it
 * needs a clock). Times are passed in, so replays and tests are exact.
 */
export class CameraHealthMonitor {
  readonly thresholds: HealthThresholds;
  private readonly faults = new Map<CameraFault, FaultTrack>();
  private lastFrameMs: number | null = null;
  private readonly startedMs: number;
  private prev: Uint8Array | null = null;
  private lastChangeMs: number | null = null;
  private stats: PictureStats | null = null;
  private baseline: PictureStats | null = null;
  private learnSum: PictureStats = { brightness: 0, contrast: 0, entropy: 0, edgeEnergy: 0 };
  private learnRef: Float32Array | null = null;
  private learned = 0;
  private reference: Float32Array | null = null;
  private baselineNcc = 0;
  private shift: [number, number] | null = null;
  private connected = false;
  private streamReason: string | null = null;
  private framesSinceRecord = 0;
  private dropsSinceRecord = 0;
  private lastDropReason: string | null = null;
  private sourceSize: string | null = null;
  private sizeChanges = 0;
  private lastRecordMs: number;

  constructor(
    readonly camera: string,
    thresholds: Partial<HealthThresholds> = {},
    start: Date = new Date(),
  ) {
    this.thresholds = { ...DEFAULT_HEALTH_THRESHOLDS, ...thresholds };
    for (const f of SEVERITY) this.faults.set(f, { active: false, since: null, candidateSince: null, clearSince: null });
    this.startedMs = start.getTime();
    this.lastRecordMs = this.startedMs;
  }

  /**
   * Ends every open fault episode now, with `details.end_reason` (e.g.
   * "handover" when the camera's lease moves to another worker, "shutdown").
   * Without it an episode opened here would never get its end row: the next
   * holder judges the camera afresh and opens its own.
   */
  flush(at: Date = new Date(), reason = 'shutdown'): PortEvent[] {
    const events: PortEvent[] = [];
    for (const [fault, f] of this.faults) {
      if (!f.active) continue;
      const event = this.event(fault, 'end', at, f.since!);
      event.details = { ...event.details, end_reason: reason };
      events.push(event);
      f.active = false;
      f.since = null;
      f.clearSince = null;
      f.candidateSince = null;
    }
    return events;
  }

  /** Ingest status: connected or not, and why not (never a URL). */
  observeStream(connected: boolean, reason: string | null, at: Date = new Date()): PortEvent[] {
    if (this.connected && !connected) {
      this.dropsSinceRecord++;
      this.lastDropReason = reason;
    }
    this.connected = connected;
    if (!connected) this.streamReason = reason;
    return this.tick(at);
  }

  /**
   * A frame arrived at `at` but is not analysed here (dropped while the camera
   * waited on a slow store): proof of life for offline, nothing about the
   * picture. Older than the last frame seen: no-op.
   */
  observeDelivery(at: Date): PortEvent[] {
    const t = at.getTime();
    if (this.lastFrameMs !== null && t <= this.lastFrameMs) return [];
    const events: PortEvent[] = [];
    this.lastFrameMs = t;
    this.connected = true;
    this.set('offline', false, at, events, true);
    this.streamReason = null;
    return events;
  }

  /**
   * The camera's own picture size (from the decoder). A change re-learns the
   * baseline and reference: the same scene at another resolution or aspect
   * would otherwise look moved or defocused.
   */
  observeSourceSize(width: number, height: number): void {
    const size = `${width}x${height}`;
    if (this.sourceSize !== null && this.sourceSize !== size) {
      this.sizeChanges++;
      this.relearn();
      this.prev = null;
    }
    this.sourceSize = size;
  }

  /** One sampled grey frame. Returns the events it started or ended. */
  observeFrame(gray: Uint8Array, width: number, height: number, at: Date = new Date()): PortEvent[] {
    if (gray.length !== width * height) throw new RangeError(`health frame must be ${width}×${height} bytes, got ${gray.length}`);
    const t = this.thresholds;
    const now = at.getTime();
    const events: PortEvent[] = [];
    this.lastFrameMs = now;
    this.connected = true;
    this.framesSinceRecord++;
    // A frame is proof of life: offline ends at once.
    this.set('offline', false, at, events, true);
    this.streamReason = null;

    const s = pictureStats(gray, width, height);
    this.stats = s;
    const change = this.prev && this.prev.length === gray.length ? pictureChange(this.prev, gray) : null;
    this.prev = Uint8Array.from(gray);
    if (!change || change.meanDiff > t.frozenMaxMeanDiff || change.changedFraction > t.frozenMaxChangedFraction || this.lastChangeMs === null) {
      this.lastChangeMs = now;
    }

    const dark = s.brightness <= t.blackoutMaxBrightness && s.contrast <= t.blackoutMaxContrast;
    const b = this.baseline;
    const covered =
      !dark && !!b && s.edgeEnergy <= b.edgeEnergy * t.coveredEdgeRatio &&
      (s.entropy <= b.entropy * t.coveredEntropyRatio || s.contrast <= b.contrast * t.coveredContrastRatio);
    const defocused = !dark && !covered && !!b && s.edgeEnergy <= b.edgeEnergy * t.defocusEdgeRatio && s.entropy >= b.entropy * t.defocusMinEntropyRatio;
    // A uniform picture cannot show change, so it is blacked out or covered, not frozen.
    const textured = !dark && !covered && s.edgeEnergy >= t.minTextureEdge;
    const frozen = textured && now - this.lastChangeMs >= t.frozenAfterS * 1000;

    let moved = false;
    const edges = edgeMap(downscale(gray, width, height, GRID_W, GRID_H), GRID_W, GRID_H);
    this.shift = null;
    if (this.reference && textured && !defocused) {
      const m = bestShiftCoarseFine(this.reference, edges, GRID_W, GRID_H, t.movedMaxShiftPx);
      // Report how the scene moved in the picture (+x right, +y down).
      this.shift = [-m.dx || 0, -m.dy || 0];
      const far = Math.max(Math.abs(m.dx), Math.abs(m.dy)) >= t.movedMinShiftPx && m.score - m.zeroScore >= t.movedMinGain;
      const lost = m.score < this.baselineNcc * t.movedLostRatio;
      moved = far || lost;
      if (!moved && !this.anyPictureFault()) {
        // Let the reference follow slow scene changes (a parked crane, seasons) while aligned.
        for (let i = 0; i < edges.length; i++) this.reference[i] = this.reference[i]! * 0.99 + edges[i]! * 0.01;
        this.baselineNcc = this.baselineNcc * 0.95 + m.zeroScore * 0.05;
      }
    }

    this.set('blackout', dark, at, events);
    this.set('covered', covered, at, events);
    this.set('defocused', defocused, at, events);
    // frozenAfterS is itself the confirmation: no further delay.
    this.set('frozen', frozen, at, events, true, frozen ? this.lastChangeMs : null);
    this.set('moved', moved, at, events);

    if (!dark && !covered && !frozen) this.learn(s, edges);
    return events;
  }

  /** Checks offline; call about once a second. */
  tick(at: Date = new Date()): PortEvent[] {
    const events: PortEvent[] = [];
    const now = at.getTime();
    const last = this.lastFrameMs ?? this.startedMs;
    if (now - last >= this.thresholds.offlineAfterS * 1000) {
      const wasActive = this.faults.get('offline')!.active;
      this.set('offline', true, at, events, true, last);
      if (!wasActive) {
        // Nothing about the picture can be judged while none arrives.
        for (const f of ['frozen', 'covered', 'blackout', 'defocused', 'moved'] as const) this.set(f, false, at, events, true);
        this.prev = null;
        this.lastChangeMs = null;
      }
    }
    return events;
  }

  state(): CameraState {
    for (const f of SEVERITY) if (this.faults.get(f)!.active) return f;
    return this.baseline ? 'ok' : 'learning';
  }

  activeFaults(): CameraFault[] {
    return SEVERITY.filter((f) => this.faults.get(f)!.active);
  }

  /** A `camera_health` row for now; resets the fps window. */
  record(at: Date = new Date()): CameraHealthRecord {
    const now = at.getTime();
    const span = Math.max(1, now - this.lastRecordMs) / 1000;
    const fps = this.framesSinceRecord / span;
    this.framesSinceRecord = 0;
    this.lastRecordMs = now;
    const drops = this.dropsSinceRecord;
    this.dropsSinceRecord = 0;
    const s = this.stats;
    const offline = this.faults.get('offline')!.active;
    return {
      time: at,
      camera: this.camera,
      state: this.state(),
      faults: this.activeFaults(),
      connected: this.connected && !offline,
      fps: Math.round(fps * 100) / 100,
      brightness: s ? round2(s.brightness) : null,
      contrast: s ? round2(s.contrast) : null,
      entropy: s ? round2(s.entropy) : null,
      edge_energy: s ? round2(s.edgeEnergy) : null,
      unchanged_s: this.lastChangeMs !== null && this.lastFrameMs !== null ? round2((this.lastFrameMs - this.lastChangeMs) / 1000) : null,
      shift_px: this.shift,
      reason: offline || !this.connected ? this.streamReason : null,
      stream_drops: drops,
      last_drop_reason: this.lastDropReason,
      source_size: this.sourceSize,
      size_changes: this.sizeChanges,
    };
  }

  /** Accept the current view as the new normal (after a deliberate re-aim): relearn baseline and reference. */
  relearn(): void {
    this.baseline = null;
    this.reference = null;
    this.learnRef = null;
    this.learned = 0;
    this.learnSum = { brightness: 0, contrast: 0, entropy: 0, edgeEnergy: 0 };
  }

  private anyPictureFault(): boolean {
    return ['frozen', 'covered', 'blackout', 'defocused', 'moved'].some((f) => this.faults.get(f as CameraFault)!.active);
  }

  private learn(s: PictureStats, edges: Float32Array): void {
    if (!this.baseline) {
      this.learned++;
      for (const k of Object.keys(this.learnSum) as Array<keyof PictureStats>) this.learnSum[k] += s[k];
      if (!this.learnRef) this.learnRef = new Float32Array(edges.length);
      for (let i = 0; i < edges.length; i++) this.learnRef[i]! += edges[i]!;
      if (this.learned >= this.thresholds.learnFrames) {
        const n = this.learned;
        this.baseline = {
          brightness: this.learnSum.brightness / n,
          contrast: this.learnSum.contrast / n,
          entropy: this.learnSum.entropy / n,
          edgeEnergy: this.learnSum.edgeEnergy / n,
        };
        this.reference = this.learnRef.map((v) => v / n);
        this.learnRef = null;
        // How well a normal frame matches the averaged reference: the yardstick for "scene lost".
        this.baselineNcc = bestShift(this.reference, edges, GRID_W, GRID_H, 0).zeroScore;
      }
      return;
    }
    if (this.anyPictureFault()) return;
    const a = this.thresholds.baselineAlpha;
    const b = this.baseline;
    for (const k of Object.keys(b) as Array<keyof PictureStats>) b[k] += a * (s[k] - b[k]);
  }

  /**
   * Moves one fault towards `on`, with the confirm delay unless `immediate`.
   * `sinceMs` backdates the start (frozen since the last change, offline since the last frame).
   */
  private set(fault: CameraFault, on: boolean, at: Date, events: PortEvent[], immediate = false, sinceMs: number | null = null): void {
    const f = this.faults.get(fault)!;
    const now = at.getTime();
    const confirm = immediate ? 0 : this.thresholds.confirmS * 1000;
    if (on) {
      f.clearSince = null;
      if (f.active) return;
      f.candidateSince ??= now;
      if (now - f.candidateSince >= confirm) {
        f.active = true;
        f.since = new Date(sinceMs ?? f.candidateSince);
        f.candidateSince = null;
        events.push(this.event(fault, 'start', at, f.since));
      }
    } else {
      f.candidateSince = null;
      if (!f.active) return;
      f.clearSince ??= now;
      if (now - f.clearSince >= confirm) {
        const since = f.since!;
        f.active = false;
        f.since = null;
        f.clearSince = null;
        events.push(this.event(fault, 'end', at, since));
      }
    }
  }

  private event(fault: CameraFault, phase: 'start' | 'end', at: Date, since: Date): PortEvent {
    const s = this.stats;
    const details: Record<string, unknown> = {
      since: since.toISOString(),
      ...(phase === 'end' ? { duration_s: round2((at.getTime() - since.getTime()) / 1000) } : {}),
      ...(s ? { brightness: round2(s.brightness), contrast: round2(s.contrast), entropy: round2(s.entropy), edge_energy: round2(s.edgeEnergy) } : {}),
      ...(this.baseline && phase === 'start'
        ? { baseline: { brightness: round2(this.baseline.brightness), entropy: round2(this.baseline.entropy), edge_energy: round2(this.baseline.edgeEnergy) } }
        : {}),
      ...(fault === 'moved' && this.shift ? { shift_px: this.shift } : {}),
      ...(fault === 'offline' && this.streamReason ? { reason: this.streamReason } : {}),
    };
    return {
      // One fault episode = one id per phase, whatever replays it.
      id: eventId('camera_health', this.camera, KIND[fault], since.toISOString(), phase),
      time: at,
      kind: KIND[fault],
      phase,
      camera: this.camera,
      details,
    };
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
