import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../pipeline/log/index.js';
import { annexBToAvccInPlace, buildLiveArgs, CameraStills, LiveViewHub, Mp4BoxScanner, parseSps, type LiveViewer, type Mp4Piece } from '../pipeline/live/index.js';
import { annexBNals, nalType } from './helpers/annexb.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

const VTEST = fileURLToPath(new URL('./fixtures/video/vtest-640x480.mp4', import.meta.url));

// The live view against the real RTSP simulator: one shared RTSP session per
// camera, received and put into fMP4 in this process (ffmpeg for what is not
// RTSP), every viewer gets the init segment and fragments that start at a
// keyframe, real ffmpeg decodes what a viewer got, the session ends with the
// last viewer.

let server: RtspServer;
let hub: LiveViewHub;

beforeAll(async () => {
  server = await startRtspServer({ mounts: { '/dock-001': 'vtest' } });
  hub = new LiveViewHub({ logger: silentLogger() });
});
afterAll(async () => {
  await hub?.close();
  await server?.stop();
});

interface Recorded extends LiveViewer {
  chunks: Buffer[];
  ended: string | null;
  waitFor(n: number): Promise<void>;
  /** Waits until the bytes after the init segment hold `n` whole boxes. */
  waitForBoxes(n: number): Promise<string[]>;
}

function recorder(): Recorded {
  const waiters: Array<() => void> = [];
  const r: Recorded = {
    chunks: [],
    ended: null,
    write(chunk) {
      r.chunks.push(chunk);
      waiters.splice(0).forEach((w) => w());
    },
    backlog: () => 0,
    end(reason) {
      r.ended = reason;
      waiters.splice(0).forEach((w) => w());
    },
    async waitForBoxes(n) {
      for (;;) {
        const types = topBoxes(Buffer.concat(r.chunks.slice(1)));
        if (types.length >= n || r.ended !== null) return types;
        await r.waitFor(r.chunks.length + 1);
      }
    },
    async waitFor(n) {
      const deadline = Date.now() + 30_000;
      while (r.chunks.length < n && r.ended === null) {
        if (Date.now() > deadline) throw new Error(`only ${r.chunks.length} of ${n} chunks in 30 s`);
        await new Promise<void>((res) => {
          waiters.push(res);
          setTimeout(res, 500);
        });
      }
    },
  };
  return r;
}

