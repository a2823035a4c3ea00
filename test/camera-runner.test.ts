import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraRunner, type CameraDetector, type CameraSpec } from '../pipeline/camera/index.js';
import { loadDetector, type Detector, type DetectRequest } from '../pipeline/detect/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';
import { WEST_PATH } from './helpers/vtest-zone.js';

/**
 * CameraRunner on the real RTSP simulator with NanoDet: ffmpeg pipes yuv420p,
 * and a frame becomes RGB only when the detector runs on it. The frozen mount
 * (one still picture) has no motion after the first frame; vtest has people
 * walking through the watched area.
 */
let server: RtspServer;
let nanodet: Detector;

beforeAll(async () => {
  server = await startRtspServer();
  nanodet = await loadDetector('nanodet', { logger: silentLogger(), maxBatch: 1 });
}, 60_000);
afterAll(async () => {
  await nanodet?.release();
  await server?.stop();
});

/** The real detector, recording what it was given. */
function recording(): CameraDetector & { requests: DetectRequest[] } {
  const requests: DetectRequest[] = [];
  return { requests, detect: (r) => (requests.push(r), nanodet.detect(r)) };
}

const camera = (id: string, path: string): CameraSpec => ({
  id,
  streams: { main: server.url(path) },
  detect: { fps: 1, width: 640, height: 480 },
  zones: [WEST_PATH],
  tripwires: [],
  masks: [],
});

describe('CameraRunner colour frames', () => {
  it('converts a frame to RGB only when the detector runs on it', async () => {
    const quiet = recording();
    const busy = recording();
    const runners = [
      new CameraRunner({ camera: camera('frozen-cam', '/frozen'), timeZone: 'UTC', detector: quiet, labels: nanodet.labels, sinks: {}, keyframeIntervalS: 1 }),
      new CameraRunner({ camera: camera('busy-cam', '/vtest'), timeZone: 'UTC', detector: busy, labels: nanodet.labels, sinks: {}, keyframeIntervalS: 1 }),
    ];
    for (const r of runners) r.start();
    const deadline = performance.now() + 40_000;
    while (performance.now() < deadline && runners.some((r) => r.stats().frames < 8)) await new Promise((res) => setTimeout(res, 200));
    await Promise.all(runners.map((r) => r.stop()));
    const [frozen, walking] = runners.map((r) => ({ stats: r.stats(), counters: r.analyser.counters }));

    for (const c of [frozen!, walking!]) {
      expect(c.stats.frames).toBeGreaterThanOrEqual(8);
      expect(c.stats.keyframeOnly).toBe(true);
    }
    // Frozen: at most the first frame's full-frame look; every later frame stays yuv.
    expect(quiet.requests.length).toBeLessThanOrEqual(1);
    expect(frozen!.counters.rgbConversions).toBe(quiet.requests.length);
    expect(frozen!.counters.frames).toBeGreaterThanOrEqual(7);
    // Walking people: the detector runs, once per converted frame.
    expect(busy.requests.length).toBeGreaterThanOrEqual(2);
    expect(walking!.counters.rgbConversions).toBe(busy.requests.length);
    expect(walking!.counters.rgbConversions).toBeLessThanOrEqual(walking!.counters.frames);
    // What the detector got is a real RGB picture of the detect size, not grey or empty.
    for (const r of busy.requests) {
      expect(r.image.width).toBe(640);
      expect(r.image.height).toBe(480);
      expect(r.image.data.length).toBe(640 * 480 * 3);
    }
    const px = busy.requests[0]!.image.data;
    let chroma = 0;
    let sum = 0;
    for (let i = 0; i < px.length; i += 3) {
      chroma += Math.abs(px[i]! - px[i + 1]!) + Math.abs(px[i + 1]! - px[i + 2]!);
      sum += px[i]!;
    }
    expect(sum / (px.length / 3)).toBeGreaterThan(40);
    expect(chroma / (px.length / 3)).toBeGreaterThan(2);
  }, 60_000);
});
