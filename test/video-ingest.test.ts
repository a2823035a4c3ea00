import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../pipeline/log/index.js';
import { CameraIngest, yuv420pBytes, yuv420pToRgb, type IngestStatus, type VideoFrame } from '../pipeline/video/index.js';
import { freePort, startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

let server: RtspServer;

beforeAll(async () => {
  server = await startRtspServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Collects frames for `ms` after the first one arrives (or gives up after `firstWithinMs`). */
async function collect(ingest: CameraIngest, ms: number, firstWithinMs = 15_000): Promise<VideoFrame[]> {
  const frames: VideoFrame[] = [];
  const giveUp = setTimeout(() => void ingest.stop(), firstWithinMs);
  let end = Infinity;
  while (performance.now() < end) {
    const f = await Promise.race([ingest.next(), new Promise<null>((r) => setTimeout(() => r(null), Math.max(1, Math.min(end - performance.now(), 5000))))]);
    if (!f) {
      if (frames.length === 0 && !ingest.stats().connected && ingest.stats().spawns > 0 && end === Infinity) continue;
      break;
    }
    if (frames.length === 0) {
      clearTimeout(giveUp);
      end = performance.now() + ms;
    }
    frames.push(f);
  }
  clearTimeout(giveUp);
  return frames;
}

/** Runs an ingest until its first disconnect status, then stops it. */
async function firstFailure(url: string, timeoutMs = 3000): Promise<{ status: IngestStatus; log: string }> {
  let log = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      log += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  let resolve!: (s: IngestStatus) => void;
  const failed = new Promise<IngestStatus>((r) => (resolve = r));
  const ingest = new CameraIngest({
    camera: 'cam-x',
    streams: { main: url },
    detectFps: 1,
    gray: { width: 32, height: 24 },
    timeoutMs,
    logger,
    backoff: { baseMs: 60_000, capMs: 60_000 },
    onStatus: (s) => {
      if (!s.connected) resolve(s);
    },
  });
  ingest.start();
  const status = await failed;
  await ingest.stop();
  logger.flush();
  await new Promise((r) => setTimeout(r, 50));
  return { status, log };
}

describe('CameraIngest on a real RTSP server', () => {
  it('delivers paired rgb and grey frames of the exact size at the sampling rate', async () => {
    const ingest = new CameraIngest({
      camera: 'cam-01',
      streams: { main: server.url('/vtest') },
      detectFps: 2,
      rgb: { width: 320, height: 240 },
      gray: { width: 160, height: 120 },
    });
    ingest.start();
    const frames = await collect(ingest, 4000);
    await ingest.stop();

    // 2 frames/s for 4 s after the first: 9 expected; the server and ffmpeg start-up jitter by a frame or two.
    expect(frames.length).toBeGreaterThanOrEqual(7);
    expect(frames.length).toBeLessThanOrEqual(11);
    for (const f of frames) {
      expect(f.camera).toBe('cam-01');
      expect(f.rgb!.length).toBe(320 * 240 * 3);
      expect(f.gray!.length).toBe(160 * 120);
      expect(f.keyframeOnly).toBe(false);
    }
    frames.slice(1).forEach((f, i) => {
      expect(f.seq).toBeGreaterThan(frames[i]!.seq);
      expect(f.time.getTime()).toBeGreaterThanOrEqual(frames[i]!.time.getTime());
    });
    // People walk: consecutive pictures differ.
    expect(frames[0]!.gray!.equals(frames.at(-1)!.gray!)).toBe(false);
    // The grey frame is the same picture as the rgb frame it came with: its luma, at half size.
    for (const f of [frames[1]!, frames.at(-1)!]) expect(meanLumaDiff(f.rgb!, f.gray!)).toBeLessThan(6);
    const stats = ingest.stats();
    expect(stats.frames).toBeGreaterThanOrEqual(frames.length);
    expect(stats.spawns).toBe(1);
    expect(stats.lastReason).toBe('stopped');
  });

  it('pipes colour as yuv420p when asked: half the bytes, the same picture once converted', async () => {
    const ingest = new CameraIngest({
      camera: 'cam-yuv',
      streams: { main: server.url('/vtest') },
      detectFps: 2,
      rgb: { width: 320, height: 240 },
      gray: { width: 160, height: 120 },
      colour: 'yuv420p',
    });
    ingest.start();
    const frames = await collect(ingest, 2000);
    await ingest.stop();
    expect(frames.length).toBeGreaterThanOrEqual(3);
    for (const f of frames) {
      expect(f.rgb).toBeNull();
      expect(f.yuv!.length).toBe(yuv420pBytes(320, 240));
      expect(f.rgbSize).toEqual({ width: 320, height: 240 });
    }
    // Converted, it is the picture the grey frame shows (as in the rgb24 test above).
    const f = frames.at(-1)!;
    expect(meanLumaDiff(yuv420pToRgb(f.yuv!, 320, 240), f.gray!)).toBeLessThan(6);
  });

  it('decodes keyframes only when the GOP allows the rate, one frame per keyframe', async () => {
    const ingest = new CameraIngest({
      camera: 'cam-02',
      streams: { main: server.url('/vtest'), sub: server.url('/cam-missing') },
      forceMain: true,
      detectFps: 1,
      keyframeIntervalS: 1,
      gray: { width: 160, height: 120 },
    });
    expect(ingest.plan.keyframeOnly).toBe(true);
    ingest.start();
    const frames = await collect(ingest, 4000);
    await ingest.stop();
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(frames.length).toBeLessThanOrEqual(6);
    expect(frames.every((f) => f.keyframeOnly && f.gray!.length === 160 * 120)).toBe(true);
  });

  it('drops frames the consumer does not take, counting them, instead of queueing', async () => {
    const ingest = new CameraIngest({ camera: 'cam-03', streams: { main: server.url('/vtest') }, detectFps: 5, gray: { width: 80, height: 60 } });
    ingest.start();
    const first = await ingest.next();
    expect(first).not.toBeNull();
    await new Promise((r) => setTimeout(r, 2500)); // a consumer stuck for 2.5 s
    const latest = ingest.poll();
    const stats = ingest.stats();
    await ingest.stop();
    expect(latest).not.toBeNull();
    expect(stats.dropped).toBeGreaterThanOrEqual(5);
    expect(latest!.seq - first!.seq - 1).toBe(stats.dropped);
    expect(ingest.poll()).toBeNull();
  });
});

describe('the RTSP rig', () => {
  it('serves a dozen camera paths at once, each at its own pace', async () => {
    const rig = await startRtspServer({ cams: 12 });
    const cams = Array.from({ length: 12 }, (_, i) => {
      const path = `/cam/${String(i + 1).padStart(3, '0')}`;
      return new CameraIngest({ camera: path, streams: { main: rig.url(path) }, detectFps: 2, keyframeIntervalS: 1, allowKeyframeOnly: false, gray: { width: 32, height: 24 } });
    });
    try {
      cams.forEach((c) => c.start());
      const deadline = Date.now() + 25_000;
      while (cams.some((c) => c.stats().frames < 4) && Date.now() < deadline) {
        cams.forEach((c) => c.poll());
        await new Promise((r) => setTimeout(r, 200));
      }
      for (const c of cams) {
        expect(c.stats().frames, c.camera).toBeGreaterThanOrEqual(4);
        // One reconnect is allowed: on a loaded 2-core CI machine twelve RTSP
        // handshakes at once can hit ffmpeg's connect timeout, and reconnecting
        // is exactly what ingest should then do.
        expect(c.stats().spawns, c.camera).toBeLessThanOrEqual(2);
      }
    } finally {
      await Promise.all(cams.map((c) => c.stop()));
      await rig.stop();
    }
  });
});

describe('why a stream fails, from real ffmpeg runs', () => {
  it('refused: nothing listens on the port', async () => {
    const port = await freePort();
    const { status, log } = await firstFailure(`rtsp://viewer:hunter2@127.0.0.1:${port}/vtest`);
    expect(status.reason).toBe('refused');
    expect(status.connected).toBe(false);
    expect(status.detail).toMatch(/Connection refused/);
    expect(JSON.stringify(status) + log).not.toContain('hunter2');
    expect(log).toContain('refused');
  });

  it('not_found: the server has no such mount', async () => {
    const { status } = await firstFailure(server.url('/no-such-camera'));
    expect(status.reason).toBe('not_found');
    expect(status.detail).toMatch(/404/);
  });

  it('unauthorized: wrong password, which appears in no status or log line', async () => {
    const secure = await startRtspServer({ user: 'ops', password: 'right-one' });
    try {
      const url = secure.url('/vtest').replace('ops:right-one@', 'ops:Wr0ngPa55@');
      const { status, log } = await firstFailure(url);
      expect(status.reason).toBe('unauthorized');
      expect(status.detail).toMatch(/401/);
      expect(status.detail).toContain('rtsp://***@127.0.0.1');
      expect(JSON.stringify(status) + log).not.toContain('Wr0ngPa55');
      expect(log).toContain('unauthorized');
      // …and the right password gets frames from the same server.
      const ok = new CameraIngest({ camera: 'cam-s', streams: { main: secure.url('/vtest') }, detectFps: 2, gray: { width: 32, height: 24 } });
      ok.start();
      const frame = await ok.next();
      await ok.stop();
      expect(frame?.gray?.length).toBe(32 * 24);
    } finally {
      await secure.stop();
    }
  });

  it('timeout: the server accepts the connection and never answers', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const { status } = await firstFailure(`rtsp://127.0.0.1:${port}/cam`, 1000);
      expect(status.reason).toBe('timeout');
    } finally {
      silent.close();
    }
  });

  it('dns: the host name does not resolve', async () => {
    const { status } = await firstFailure('rtsp://admin:pw@camera-07.invalid/stream1');
    expect(status.reason).toBe('dns');
    expect(status.detail).not.toContain('pw@');
  });

  it('spawn: no ffmpeg binary', async () => {
    let seen: IngestStatus | null = null;
    const ingest = new CameraIngest({
      camera: 'c',
      streams: { main: server.url('/vtest') },
      detectFps: 1,
      gray: { width: 32, height: 24 },
      ffmpegPath: '/nonexistent/ffmpeg',
      onStatus: (s) => (seen ??= s),
    });
    ingest.start();
    await new Promise((r) => setTimeout(r, 300));
    await ingest.stop();
    expect(seen!.reason).toBe('spawn');
    expect(seen!.detail).toMatch(/cannot start ffmpeg/);
  });
});

/** Mean absolute difference between a 160×120 grey frame and the luma of a 320×240 RGB frame averaged over 2×2 blocks. */
function meanLumaDiff(rgb: Uint8Array, gray: Uint8Array): number {
  let diff = 0;
  for (let y = 0; y < 120; y++) {
    for (let x = 0; x < 160; x++) {
      let luma = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = ((2 * y + dy) * 320 + 2 * x + dx) * 3;
        luma += 0.299 * rgb[p]! + 0.587 * rgb[p + 1]! + 0.114 * rgb[p + 2]!;
      }
      diff += Math.abs(luma / 4 - gray[y * 160 + x]!);
    }
  }
  return diff / (160 * 120);
}
