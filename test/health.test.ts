import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PortEvent } from '../pipeline/events/index.js';
import { bestShift, bestShiftCoarseFine, CameraHealthMonitor, downscale, edgeMap, pictureStats, type HealthThresholds } from '../pipeline/health/index.js';
import { readVideoFrames } from '../pipeline/video/index.js';

const VTEST = fileURLToPath(new URL('./fixtures/video/vtest-640x480.mp4', import.meta.url));
const W = 160;
const H = 120;
const STEP_MS = 500; // 2 frames/s
const T0 = Date.parse('2026-11-27T06:00:00Z');

let frames: Uint8Array[];
beforeAll(async () => {
  frames = [];
  for await (const f of readVideoFrames(VTEST, { detectFps: 2, gray: { width: W, height: H }, maxFrames: 80 })) frames.push(Uint8Array.from(f.gray!));
});

// Faults produced from real frames, the way they happen to a camera.
function boxBlur(g: Uint8Array, r: number): Uint8Array {
  // Separable: rows, then columns, edges clamped.
  const tmp = new Float32Array(g.length);
  const o = new Uint8Array(g.length);
  const n = 2 * r + 1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += g[y * W + Math.min(W - 1, Math.max(0, x + d))]!;
      tmp[y * W + x] = s / n;
    }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += tmp[Math.min(H - 1, Math.max(0, y + d)) * W + x]!;
      o[y * W + x] = Math.round(s / n);
    }
  }
  return o;
}
/** A hand or a bag over the lens: a dim, nearly flat smear of the scene. */
function covered(g: Uint8Array): Uint8Array {
  const b = boxBlur(g, 12);
  const mean = b.reduce((a, v) => a + v, 0) / b.length;
  return b.map((v) => Math.round(mean * 0.6 + (v - mean) * 0.15));
}
/** The camera knocked: the scene slides by (sx, sy) pixels, edges repeat. */
function shifted(g: Uint8Array, sx: number, sy: number): Uint8Array {
  const o = new Uint8Array(g.length);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) o[y * W + x] = g[Math.min(H - 1, Math.max(0, y - sy)) * W + Math.min(W - 1, Math.max(0, x - sx))]!;
  return o;
}

/** Feeds frames at 2 frames/s from T0; returns the events with the second they happened. */
function run(seq: Uint8Array[], thresholds: Partial<HealthThresholds> = {}) {
  const m = new CameraHealthMonitor('cam-07', thresholds, new Date(T0));
  const events: Array<PortEvent & { s: number }> = [];
  seq.forEach((g, i) => {
    const at = new Date(T0 + (i + 1) * STEP_MS);
    for (const e of m.observeFrame(g, W, H, at)) events.push({ ...e, s: (i + 1) * STEP_MS / 1000 });
  });
  return { m, events, end: new Date(T0 + seq.length * STEP_MS) };
}
const brief = (events: Array<PortEvent & { s: number }>) => events.map((e) => `${e.kind}:${e.phase}@${e.s}`);

