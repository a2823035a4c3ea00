import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readVideoFrames } from '../pipeline/video/index.js';

const VTEST = fileURLToPath(new URL('./fixtures/video/vtest-640x480.mp4', import.meta.url));

describe('readVideoFrames (offline analysis)', () => {
  it('gives every sampling slot of a clip exactly once, nothing dropped, rgb and grey paired', async () => {
    const frames = [];
    for await (const f of readVideoFrames(VTEST, { detectFps: 1, keyframeIntervalS: 1, rgb: { width: 64, height: 48 }, gray: { width: 32, height: 24 } })) {
      frames.push({ seq: f.seq, t: f.t, rgb: f.rgb!.length, gray: f.gray!.length, key: f.keyframeOnly });
    }
    // 79.5 s at 1 frame/s: slots 0 … 79 (the clip's keyframes fall at every whole second).
    expect(frames).toHaveLength(80);
    frames.forEach((f, i) => expect(f).toEqual({ seq: i, t: i, rgb: 64 * 48 * 3, gray: 32 * 24, key: true }));
  });

  it('stops early when asked and leaves no ffmpeg behind', async () => {
    // A private name for the clip, so only this reader's ffmpeg can have it on its command line.
    const dir = mkdtempSync(join(tmpdir(), 'pw-reader-'));
    const clip = join(dir, 'clip.mp4');
    symlinkSync(VTEST, clip);
    const running = () =>
      readdirSync('/proc').filter((pid) => {
        if (!/^\d+$/.test(pid)) return false;
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(clip);
        } catch {
          return false;
        }
      }).length;
    try {
      let n = 0;
      for await (const f of readVideoFrames(clip, { detectFps: 5, gray: { width: 32, height: 24 }, maxFrames: 7 })) {
        expect(f.t).toBeCloseTo(n / 5, 6);
        if (n === 0) expect(running()).toBe(1);
        n++;
      }
      expect(n).toBe(7);
      const end = Date.now() + 3000;
      while (running() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(running()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file and the reason when it cannot be read', async () => {
    const read = async () => {
      for await (const _ of readVideoFrames('/nonexistent/clip.mp4', { detectFps: 1, gray: { width: 32, height: 24 } })) void _;
    };
    await expect(read()).rejects.toThrow(/could not read \/nonexistent\/clip.mp4 \(not_found\).*No such file/);
  });
});
