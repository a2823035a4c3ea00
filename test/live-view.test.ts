import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../pipeline/log/index.js';
import { buildLiveArgs, CameraStills, LiveViewHub, Mp4BoxScanner, type LiveViewer, type Mp4Piece } from '../pipeline/live/index.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

// The live view against the real RTSP simulator and a real ffmpeg: one shared
// process per camera, every viewer gets the init segment and fragments that
// start at a keyframe, a real decoder plays what a viewer got, the process
// ends with the last viewer.

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

  it('shares one ffmpeg between viewers, sends each the init segment first, stops with the last viewer', async () => {
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
    expect(hub.pids()).toHaveLength(1);
    expect(hub.stats()).toMatchObject({ streams: 1, viewers: 2 });
    // A late viewer gets the init segment, then the fragment in progress from its start (a keyframe), then live ones.
    expect(topBoxes(b.chunks[0]!)).toEqual(['ftyp', 'moov']);
    expect(b.chunks[0]!.equals(a.chunks[0]!)).toBe(true);
    expect(await b.waitForBoxes(4)).toEqual(['moof', 'mdat', 'moof', 'mdat']);
    // Both see the same bytes from b's first fragment on.
    const tail = Buffer.concat(b.chunks.slice(1));
    expect(Buffer.concat(a.chunks.slice(1)).includes(tail.subarray(0, Math.min(tail.length, 4096)))).toBe(true);

    const [pid] = hub.pids();
    stopA();
    expect(hub.pids()).toEqual([pid]);
    stopB();
    expect(hub.pids()).toEqual([]);
    const deadline = Date.now() + 5000;
    while (alive(pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid!)).toBe(false);
  });

  it('gives a stream a real decoder plays: every picture, its size, 10 pictures a second as the camera sends', async () => {
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
