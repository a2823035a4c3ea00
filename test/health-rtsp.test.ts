import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortEvent } from '../pipeline/events/index.js';
import { CameraHealthMonitor, type HealthThresholds } from '../pipeline/health/index.js';
import { CameraIngest } from '../pipeline/video/index.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

const W = 160;
const H = 120;

/** Ingest → health, wired the way a camera worker wires them. */
function watch(camera: string, url: string, thresholds: Partial<HealthThresholds>) {
  const monitor = new CameraHealthMonitor(camera, thresholds);
  const events: PortEvent[] = [];
  const ingest = new CameraIngest({
    camera,
    streams: { main: url },
    detectFps: 4,
    gray: { width: W, height: H },
    timeoutMs: 2000,
    stallTimeoutMs: 4000,
    backoff: { baseMs: 200, capMs: 800, resetAfterMs: 2000 },
    onStatus: (s) => events.push(...monitor.observeStream(s.connected, s.reason, s.at)),
  });
  const ticker = setInterval(() => events.push(...monitor.tick(new Date())), 200);
  ingest.start();
  const loop = (async () => {
    for (;;) {
      const f = await ingest.next();
      if (!f) return;
      events.push(...monitor.observeFrame(f.gray!, W, H, f.time));
    }
  })();
  return {
    monitor,
    ingest,
    events,
    has: (kind: string, phase: string, from = 0) => events.slice(from).some((e) => e.kind === kind && e.phase === phase),
    async stop() {
      clearInterval(ticker);
      await ingest.stop();
      await loop;
    },
  };
}

async function waitFor(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let server: RtspServer;
beforeAll(async () => {
  server = await startRtspServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('camera health over a real RTSP server', () => {
  it('a frozen stream (a still served as video) is frozen, a black one blacked out, the footage neither', async () => {
    const t = { frozenAfterS: 2, confirmS: 1, learnFrames: 4 };
    const frozen = watch('cam-frozen', server.url('/frozen'), t);
    const black = watch('cam-black', server.url('/black'), t);
    const live = watch('cam-live', server.url('/vtest'), t);
    try {
      await waitFor('camera_frozen start', () => frozen.has('camera_frozen', 'start'), 20_000);
      await waitFor('camera_blackout start', () => black.has('camera_blackout', 'start'), 20_000);
      await waitFor('frames from /vtest', () => live.ingest.stats().frames >= 16, 20_000);
    } finally {
      await Promise.all([frozen.stop(), black.stop(), live.stop()]);
    }
    expect(frozen.monitor.state()).toBe('frozen');
    expect(frozen.events.map((e) => e.kind)).toEqual(['camera_frozen']);
    expect(frozen.events[0]).toMatchObject({ camera: 'cam-frozen', phase: 'start' });
    expect(black.monitor.state()).toBe('blackout');
    expect(black.events.map((e) => e.kind)).toEqual(['camera_blackout']);
    // Four seconds of people walking: no fault of any kind.
    expect(live.events).toEqual([]);
    expect(live.monitor.state()).toBe('ok');
  });

  it('stopping the server makes the camera offline with the reason; restarting it recovers', async () => {
    const own = await startRtspServer();
    // Offline after 2 s without a frame: long enough for a reconnect, short for a test.
    // (ffmpeg's own start-up can take longer, so the count starts once frames flow.)
    const cam = watch('cam-07', own.url('/vtest'), { offlineAfterS: 2 });
    let restarted: RtspServer | null = null;
    try {
      await waitFor('first frames', () => cam.ingest.stats().frames >= 4, 20_000);
      await waitFor('no open offline episode', () => cam.monitor.state() !== 'offline', 5_000);
      const mark = cam.events.length;
      const spawnsBefore = cam.ingest.stats().spawns;
      await own.stop();
      await waitFor('camera_offline start', () => cam.has('camera_offline', 'start', mark), 15_000);
      expect(cam.monitor.state()).toBe('offline');
      // While the server is down every attempt is refused, and the health row says so.
      await waitFor('a refused reconnect', () => cam.monitor.record().reason === 'refused', 10_000);
      expect(cam.monitor.record()).toMatchObject({ state: 'offline', connected: false, reason: 'refused' });

      restarted = await startRtspServer({ port: own.port });
      await waitFor('camera_offline end', () => cam.has('camera_offline', 'end', mark), 20_000);
      const framesAtRecovery = cam.ingest.stats().frames;
      await waitFor('frames after recovery', () => cam.ingest.stats().frames >= framesAtRecovery + 4, 10_000);
      expect(cam.ingest.stats().spawns).toBeGreaterThan(spawnsBefore);
      expect(cam.monitor.state()).not.toBe('offline');
      expect(cam.monitor.record()).toMatchObject({ connected: true, reason: null });
      const offline = cam.events.slice(mark).filter((e) => e.kind === 'camera_offline');
      expect(offline.map((e) => e.phase)).toEqual(['start', 'end']);
      expect(offline[1]!.details!.since).toBe(offline[0]!.details!.since);
      expect(offline[1]!.details!.duration_s as number).toBeGreaterThan(2);
    } finally {
      await cam.stop();
      await restarted?.stop();
      await own.stop();
    }
  });
});
