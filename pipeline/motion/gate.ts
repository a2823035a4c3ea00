import type { MotionResult } from './motion-detector.js';

export interface DetectGateOptions {
  /** Run the detector at least this often even without motion (stationary objects, parked trucks). Default 10 s. */
  heartbeatS?: number;
  /** Keep running this long after motion stops, so the tracker sees objects come to rest or leave. Default 2 s. */
  holdS?: number;
}

export type GateReason = 'motion' | 'hold' | 'lighting' | 'heartbeat' | 'idle';

/** Decides per frame whether the detector runs: on motion, shortly after it, after a lighting change, or on the heartbeat. */
export class DetectGate {
  private readonly heartbeatMs: number;
  private readonly holdMs: number;
  private lastRunMs = -Infinity;
  private lastMotionMs = -Infinity;
  runs = 0;
  skips = 0;

  constructor(o: DetectGateOptions = {}) {
    this.heartbeatMs = (o.heartbeatS ?? 10) * 1000;
    this.holdMs = (o.holdS ?? 2) * 1000;
  }

  decide(nowMs: number, motion: Pick<MotionResult, 'regions' | 'lightingChange'>): { run: boolean; reason: GateReason } {
    let reason: GateReason = 'idle';
    if (motion.regions.length > 0) {
      this.lastMotionMs = nowMs;
      reason = 'motion';
    } else if (motion.lightingChange) reason = 'lighting'; // motion is blind for a frame: look once
    else if (nowMs - this.lastMotionMs <= this.holdMs) reason = 'hold';
    else if (nowMs - this.lastRunMs >= this.heartbeatMs) reason = 'heartbeat';
    const run = reason !== 'idle';
    if (run) {
      this.lastRunMs = nowMs;
      this.runs++;
    } else this.skips++;
    return { run, reason };
  }
}