describe('CameraHealthMonitor on real frames', () => {
  it('reports nothing on normal footage with people walking, and learns a baseline', () => {
    const { m, events, end } = run(frames);
    expect(events).toEqual([]);
    expect(m.state()).toBe('ok');
    const rec = m.record(end);
    expect(rec).toMatchObject({ camera: 'cam-07', state: 'ok', faults: [], connected: true, reason: null, shift_px: [0, 0] });
    expect(rec.fps).toBeCloseTo(2, 1);
    expect(rec.brightness).toBeGreaterThan(60);
    expect(rec.entropy).toBeGreaterThan(6);
    expect(rec.edge_energy).toBeGreaterThan(5);
  });

  it('sees the picture change between real frames even with a 1 s freeze window', () => {
    const { events, m, end } = run(frames, { frozenAfterS: 1 });
    expect(events).toEqual([]);
    expect(m.record(end).unchanged_s).toBeLessThan(1);
  });

  it('finds the same shift coarse-to-fine as by exhaustive search', () => {
    const edges = (g: Uint8Array) => edgeMap(downscale(g, W, H, 80, 60), 80, 60);
    const ref = edges(frames[10]!);
    for (const [sx, sy] of [[6, 0], [0, -8], [10, 6], [-14, 4], [16, -16]] as const) {
      const cur = edges(shifted(frames[11]!, sx, sy));
      const full = bestShift(ref, cur, 80, 60, 8);
      const fast = bestShiftCoarseFine(ref, cur, 80, 60, 8);
      expect([fast.dx, fast.dy]).toEqual([full.dx, full.dy]);
      // The scene slid by half the pixels on the half-size grid.
      expect([-full.dx || 0, -full.dy || 0]).toEqual([sx / 2, sy / 2]);
    }
  });

  it('is learning until it has seen enough frames', () => {
    const { m } = run(frames.slice(0, 5));
    expect(m.state()).toBe('learning');
  });

  it('frozen: the same picture for frozenAfterS while frames keep arriving, then it moves again', () => {
    const seq = [...frames.slice(0, 20), ...Array(30).fill(frames[20]!), ...frames.slice(21, 40)];
    const { events } = run(seq, { frozenAfterS: 5 });
    // Last change at frame 21 (10.5 s); frozen 5 s later; ends with the first new picture at frame 51.
    expect(brief(events)).toEqual(['camera_frozen:start@15.5', 'camera_frozen:end@25.5']);
    expect(events[0]!.details).toMatchObject({ since: new Date(T0 + 10_500).toISOString() });
    expect(events[1]!.details).toMatchObject({ duration_s: 15 });
    // Both phases of one episode share the start in their ids, and differ.
    expect(events[0]!.id).not.toBe(events[1]!.id);
    expect(run(seq, { frozenAfterS: 5 }).events.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('blackout: black frames, even before any baseline exists', () => {
    const black = new Uint8Array(W * H).fill(16);
    const { events, m } = run([...frames.slice(0, 4), ...Array(12).fill(black)], { confirmS: 2 });
    expect(brief(events)).toEqual(['camera_blackout:start@4.5']);
    expect(m.state()).toBe('blackout');
    // A black picture cannot change, but it is a blackout, not a freeze.
    expect(events.some((e) => e.kind === 'camera_frozen')).toBe(false);
  });

  it('covered: a flat smear of the scene against the learnt baseline, and uncovered again', () => {
    const seq = [...frames.slice(0, 20), ...frames.slice(20, 40).map(covered), ...frames.slice(40, 60)];
    const flat = pictureStats(covered(frames[25]!), W, H);
    const normal = pictureStats(frames[25]!, W, H);
    expect(flat.edgeEnergy).toBeLessThan(normal.edgeEnergy * 0.1);
    const { events } = run(seq);
    expect(brief(events)).toEqual(['camera_covered:start@13.5', 'camera_covered:end@23.5']);
  });

  it('defocused: edges fade while the picture keeps its content', () => {
    const seq = [...frames.slice(0, 20), ...frames.slice(20, 50).map((g) => boxBlur(g, 3))];
    const { events, m } = run(seq);
    expect(brief(events)).toEqual(['camera_defocused:start@13.5']);
    expect(m.state()).toBe('defocused');
    // A slight softening (1-pixel blur) is not a fault.
    expect(run([...frames.slice(0, 20), ...frames.slice(20, 50).map((g) => boxBlur(g, 1))]).events).toEqual([]);
  });

  it('moved: the scene slides against its reference, by how much; a small wobble is not a move', () => {
    const seq = [...frames.slice(0, 20), ...frames.slice(20, 40).map((g) => shifted(g, 16, 8))];
    const { events, m, end } = run(seq);
    expect(brief(events)).toEqual(['camera_moved:start@13.5']);
    // 16×8 pixels on the 160-wide frame is 8×4 on the 80-wide analysis grid.
    expect(events[0]!.details).toMatchObject({ shift_px: [8, 4] });
    expect(m.record(end).shift_px).toEqual([8, 4]);
    expect(run([...frames.slice(0, 20), ...frames.slice(20, 40).map((g) => shifted(g, 2, 0))]).events).toEqual([]);
  });

  it('offline: no frame for offlineAfterS (with the stream reason), back on the next frame', () => {
    const m = new CameraHealthMonitor('cam-07', { offlineAfterS: 5 }, new Date(T0));
    frames.slice(0, 12).forEach((g, i) => m.observeFrame(g, W, H, new Date(T0 + (i + 1) * STEP_MS)));
    const lastFrame = T0 + 12 * STEP_MS;
    expect(m.observeStream(false, 'refused', new Date(lastFrame + 1000))).toEqual([]);
    expect(m.tick(new Date(lastFrame + 4000))).toEqual([]);
    const start = m.tick(new Date(lastFrame + 5000));
    expect(start).toHaveLength(1);
    expect(start[0]).toMatchObject({ kind: 'camera_offline', phase: 'start', camera: 'cam-07', details: { reason: 'refused', since: new Date(lastFrame).toISOString() } });
    expect(m.tick(new Date(lastFrame + 9000))).toEqual([]); // one start per episode
    expect(m.record(new Date(lastFrame + 9000))).toMatchObject({ state: 'offline', connected: false, reason: 'refused' });
    const end = m.observeFrame(frames[13]!, W, H, new Date(lastFrame + 10_000));
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ kind: 'camera_offline', phase: 'end', details: { duration_s: 10 } });
    expect(m.state()).toBe('ok');
  });

  it('a camera that never sends a frame goes offline too', () => {
    const m = new CameraHealthMonitor('cam-08', { offlineAfterS: 20 }, new Date(T0));
    expect(m.tick(new Date(T0 + 19_000))).toEqual([]);
    expect(m.tick(new Date(T0 + 20_000)).map((e) => e.kind)).toEqual(['camera_offline']);
  });

  it('flush ends an open episode once, with the reason (a camera handed to another worker)', () => {
    const m = new CameraHealthMonitor('cam-09', { offlineAfterS: 5 }, new Date(T0));
    const [start] = m.tick(new Date(T0 + 6000));
    expect(start).toMatchObject({ kind: 'camera_offline', phase: 'start' });
    const ended = m.flush(new Date(T0 + 8000), 'handover');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ kind: 'camera_offline', phase: 'end', camera: 'cam-09', details: { end_reason: 'handover', since: new Date(T0).toISOString(), duration_s: 8 } });
    expect(m.activeFaults()).toEqual([]);
    expect(m.flush(new Date(T0 + 9000))).toEqual([]); // nothing open any more
  });

  it('rejects a frame whose size does not match', () => {
    expect(() => new CameraHealthMonitor('c').observeFrame(new Uint8Array(5), W, H)).toThrow(/160×120/);
  });
});
