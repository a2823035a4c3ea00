import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '../pipeline/events/index.js';
import { DetectGate, MotionDetector, padAndMerge, rasterizeMask } from '../pipeline/motion/index.js';
import { readVideoFrames } from '../pipeline/video/index.js';

const VTEST = fileURLToPath(new URL('./fixtures/video/vtest-640x480.mp4', import.meta.url));
const STILL = fileURLToPath(new URL('./fixtures/video/still-640x480.mp4', import.meta.url));
const W = 160;
const H = 120;

async function grayFrames(file: string, fps: number, max: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const f of readVideoFrames(file, { detectFps: fps, gray: { width: W, height: H }, maxFrames: max })) out.push(Uint8Array.from(f.gray!));
  return out;
}

const detector = (extra = {}) => new MotionDetector({ width: W, height: H, outputWidth: 640, outputHeight: 480, ...extra });
const covers = (regions: Box[], x: number, y: number) => regions.some(([x1, y1, x2, y2]) => x >= x1 && x < x2 && y >= y1 && y < y2);

let vtest: Uint8Array[];
beforeAll(async () => {
  // 0 … 30.5 s of the footage at 2 frames/s: frame 61 is the picture at t = 30.5 s.
  vtest = await grayFrames(VTEST, 2, 62);
});

describe('MotionDetector on real footage', () => {
  it('finds the people walking, where they are, and not the empty lawn', () => {
    expect(vtest).toHaveLength(62);
    const md = detector();
    let last = md.update(vtest[0]!);
    expect(last.calibrating).toBe(true);
    let framesWithMotion = 0;
    for (const g of vtest.slice(1)) {
      last = md.update(g);
      if (last.regions.length) framesWithMotion++;
    }
    // People walk through the whole clip.
    expect(framesWithMotion).toBeGreaterThan(50);
    // Positions read by eye from the frame at 30.5 s (ffmpeg -ss 30.5 -i vtest-640x480.mp4 -frames:v 1):
    // a man in black walking at about (255, 205), a couple walking on the right at about (510, 170).
    expect(covers(last.regions, 255, 205)).toBe(true);
    expect(covers(last.regions, 510, 170)).toBe(true);
    // The lawn in the lower left and the bottom of the picture hold nobody.
    expect(covers(last.regions, 120, 400)).toBe(false);
    expect(covers(last.regions, 320, 470)).toBe(false);
    for (const [x1, y1, x2, y2] of last.regions) {
      expect(x1).toBeGreaterThanOrEqual(0);
      expect(y1).toBeGreaterThanOrEqual(0);
      expect(x2).toBeLessThanOrEqual(640);
      expect(y2).toBeLessThanOrEqual(480);
      expect(x2).toBeGreaterThan(x1);
      expect(y2).toBeGreaterThan(y1);
    }
    expect(last.motionFraction).toBeGreaterThan(0);
    expect(last.motionFraction).toBeLessThan(0.2);
  });

  it('reports no motion on a still picture served as video', async () => {
    const still = await grayFrames(STILL, 5, 20);
    expect(still.length).toBeGreaterThanOrEqual(18);
    const md = detector();
    const results = still.map((g) => md.update(g));
    expect(results.slice(1).every((r) => r.regions.length === 0 && !r.lightingChange)).toBe(true);
  });

  it('treats a sudden brightness jump as a lighting change, then sees people again', () => {
    const md = detector();
    const brighten = (g: Uint8Array) => g.map((v) => Math.min(255, v + 60));
    const seq = vtest.slice(0, 40);
    const results = seq.map((g, i) => md.update(i >= 20 ? brighten(g) : g));
    const jump = results[20]!;
    expect(jump.lightingChange).toBe(true);
    expect(jump.regions).toEqual([]);
    // The same jump without the guard would be motion over most of the picture:
    // the frames differ by 60 levels nearly everywhere, far above the threshold.
    let over = 0;
    const bright = brighten(seq[20]!);
    for (let i = 0; i < W * H; i++) if (Math.abs(bright[i]! - seq[19]![i]!) > 25) over++;
    expect(over / (W * H)).toBeGreaterThan(0.5);
    // Afterwards: back to people-sized regions, not the whole frame.
    const after = results.slice(21);
    expect(after.some((r) => r.regions.length > 0)).toBe(true);
    expect(after.every((r) => !r.lightingChange && r.motionFraction < 0.2)).toBe(true);
    // Dimming by a factor (exposure change) is caught the same way.
    const dim = detector();
    seq.slice(0, 10).forEach((g) => dim.update(g));
    expect(dim.update(seq[10]!.map((v) => Math.round(v * 0.55))).lightingChange).toBe(true);
  });

  it('ignores masked areas', () => {
    const leftHalf: [number, number][] = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]];
    const masked = detector({ masks: [leftHalf], pad: 0, dilate: 0 });
    const open = detector({ pad: 0, dilate: 0 });
    let leftRegionsOpen = 0;
    for (const g of vtest) {
      const m = masked.update(g);
      for (const r of m.regions) expect(r[0]).toBeGreaterThanOrEqual(320);
      leftRegionsOpen += open.update(g).regions.filter((r) => r[2] <= 320).length;
    }
    expect(leftRegionsOpen).toBeGreaterThan(5);
  });

  it('rejects frames of the wrong size and masks that hide everything', () => {
    expect(() => detector().update(new Uint8Array(10))).toThrow(/160×120/);
    expect(() => detector({ masks: [[[0, 0], [1, 0], [1, 1], [0, 1]]] })).toThrow(/whole picture/);
    expect(() => detector({ masks: [[[0, 0], [2, 0], [1, 1]]] })).toThrow(/outside 0..1/);
  });
});