const boxType = (b: Buffer, at = 0) => b.toString('latin1', at + 4, at + 8);
/** The whole top-level boxes in b, in order. */
function topBoxes(b: Buffer): string[] {
  const types: string[] = [];
  for (let at = 0; at + 8 <= b.length && at + b.readUInt32BE(at) <= b.length; at += b.readUInt32BE(at)) types.push(boxType(b, at));
  return types;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('live view', () => {
  it('copies the H.264 (no decoding, no encoding) into fragmented MP4', () => {
    const { args } = buildLiveArgs({ streams: { main: 'rtsp://127.0.0.1:1/x', sub: 'rtsp://127.0.0.1:1/sub' } });
    expect(args.join(' ')).toContain('-c:v copy');
    expect(args.join(' ')).toContain('-movflags frag_keyframe+empty_moov+default_base_moof');
    expect(args).toContain('rtsp://127.0.0.1:1/x');
    expect(args.join(' ')).not.toMatch(/-vf|-filter|libx264|mpeg1video/);
    expect(buildLiveArgs({ streams: { main: 'rtsp://127.0.0.1:1/x', sub: 'rtsp://127.0.0.1:1/sub' }, sub: true }).url).toBe('rtsp://127.0.0.1:1/sub');
  });

  it('shares one RTSP session between viewers, sends each the init segment first, stops with the last viewer', async () => {
    const streams = { main: server.url('/dock-001') };
    const a = recorder();
    const stopA = hub.watch('dock-001', { streams }, a);
    await a.waitFor(1);
    expect(a.ended).toBeNull();
    // First the init segment: ftyp + moov with the camera's own avcC; then fragments.
    expect(topBoxes(a.chunks[0]!)).toEqual(['ftyp', 'moov']);
    expect(a.chunks[0]!.includes(Buffer.from('avcC'))).toBe(true);
    expect(await a.waitForBoxes(2)).toEqual(['moof', 'mdat']);

    const b = recorder();
    const stopB = hub.watch('dock-001', { streams }, b);
    // Received here, no ffmpeg.
    expect(hub.pids()).toEqual([]);
    expect(hub.stats()).toMatchObject({ streams: 1, viewers: 2, cameras: [{ camera: 'dock-001', via: 'rtsp' }] });
    // A late viewer gets the init segment, then the latest fragment from its start (a keyframe), then live ones.
    expect(topBoxes(b.chunks[0]!)).toEqual(['ftyp', 'moov']);
    expect(b.chunks[0]!.equals(a.chunks[0]!)).toBe(true);
    expect(await b.waitForBoxes(4)).toEqual(['moof', 'mdat', 'moof', 'mdat']);
    // Both see the same bytes from b's first fragment on.
    const tail = Buffer.concat(b.chunks.slice(1));
    expect(Buffer.concat(a.chunks.slice(1)).includes(tail.subarray(0, Math.min(tail.length, 4096)))).toBe(true);

    stopA();
    expect(hub.stats().streams).toBe(1);
    stopB();
    expect(hub.stats().streams).toBe(0);
  });

  it('gives a stream a real decoder plays: every picture, its size, 10 pictures a second from the RTP timestamps', async () => {
    const v = recorder();
    const stop = hub.watch('dock-001', { streams: { main: server.url('/dock-001') } }, v);
    const boxes = await v.waitForBoxes(6);
    stop();
    expect(boxes.slice(0, 6)).toEqual(['moof', 'mdat', 'moof', 'mdat', 'moof', 'mdat']);
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-live-'));
    try {
      const file = join(dir, 'live.mp4');
      writeFileSync(file, Buffer.concat(v.chunks));
      const probe = JSON.parse(
        execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=duration', '-of', 'json', file], { encoding: 'utf8' }),
      ) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[]; format: { duration: string } };
      const [st] = probe.streams;
      expect(st).toMatchObject({ codec_name: 'h264', width: 640, height: 480 });
      const frames = Number(st!.nb_read_frames);
      expect(frames).toBeGreaterThanOrEqual(20); // three GOPs of the 10 fps camera, at least
      expect(frames / Number(probe.format.duration)).toBeCloseTo(10, 0);
      // Decoded from the first picture to the last without a single decoder error.
      const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
      expect(decode.status).toBe(0);
      expect(decode.stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hands a stream that is not RTSP to one ffmpeg copying it into fMP4', async () => {
    const v = recorder();
    const stop = hub.watch('file', { streams: { main: VTEST } }, v);
    await v.waitFor(1);
    expect(topBoxes(v.chunks[0]!)).toEqual(['ftyp', 'moov']);
    expect(hub.pids()).toHaveLength(1);
    expect(hub.stats().cameras).toMatchObject([{ camera: 'file', via: 'ffmpeg' }]);
    expect((await v.waitForBoxes(2)).slice(0, 2)).toEqual(['moof', 'mdat']);
    const [pid] = hub.pids();
    stop();
    expect(hub.pids()).toEqual([]);
    const deadline = Date.now() + 5000;
    while (alive(pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid!)).toBe(false);
  });

  it('reads the picture size and profile from the SPS, cropping included, and says why a bad one is refused', () => {
    // libx264 codes 1080 lines as 1088 and crops 8: the SPS says so (crop units differ with the chroma format).
    for (const [pixFmt, name, profile, chromaFormat] of [['yuv420p', 'high', 100, 1], ['yuv444p', 'high444', 244, 3]] as const) {
      const h264 = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=1920x1080:rate=1', '-frames:v', '1', '-pix_fmt', pixFmt, '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', name, '-f', 'h264', '-']);
      const sps = annexBNals(h264).find((n) => nalType(n) === 7)!;
      expect(parseSps(sps)).toMatchObject({ width: 1920, height: 1080, profile, level: sps[3], chromaFormat, bitDepthLuma: 8 });
      expect(() => parseSps(sps.subarray(0, 6))).toThrow(/H.264 SPS: truncated/);
    }
    const vtest = execFileSync('ffmpeg', ['-v', 'error', '-i', VTEST, '-frames:v', '1', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', '-']);
    const vtestSps = annexBNals(vtest).find((n) => nalType(n) === 7)!;
    expect(parseSps(vtestSps)).toMatchObject({ width: 640, height: 480, profile: vtestSps[1] });
    expect(() => parseSps(Buffer.from([0x68, 0xce, 0x38, 0x80]))).toThrow(/not an SPS/);
  });

  it('turns Annex B start codes into NAL unit lengths in place', () => {
    const unit = Buffer.from([0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 6, 7]);
    expect(annexBToAvccInPlace(unit)).toBe(true);
    expect([...unit]).toEqual([0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 3, 0, 0, 0, 5, 0x65, 4, 5, 6, 7]);
    expect(annexBToAvccInPlace(Buffer.from([0, 0, 1, 0x65, 1]))).toBe(false);
  });

  it('ends its viewers with the reason when the camera cannot be reached', async () => {
    const v = recorder();
    hub.watch('ghost', { streams: { main: server.url('/no-such-camera') } }, v);
    await v.waitFor(1);
    expect(v.chunks).toHaveLength(0);
    expect(v.ended).toMatch(/camera stream ended/);
    expect(hub.pids()).toEqual([]);
  });

  it('grabs a recent still, shares it while fresh, and says why a camera gives none', async () => {
    const stills = new CameraStills({ maxAgeMs: 60_000 });
    const streams = { main: server.url('/dock-001') };
    const a = stills.get('dock-001', streams);
    expect(stills.get('dock-001', streams)).toBe(a);
    const jpeg = await a;
    expect(jpeg.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))).toBe(true);
    await expect(stills.get('ghost', { main: server.url('/no-such-camera') })).rejects.toThrow(/no still from the camera/);
  });

  it('refuses a stream that is not fragmented MP4 with the box at fault', () => {
    const f = new Mp4BoxScanner(() => undefined);
    const bad = Buffer.alloc(16);
    bad.writeUInt32BE(4, 0);
    bad.write('junk', 4, 'latin1');
    expect(() => f.push(bad)).toThrow(/box "junk" claims 4 bytes/);
  });

  it('finds box boundaries across chunks and relays the bytes unchanged', () => {
    const box = (type: string, n: number) => {
      const b = Buffer.alloc(8 + n, type.charCodeAt(0));
      b.writeUInt32BE(8 + n, 0);
      b.write(type, 4, 'latin1');
      return b;
    };
    const large = Buffer.alloc(16 + 30, 7);
    large.writeUInt32BE(1, 0);
    large.write('mdat', 4, 'latin1');
    large.writeBigUInt64BE(46n, 8);
    const stream = Buffer.concat([box('ftyp', 12), box('moov', 40), box('moof', 20), box('mdat', 100), box('moof', 20), large]);
    const pieces: Mp4Piece[] = [];
    const f = new Mp4BoxScanner((p) => pieces.push({ ...p, bytes: Buffer.from(p.bytes) }));
    for (let i = 0; i < stream.length; i += 7) f.push(stream.subarray(i, i + 7));
    expect(Buffer.concat(pieces.map((p) => p.bytes)).equals(stream)).toBe(true);
    expect(pieces.filter((p) => p.start).map((p) => p.box)).toEqual(['ftyp', 'moov', 'moof', 'mdat', 'moof', 'mdat']);
    expect(pieces.filter((p) => p.end).map((p) => p.box)).toEqual(['ftyp', 'moov', 'moof', 'mdat', 'moof', 'mdat']);
  });
});
