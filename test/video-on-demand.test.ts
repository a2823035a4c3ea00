import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessUnitSplitter, CameraIngest, KeyframeDecoder, StartLimiter, type VideoFrame } from '../pipeline/video/index.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

/**
 * On-demand keyframe decoding with real parts: the decoding ffmpeg fed
 * keyframes cut from the fixture clip (each picture must come back before the
 * next keyframe is written, and be the picture ffmpeg itself decodes), and
 * CameraIngest receiving the stream itself (RTSP client, RTP depacketizer) on
 * the GStreamer RTSP simulator.
 */
const VTEST = 'test/fixtures/video/vtest-640x480.mp4';
const GRAY = { width: 160, height: 120 };
const dir = mkdtempSync(join(tmpdir(), 'pw-ondemand-'));
let server: RtspServer;

/** The fixture as the receiving ffmpeg writes it: Annex B, SPS/PPS on keyframes, an AUD per picture. */
function keyframesOf(clip: string): Buffer[] {
  const out = join(dir, 'clip.h264');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', clip, '-map', '0:v:0', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,dump_extra=freq=keyframe,h264_metadata=aud=insert', '-f', 'h264', out]);
  const splitter = new AccessUnitSplitter();
  return splitter.push(readFileSync(out)).filter((u) => u.key).map((u) => u.data);
}

/** ffmpeg's own keyframe pictures of the clip, grey, at the grid size: the reference. */
function referenceKeyframes(clip: string, n: number): Buffer[] {
  const raw = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-skip_frame', 'nokey', '-i', clip, '-frames:v', String(n), '-vf', `scale=${GRAY.width}:${GRAY.height}:flags=area,format=gray`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-'], { maxBuffer: 64 << 20 });
  const size = GRAY.width * GRAY.height;
  return Array.from({ length: raw.length / size }, (_, i) => raw.subarray(i * size, (i + 1) * size));
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
};

beforeAll(async () => {
  server = await startRtspServer();
}, 30_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('KeyframeDecoder', () => {
  it('answers each keyframe with its own picture before the next one is written', async () => {
    const keyframes = keyframesOf(VTEST).slice(0, 5);
    const reference = referenceKeyframes(VTEST, 5);
    expect(keyframes.length).toBe(5);
    expect(reference.length).toBe(5);
    const decoder = new KeyframeDecoder({ rgb: { width: 320, height: 240 }, colour: 'yuv420p', gray: GRAY });
    try {
      for (let i = 0; i < keyframes.length; i++) {
        const picture = await decoder.decode(keyframes[i]!);
        expect(picture, `keyframe ${i}`).not.toBeNull();
        expect(picture!.colour!.length).toBe(320 * 240 * 1.5);
        expect(picture!.gray!.length).toBe(GRAY.width * GRAY.height);
        // The same picture ffmpeg decodes from the file, not the one before it (people move between keyframes).
        const own = meanAbsDiff(picture!.gray!, reference[i]!);
        expect(own, `keyframe ${i}`).toBeLessThan(0.5);
        if (i > 0) expect(meanAbsDiff(picture!.gray!, reference[i - 1]!)).toBeGreaterThan(own + 0.5);
      }
      expect(decoder.stats()).toMatchObject({ decoded: 5, busy: 0, failed: 0, spawns: 1 });
    } finally {
      await decoder.close();
    }
  }, 30_000);

  it('decoders sharing a StartLimiter start one at a time and each still answers its keyframe', async () => {
    const [keyframe] = keyframesOf(VTEST);
    const reference = referenceKeyframes(VTEST, 1)[0]!;
    const limiter = new StartLimiter(1);
    const decoders = [0, 1, 2].map(() => new KeyframeDecoder({ gray: GRAY, startLimiter: limiter }));
    try {
      const answers = decoders.map((d) => d.decode(keyframe!));
      await new Promise((r) => setImmediate(r));
      // One ffmpeg starting, two waiting (each refuses a second keyframe meanwhile: it is busy).
      expect(limiter.stats()).toEqual({ running: 1, waiting: 2 });
      expect(await decoders[2]!.decode(keyframe!)).toBeNull();
      const pictures = await Promise.all(answers);
      for (const p of pictures) expect(meanAbsDiff(p!.gray!, reference)).toBeLessThan(0.5);
      expect(limiter.stats()).toEqual({ running: 0, waiting: 0 });
      // Started: the next keyframe needs no slot.
      const next = decoders[0]!.decode(keyframe!);
      expect(limiter.stats().running).toBe(0);
      expect(await next).not.toBeNull();
    } finally {
      await Promise.all(decoders.map((d) => d.close()));
    }
  }, 30_000);

  it('refuses a keyframe while busy, recovers from garbage by restarting, and stops', async () => {
    const [first, second] = keyframesOf(VTEST);
    const decoder = new KeyframeDecoder({ gray: GRAY, timeoutMs: 1500 });
    try {
      const a = decoder.decode(first!);
      const b = decoder.decode(second!);
      expect(await b).toBeNull();
      expect(await a).not.toBeNull();
      expect(decoder.stats().busy).toBe(1);

      // Not H.264 at all: no picture; the decoder is restarted and the next real keyframe decodes.
      expect(await decoder.decode(Buffer.from('\x00\x00\x00\x01 this is not a picture'.repeat(50)))).toBeNull();
      expect(decoder.stats().failed).toBe(1);
      const again = await decoder.decode(second!);
      expect(again?.gray?.length).toBe(GRAY.width * GRAY.height);
      expect(decoder.stats().spawns).toBe(2);
    } finally {
      await decoder.close();
    }
    expect(await decoder.decode(first!)).toBeNull();
  }, 30_000);
});

/** Frames from an ingest for `ms` after its first one; `onFrame` may ask for more. */
async function run(ingest: CameraIngest, ms: number, onFrame?: (f: VideoFrame) => void): Promise<VideoFrame[]> {
  const frames: VideoFrame[] = [];
  ingest.start();
  let end = performance.now() + 20_000; // until the first frame
  let first = true;
  let pending: Promise<VideoFrame | null> | null = null; // one take() at a time, kept across time-outs
  while (performance.now() < end) {
    pending ??= ingest.next();
    const f = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), 500))]);
    if (!f) continue;
    pending = null;
    if (first) {
      end = performance.now() + ms;
      first = false;
    }
    frames.push(f);
    onFrame?.(f);
  }
  await ingest.stop();
  return frames;
}