describe('motion helpers', () => {
  it('rasterises a triangle mask at pixel centres', () => {
    const m = rasterizeMask([[[0, 0], [1, 0], [0, 1]]], 4, 4);
    // A pixel is masked when its centre lies inside or on the edge: row y has centres up to x = 4 - (y + 0.5).
    expect(Array.from(m)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0]);
  });

  it('pads boxes and merges the ones that then touch', () => {
    const merged = padAndMerge([[10, 10, 20, 20], [23, 10, 30, 20], [60, 60, 70, 70]], 2, 100, 100);
    expect(merged).toEqual([[8, 8, 32, 22], [58, 58, 72, 72]]);
    expect(padAndMerge([[0, 0, 5, 5]], 3, 6, 6)).toEqual([[0, 0, 6, 6]]);
  });
});

describe('DetectGate', () => {
  const none = { regions: [] as Box[], lightingChange: false };
  const some = { regions: [[1, 1, 5, 5]] as Box[], lightingChange: false };

  it('runs on motion, holds briefly after it, and beats every K seconds when idle', () => {
    const gate = new DetectGate({ heartbeatS: 10, holdS: 2 });
    const at = (s: number, m = none) => gate.decide(s * 1000, m).reason;
    expect(at(0)).toBe('heartbeat'); // first look at a new camera
    expect(at(1)).toBe('idle');
    expect(at(2, some)).toBe('motion');
    expect(at(3)).toBe('hold');
    expect(at(4)).toBe('hold');
    expect(at(5)).toBe('idle');
    expect(at(13)).toBe('idle');
    expect(at(14)).toBe('heartbeat'); // 10 s after the last run at 4 s
    expect(at(15, { regions: [], lightingChange: true })).toBe('lighting');
    expect(gate.runs).toBe(6);
    expect(gate.skips).toBe(3);
  });

  it('on real footage, runs the detector on most frames of a busy scene and rarely on a still one', async () => {
    const still = await grayFrames(STILL, 5, 20); // 4 s
    const count = (frames: Uint8Array[], fps: number) => {
      const md = detector();
      const gate = new DetectGate({ heartbeatS: 10, holdS: 0 });
      return frames.filter((g, i) => gate.decide((i / fps) * 1000, md.update(g)).run).length;
    };
    expect(count(vtest, 2)).toBeGreaterThan(50);
    expect(count(still, 5)).toBe(1); // the first look only
  });
});
