import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FrameCutter, LatestSlot } from '../pipeline/video/index.js';

const W = 64;
const H = 48;
const FRAME = W * H * 3;

/** Real raw frames from ffmpeg: 12 pictures of a test pattern. */
function realFrames(): Buffer {
  const run = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=12:duration=1`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { maxBuffer: 16 << 20 },
  );
  expect(run.status).toBe(0);
  return run.stdout;
}

describe('FrameCutter', () => {
  const all = realFrames();
  const expected = Array.from({ length: all.length / FRAME }, (_, i) => all.subarray(i * FRAME, (i + 1) * FRAME));

  it('cuts exact frames whatever the chunk boundaries', () => {
    expect(expected).toHaveLength(12);
    expect(new Set(expected.map((f) => f.toString('base64'))).size).toBeGreaterThan(2);
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 16807) % 2147483647) % n) + 1;
    for (const sizes of [[1], [FRAME - 1], [FRAME], [FRAME + 1], [3 * FRAME + 5], [65536], 'random'] as const) {
      const cutter = new FrameCutter(FRAME);
      const out: Buffer[] = [];
      let off = 0;
      let i = 0;
      while (off < all.length) {
        const n = sizes === 'random' ? rnd(2 * FRAME) : sizes[i++ % sizes.length]!;
        for (const f of cutter.push(all.subarray(off, Math.min(all.length, off + n)))) out.push(Buffer.from(f));
        off += n;
      }
      expect(out.length, `chunks of ${String(sizes)}`).toBe(expected.length);
      out.forEach((f, k) => expect(f.equals(expected[k]!), `frame ${k}, chunks of ${String(sizes)}`).toBe(true));
      expect(cutter.pending).toBe(0);
    }
  });

  it('returns frames inside one chunk as views, without copying', () => {
    const cutter = new FrameCutter(FRAME);
    const chunk = all.subarray(0, 2 * FRAME + 10);
    const frames = cutter.push(chunk);
    expect(frames).toHaveLength(2);
    expect(frames[0]!.buffer).toBe(chunk.buffer);
    expect(frames[1]!.byteOffset).toBe(chunk.byteOffset + FRAME);
    expect(cutter.pending).toBe(10);
    // The next frame spans chunks: assembled in its own buffer.
    const next = cutter.push(all.subarray(2 * FRAME + 10, 3 * FRAME));
    expect(next[0]!.buffer).not.toBe(chunk.buffer);
    expect(next[0]!.equals(expected[2]!)).toBe(true);
  });

  it('forgets a partial frame on reset', () => {
    const cutter = new FrameCutter(FRAME);
    cutter.push(all.subarray(0, 100));
    cutter.reset();
    const f = cutter.push(all.subarray(FRAME, 2 * FRAME));
    expect(f).toHaveLength(1);
    expect(f[0]!.equals(expected[1]!)).toBe(true);
  });
});

describe('LatestSlot', () => {
  it('keeps only the newest frame and counts the ones dropped', async () => {
    const slot = new LatestSlot<number>();
    for (let i = 0; i < 5; i++) slot.put(i);
    expect(slot.dropped).toBe(4);
    expect(await slot.take()).toBe(4);
    expect(slot.poll()).toBeNull();
  });

  it('hands a frame straight to a waiting consumer and ends with null on close', async () => {
    const slot = new LatestSlot<string>();
    const waiting = slot.take();
    slot.put('a');
    expect(await waiting).toBe('a');
    expect(slot.dropped).toBe(0);
    const pending = slot.take();
    slot.close();
    expect(await pending).toBeNull();
    slot.put('late');
    expect(await slot.take()).toBeNull();
  });

  it('never holds more than one frame however far the consumer falls behind', () => {
    const slot = new LatestSlot<Buffer>();
    for (let i = 0; i < 1000; i++) slot.put(Buffer.alloc(16, i % 256));
    expect(slot.dropped).toBe(999);
    expect(slot.poll()![0]).toBe(999 % 256);
    expect(slot.poll()).toBeNull();
  });
});