describe('CameraIngest, keyframes on demand (RTSP)', () => {
  const options = (path: string) => ({
    camera: path,
    streams: { main: server.url(path) },
    detectFps: 1,
    keyframeIntervalS: 1,
    rgb: { width: 640, height: 480 },
    colour: 'yuv420p' as const,
    gray: GRAY,
  });

  it('decodes a still camera only every quietEveryS, a camera that asks for it at every keyframe', async () => {
    // Two GOPs to learn the quiet level (default 8: a longer test for the same thing).
    const quiet = new CameraIngest({ ...options('/frozen'), onDemand: { quietEveryS: 3, activity: { learnGops: 2 } } });
    const asking = new CameraIngest({ ...options('/vtest'), onDemand: { quietEveryS: 3, activity: { learnGops: 2 } } });
    const [still, walking] = await Promise.all([run(quiet, 10_000), run(asking, 10_000, () => asking.demand(2))]);
    const s = quiet.stats();
    const w = asking.stats();
    for (const st of [s, w]) {
      expect(st.onDemand).toBe(true);
      expect(st.decoder?.failed).toBe(0);
      // The compressed stream itself is all read: 10 pictures a second, one keyframe a second.
      expect(st.accessUnits).toBeGreaterThanOrEqual(90);
      expect(st.keyframes).toBeGreaterThanOrEqual(9);
    }
    // Still picture, stream quiet: the keyframes while learning (the first and the two GOPs after it), then one every 3 s.
    expect(still.length).toBeGreaterThanOrEqual(4);
    expect(still.length).toBeLessThanOrEqual(3 + Math.ceil((s.keyframes - 3) / 3));
    // Received here, not by an ffmpeg: RTP packets counted, none lost on loopback.
    expect(s.rtp?.packets).toBeGreaterThan(90);
    expect(s.rtp?.lost).toBe(0);
    // Asked for at every frame: every keyframe decoded (less the ones arriving while one was being decoded).
    expect(walking.length).toBeGreaterThanOrEqual(w.keyframes - 2);
    // Its socket read every 200 ms while asking; the still one's about once a second once learnt (quietReadEveryMs).
    expect(w.reads).toBeGreaterThanOrEqual(35);
    expect(s.reads).toBeLessThan(0.6 * w.reads);
    for (const f of [...still, ...walking]) {
      expect(f.yuv?.length).toBe(640 * 480 * 1.5);
      expect(f.gray?.length).toBe(GRAY.width * GRAY.height);
      expect(f.keyframeOnly).toBe(true);
    }
    // Frames are numbered in order and stamped when their keyframe arrived, not when decoded.
    for (let i = 1; i < walking.length; i++) {
      expect(walking[i]!.seq).toBe(walking[i - 1]!.seq + 1);
      expect(walking[i]!.monoMs).toBeGreaterThan(walking[i - 1]!.monoMs + 500);
    }
  }, 60_000);

  it('falls back to decoding every keyframe with one ffmpeg when the stream is not H.264', async () => {
    const hevc = join(dir, 'hevc.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc=s=320x240:r=10:d=6', '-c:v', 'libx265', '-x265-params', 'keyint=10:min-keyint=10:log-level=none', hevc]);
    const reasons: (string | null)[] = [];
    const hevcServer = await startRtspServer({ clips: { hevc }, mounts: { '/hevc': 'hevc' } });
    const ingest = new CameraIngest({ camera: 'hevc-cam', streams: { main: hevcServer.url('/hevc') }, detectFps: 1, keyframeIntervalS: 1, gray: GRAY, onDemand: true, backoff: { baseMs: 100, capMs: 200 }, onStatus: (st) => void reasons.push(st.reason) });
    expect(ingest.stats().onDemand).toBe(true);
    const frames = await run(ingest, 4000).finally(() => hevcServer.stop());
    expect(ingest.stats().onDemand).toBe(false);
    // The RTSP session ended for the codec, then ffmpeg connected.
    expect(reasons.slice(0, 2)).toEqual(['codec', null]);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames[0]!.gray!.length).toBe(GRAY.width * GRAY.height);
  }, 30_000);
});
