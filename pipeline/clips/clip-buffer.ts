import { NAL_PPS, NAL_SPS, START_CODE, nalUnits, type AccessUnit } from '../video/annexb.js';

/** An access unit and when it arrived (wall clock, ms). */
export interface TimedUnit {
  unit: AccessUnit;
  timeMs: number;
}

export interface ClipBufferOptions {
  /** Keep at least this much before now, from the keyframe at or before it. Default 5 000 ms (the pre-roll). */
  keepMs?: number;
  /** Never hold more than this (a camera without keyframes, or a burst). Default 64 MiB. */
  maxBytes?: number;
}


/**
 * NAL types in an Annex B unit, up to its first coded slice (types 1–5): SPS
 * and PPS come before the slices of a unit, and the slices are nearly all its
 * bytes, so every unit of every camera is not scanned byte by byte.
 */
function nalTypes(data: Buffer): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      const type = data[i + 3]! & 0x1f;
      types.push(type);
      if (type >= 1 && type <= 5) break;
      i += 3;
    }
  }
  return types;
}

/**
 * A camera's recent H.264 as received: access units from the last keyframe
 * that is at least `keepMs` old, so a clip can start `keepMs` before any
 * moment still in the buffer, on a keyframe, without decoding anything. Units
 * are kept as they came (copied bytes, no re-encoding). When a keyframe unit
 * carries no SPS/PPS (cameras that send them out of band) the last ones seen
 * are kept to put in front of the clip.
 */
export class ClipBuffer {
  private units: TimedUnit[] = [];
  private bytes = 0;
  private parameterSets: Buffer | null = null;
  private readonly keepMs: number;
  private readonly maxBytes: number;
  /** Units dropped because the buffer was full. */
  overflowed = 0;

  constructor(opts: ClipBufferOptions = {}) {
    this.keepMs = opts.keepMs ?? 5_000;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  }

  get size(): { units: number; bytes: number; fromMs: number | null; toMs: number | null } {
    return { units: this.units.length, bytes: this.bytes, fromMs: this.units[0]?.timeMs ?? null, toMs: this.units.at(-1)?.timeMs ?? null };
  }

  /** Holds until `holdFromMs` (a clip still being waited for) even when older than keepMs. */
  push(unit: AccessUnit, timeMs: number, holdFromMs = Infinity): void {
    if (unit.key) {
      const types = nalTypes(unit.data);
      if (types.includes(NAL_SPS) && types.includes(NAL_PPS)) this.parameterSets = null;
      else if (this.parameterSets === null) this.rememberParameterSets(unit.data);
    } else {
      // Parameter sets sent on their own (often once, before the first keyframe) are what later clips start with.
      const types = nalTypes(unit.data);
      if (types.includes(NAL_SPS) || types.includes(NAL_PPS)) this.rememberParameterSets(unit.data);
      if (this.units.length === 0) return; // a clip starts on a keyframe: no picture before the first one is any use
    }
    this.units.push({ unit, timeMs });
    this.bytes += unit.data.length;
    this.trim(timeMs, holdFromMs);
  }

  private rememberParameterSets(data: Buffer): void {
    const parts: Uint8Array[] = [];
    for (const nal of nalUnits(data)) {
      const t = nal[0]! & 0x1f;
      if (t === NAL_SPS || t === NAL_PPS) parts.push(START_CODE, nal);
    }
    if (parts.length > 0) this.parameterSets = Buffer.concat(parts);
  }

  private trim(nowMs: number, holdFromMs: number): void {
    const keepFrom = Math.min(nowMs - this.keepMs, holdFromMs);
    // Drop whole GOPs while the next keyframe is still at or before keepFrom.
    for (;;) {
      const next = this.units.findIndex((u, i) => i > 0 && u.unit.key);
      if (next < 0 || this.units[next]!.timeMs > keepFrom) break;
      for (const u of this.units.splice(0, next)) this.bytes -= u.unit.data.length;
    }
    while (this.bytes > this.maxBytes && this.units.length > 1) {
      const next = this.units.findIndex((u, i) => i > 0 && u.unit.key);
      const cut = next < 0 ? 1 : next;
      for (const u of this.units.splice(0, cut)) this.bytes -= u.unit.data.length;
      this.overflowed += cut;
    }
  }

  /**
   * The units from the last keyframe at or before `fromMs` (the first one
   * kept, if the buffer starts later) through `toMs`, SPS/PPS first when
   * the keyframe lacks them. Empty when nothing from that span is left.
   */
  slice(fromMs: number, toMs: number): TimedUnit[] {
    let start = -1;
    for (let i = 0; i < this.units.length; i++) {
      const u = this.units[i]!;
      if (u.timeMs > fromMs) break;
      if (u.unit.key) start = i;
    }
    if (start < 0) start = this.units.findIndex((u) => u.unit.key);
    if (start < 0) return [];
    const out = this.units.slice(start).filter((u) => u.timeMs <= toMs);
    if (out.length > 0 && this.parameterSets && !nalTypes(out[0]!.unit.data).includes(NAL_SPS)) {
      out[0] = { ...out[0]!, unit: { ...out[0]!.unit, data: Buffer.concat([this.parameterSets, out[0]!.unit.data]) } };
    }
    return out;
  }
}
