import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { yuv420pBytes, yuv420pToRgb } from '../pipeline/video/index.js';

const VTEST = ['-ss', '20', '-i', 'test/fixtures/video/vtest-640x480.mp4'];
const FLAT = ['-f', 'lavfi', '-i', 'color=c=0x3366cc:s=320x240'];

/**
 * One frame as ffmpeg gives it, in the asked pixel format. The RGB reference
 * uses swscale's exact arithmetic (accurate_rnd, full chroma): its default
 * fast path is itself off by 1–2 levels.
 */
function frame(input: string[], pixFmt: 'yuv420p' | 'rgb24', width: number, height: number): Buffer {
  const flags = pixFmt === 'rgb24' ? 'bilinear+accurate_rnd+full_chroma_int+full_chroma_inp' : 'bilinear';
  const run = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', ...input, '-frames:v', '1', '-vf', `scale=${width}:${height}:flags=${flags},format=${pixFmt}`, '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1'],
    { maxBuffer: 16 << 20 },
  );
  expect(run.stderr.toString()).toBe('');
  return run.stdout;
}

function compare(got: Uint8Array, want: Uint8Array): { meanAbs: number; bias: number; maxAbs: number; over4: number } {
  let sum = 0;
  let signed = 0;
  let maxAbs = 0;
  let over4 = 0;
  for (let i = 0; i < got.length; i++) {
    const d = got[i]! - want[i]!;
    signed += d;
    sum += Math.abs(d);
    maxAbs = Math.max(maxAbs, Math.abs(d));
    if (Math.abs(d) > 4) over4++;
  }
  return { meanAbs: sum / got.length, bias: signed / got.length, maxAbs, over4: over4 / got.length };
}

describe('yuv420pToRgb', () => {
  it('gives a flat colour exactly as ffmpeg’s exact rgb24 conversion does', () => {
    const got = yuv420pToRgb(frame(FLAT, 'yuv420p', 320, 240), 320, 240);
    const want = frame(FLAT, 'rgb24', 320, 240);
    expect(compare(got, want).maxAbs).toBeLessThanOrEqual(1);
    // 0x3366cc, after a round trip through limited-range 8-bit YUV.
    for (const [i, v] of [51, 102, 204].entries()) expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(2);
  });

  it('gives a camera picture as ffmpeg does, within chroma interpolation', () => {
    const [w, h] = [320, 240];
    const yuv = frame(VTEST, 'yuv420p', w, h);
    const want = frame(VTEST, 'rgb24', w, h);
    expect(yuv.length).toBe(yuv420pBytes(w, h));
    expect(want.length).toBe(w * h * 3);
    const c = compare(yuv420pToRgb(yuv, w, h), want);
    // swscale interpolates chroma between samples where we repeat the nearest: edges differ a little, without bias.
    expect(c.meanAbs).toBeLessThan(1.5);
    expect(Math.abs(c.bias)).toBeLessThan(0.3);
    // Measured 3.5 %: samples at colour edges, where the two chroma fillings differ most.
    expect(c.over4).toBeLessThan(0.06);
  });

  it('maps the limited-range extremes to black and white, and neutral chroma to grey', () => {
    const [w, h] = [4, 2];
    const yuv = new Uint8Array(yuv420pBytes(w, h)).fill(128);
    yuv.fill(16, 0, 4); // top row black
    yuv.fill(235, 4, 8); // bottom row white
    const rgb = yuv420pToRgb(yuv, w, h);
    expect([...rgb.subarray(0, 12)]).toEqual(new Array(12).fill(0));
    expect([...rgb.subarray(12, 24)]).toEqual(new Array(12).fill(255));
  });

  it('rejects odd sizes and wrong lengths, saying what was expected', () => {
    expect(() => yuv420pToRgb(new Uint8Array(10), 3, 2)).toThrow(/even sizes/);
    expect(() => yuv420pToRgb(new Uint8Array(10), 4, 2)).toThrow(/4×2 yuv420p frame is 12 bytes, got 10/);
  });
});

describe('yuv420pToRgb of a rectangle (the detector crop)', () => {
  it('gives exactly the pixels of that rectangle of the whole frame, even at odd offsets', () => {
    const [w, h] = [320, 240];
    const yuv = frame(VTEST, 'yuv420p', w, h);
    const whole = yuv420pToRgb(yuv, w, h);
    for (const rect of [{ x: 0, y: 0, width: w, height: h }, { x: 40, y: 30, width: 100, height: 64 }, { x: 33, y: 17, width: 51, height: 9 }, { x: w - 2, y: h - 2, width: 2, height: 2 }]) {
      const part = yuv420pToRgb(yuv, w, h, undefined, rect);
      expect(part.length).toBe(rect.width * rect.height * 3);
      let diff = 0;
      for (let y = 0; y < rect.height; y++) {
        const got = part.subarray(y * rect.width * 3, (y + 1) * rect.width * 3);
        const want = whole.subarray(((rect.y + y) * w + rect.x) * 3, ((rect.y + y) * w + rect.x + rect.width) * 3);
        diff += Buffer.compare(Buffer.from(got), Buffer.from(want)) === 0 ? 0 : 1;
      }
      expect(diff, JSON.stringify(rect)).toBe(0);
    }
  });

  it('refuses a rectangle outside the frame', () => {
    const yuv = new Uint8Array(yuv420pBytes(64, 32));
    expect(() => yuv420pToRgb(yuv, 64, 32, undefined, { x: 60, y: 0, width: 8, height: 8 })).toThrow(/not inside the 64×32 frame/);
    expect(() => yuv420pToRgb(yuv, 64, 32, undefined, { x: 0, y: 0, width: 0, height: 8 })).toThrow(/not inside/);
  });
});
