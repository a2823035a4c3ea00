import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortEvent } from '../pipeline/events/index.js';
import { CameraRunner, type CameraSpec } from '../pipeline/camera/index.js';
import { loadDetector, type Detector } from '../pipeline/detect/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';
import { WEST_PATH } from './helpers/vtest-zone.js';

/**
 * Keyframes on demand must not cost events. A camera that shows an empty
 * scene for STILL_S seconds and then the vtest footage (people walking, three
 * of them into the restricted zone at 17.8, 20.1 and 24.5 s of footage; see
 * test/fixtures/sites/vtest.yaml) is watched twice at once, on two mounts of
 * the same clip: decoding every keyframe, and on demand. Both run the real
 * NanoDet. On demand decodes a fraction of the keyframes while the scene is
 * still, wakes up when people move, and raises the same three events.
 */
const STILL_S = 6;
const ENTRIES = [17.8, 20.1, 24.5].map((t) => t + STILL_S);
const dir = mkdtempSync(join(tmpdir(), 'pw-camod-'));
let server: RtspServer;
let nanodet: Detector;

beforeAll(async () => {
  // The first picture held STILL_S s, then the footage; GOP 0.5 s so 2 frames/s can be keyframes only.
  const clip = join(dir, 'still-then-walk.mp4');
  const src = 'test/fixtures/video/vtest-640x480.mp4';
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', src, '-i', src,
    '-filter_complex', `[0:v]trim=end_frame=1,loop=loop=${STILL_S * 10 - 1}:size=1,setpts=N/10/TB[s];[1:v]trim=duration=36,setpts=PTS-STARTPTS[v];[s][v]concat=n=2:v=1:a=0[out]`,
    '-map', '[out]', '-r', '10', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '30', '-bf', '0', '-g', '5', '-keyint_min', '5', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', clip,
  ]);
  server = await startRtspServer({ clips: { walk: clip }, mounts: { '/every': 'walk', '/on-demand': 'walk' } });
  nanodet = await loadDetector('nanodet-int8', { logger: silentLogger(), maxBatch: 1 });
}, 60_000);
afterAll(async () => {
  await nanodet?.release();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const camera = (id: string, path: string): CameraSpec => ({
  id,
  streams: { main: server.url(path) },
  detect: { fps: 2, width: 640, height: 480 },
  zones: [WEST_PATH],
  tripwires: [],
  masks: [],
});

interface Watched {
  runner: CameraRunner;
  events: PortEvent[];
  /** Wall ms of each analysed frame (when its data arrived). */
  frames: number[];
}

function watch(id: string, path: string, onDemand: boolean): Watched {
  const w: Watched = { events: [], frames: [], runner: null as unknown as CameraRunner };
  w.runner = new CameraRunner({
    camera: camera(id, path),
    timeZone: 'UTC',
    detector: nanodet,
    labels: nanodet.labels,
    anySizeDetector: nanodet.takesAnySize,
    keyframeIntervalS: 0.5,
    // Two GOPs (1 s) to learn the quiet level, so the still part shows what on demand saves.
    onDemand: onDemand ? { activity: { learnGops: 2 } } : false,
    sinks: { event: (e) => void w.events.push(e) },
    onFrame: (f) => w.frames.push(Date.now() - f.latencyMs),
  });
  return w;
}

describe('CameraRunner, keyframes on demand', () => {
  it('decodes little of a still scene and raises the same events as decoding every keyframe', async () => {
    const every = watch('every-cam', '/every', false);
    const lazy = watch('lazy-cam', '/on-demand', true);
    for (const w of [every, lazy]) w.runner.start();
    const deadline = Date.now() + 90_000;
    // Until clip time ≈ 35 s (the three entries plus their dwell) on both.
    while (Date.now() < deadline && [every, lazy].some((w) => w.frames.length === 0 || Date.now() - w.frames[0]! < (STILL_S + 29) * 1000)) {
      await new Promise((r) => setTimeout(r, 250));
    }
    await Promise.all([every.runner.stop(), lazy.runner.stop()]);
    const stats = [every, lazy].map((w) => w.runner.stats());
    expect(stats.map((s) => [s.keyframeOnly, s.onDemand])).toEqual([[true, false], [true, true]]);

    // The still part: every keyframe (2 a second) against the first ones and one every 4 s.
    const stillFrames = (w: Watched) => w.frames.filter((t) => t - w.frames[0]! < (STILL_S - 1) * 1000).length;
    expect(stillFrames(every)).toBeGreaterThanOrEqual(8);
    expect(stillFrames(lazy)).toBeLessThanOrEqual(4);
    // Once people move it decodes every keyframe too (≥ 80 % of the other's frames overall).
    expect(lazy.frames.length).toBeGreaterThanOrEqual(0.8 * (every.frames.length - stillFrames(every)));

    for (const w of [every, lazy]) {
      const t0 = w.frames[0]!;
      const starts = w.events.filter((e) => e.kind === 'unauthorized_access' && e.phase === 'start' && e.time.getTime() - t0 < (STILL_S + 29) * 1000);
      expect(starts.length, `${w.runner.camera}: ${JSON.stringify(starts.map((s) => (s.time.getTime() - t0) / 1000))}`).toBe(3);
      expect(new Set(starts.map((s) => s.track)).size).toBe(3);
      starts.forEach((s, i) => {
        const t = (s.time.getTime() - t0) / 1000;
        expect(t, `${w.runner.camera} start ${i} at ${t} s`).toBeGreaterThanOrEqual(ENTRIES[i]! - 2.5);
        expect(t, `${w.runner.camera} start ${i} at ${t} s`).toBeLessThanOrEqual(ENTRIES[i]! + 3.5);
      });
    }
  }, 120_000);
});
