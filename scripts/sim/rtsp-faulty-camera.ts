/**
 * Cameras that misbehave, over real RTSP on loopback: a small RTSP server
 * (OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN; RTP interleaved
 * over TCP only) that packetizes H.264 itself (RFC 6184, FU-A) so it can send
 * what a broken camera sends. The GStreamer simulator (rtsp-server.py) serves
 * well-formed streams only.
 *
 * Mounts:
 *   /good      the footage (640×480), looped: a control
 *   /garbage   a valid session whose RTP packets carry random bytes under the
 *              header of an IDR slice (no SPS or PPS ever): every frame reaches
 *              a decoder, and none can be decoded
 *   /resize    the footage at 640×480, then at 320×240 (a new SPS mid-stream),
 *              alternating every `segmentS` seconds: a camera reconfigured live
 *   /cut       the footage for `cutAfterS` seconds, then half an RTP packet and
 *              the TCP connection closed (a camera that dies mid-frame); the same
 *              on every reconnection
 *
 *   node --import tsx scripts/sim/rtsp-faulty-camera.ts [--port 8555]
 *
 * prints `READY port=N` and serves until SIGTERM/SIGINT.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessUnitSplitter } from '../../pipeline/video/annexb.js';

const FOOTAGE = fileURLToPath(new URL('../../test/fixtures/video/vtest-640x480.mp4', import.meta.url));
const FPS = 10;
const MAX_PAYLOAD = 1400;

export type FaultyMount = 'good' | 'garbage' | 'resize' | 'cut';

/** NAL header of an IDR slice (nal_ref_idc 3). */
const NAL_IDR_HEADER = 0x65;
export const FAULTY_MOUNTS: readonly FaultyMount[] = ['good', 'garbage', 'resize', 'cut'];

export interface FaultyCameraOptions {
  port?: number;
  /** Seconds of footage per resolution on /resize (and of /good's loop). Default 6. */
  segmentS?: number;
  /** Seconds /cut streams before cutting the connection mid-packet. Default 3. */
  cutAfterS?: number;
  footage?: string;
}

export interface FaultyCameraServer {
  port: number;
  url(mount: FaultyMount): string;
  /** Sessions played and connections cut, per mount. */
  stats(): Record<FaultyMount, { plays: number; cuts: number }>;
  stop(): Promise<void>;
}

/** The footage as H.264 access units (AUD before each, SPS/PPS at every keyframe), one GOP a second. */
function encode(footage: string, dir: string, name: string, startS: number, seconds: number, size: string): Buffer[] {
  const out = join(dir, `${name}.h264`);
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-ss', String(startS), '-t', String(seconds), '-i', footage, '-an',
    '-vf', `scale=${size},fps=${FPS}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(FPS), '-bf', '0',
    '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264', out,
  ]);
  const split = new AccessUnitSplitter();
  // A trailing AUD completes the last unit.
  return split.push(Buffer.concat([readFileSync(out), Buffer.from([0, 0, 0, 1, 9, 0xf0])])).map((u) => u.data);
}

/** NAL units of one access unit, start codes removed. */
function nals(au: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < au.length; i++) if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) starts.push(i);
  return starts.map((s, k) => {
    const next = starts[k + 1];
    const end = next === undefined ? au.length : au[next - 1] === 0 ? next - 1 : next;
    return au.subarray(s + 3, end);
  });
}

class RtpSender {
  private seq = Math.floor(Math.random() * 65536);
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  constructor(private readonly socket: Socket) {}

  /** One interleaved RTP packet on channel 0; returns its bytes (the caller may cut them). */
  packet(payload: Buffer, timestamp: number, marker: boolean): Buffer {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = (marker ? 0x80 : 0) | 96;
    h.writeUInt16BE(this.seq, 2);
    this.seq = (this.seq + 1) & 0xffff;
    h.writeUInt32BE(timestamp >>> 0, 4);
    h.writeUInt32BE(this.ssrc, 8);
    const rtp = Buffer.concat([h, payload]);
    const frame = Buffer.alloc(4);
    frame[0] = 0x24;
    frame[1] = 0;
    frame.writeUInt16BE(rtp.length, 2);
    return Buffer.concat([frame, rtp]);
  }

  /** An access unit as RTP packets (single NAL units or FU-A fragments), marker on the last. */
  accessUnit(au: Buffer, timestamp: number): Buffer[] {
    const out: Buffer[] = [];
    const units = nals(au).filter((n) => n.length > 0 && (n[0]! & 0x1f) !== 9);
    units.forEach((nal, k) => {
      const last = k === units.length - 1;
      if (nal.length <= MAX_PAYLOAD) {
        out.push(this.packet(nal, timestamp, last));
        return;
      }
      const indicator = (nal[0]! & 0xe0) | 28;
      const type = nal[0]! & 0x1f;
      for (let off = 1; off < nal.length; off += MAX_PAYLOAD) {
        const end = Math.min(nal.length, off + MAX_PAYLOAD);
        const header = (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
        out.push(this.packet(Buffer.concat([Buffer.from([indicator, header]), nal.subarray(off, end)]), timestamp, last && end === nal.length));
      }
    });
    return out;
  }
}

function sdp(): string {
  return ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=faulty camera', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 packetization-mode=1', 'a=control:trackID=0', ''].join('\r\n');
}

export async function startFaultyCameraServer(o: FaultyCameraOptions = {}): Promise<FaultyCameraServer> {
  const segmentS = o.segmentS ?? 6;
  const cutAfterS = o.cutAfterS ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'pw-faulty-cam-'));
  let big: Buffer[];
  let small: Buffer[];
  try {
    const footage = o.footage ?? FOOTAGE;
    big = encode(footage, dir, 'big', 0, segmentS, '640:480');
    small = encode(footage, dir, 'small', segmentS, segmentS, '320:240');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const streams: Record<Exclude<FaultyMount, 'garbage'>, Buffer[]> = { good: big, resize: [...big, ...small], cut: big };
  const counts = Object.fromEntries(FAULTY_MOUNTS.map((m) => [m, { plays: 0, cuts: 0 }])) as Record<FaultyMount, { plays: number; cuts: number }>;
  const sockets = new Set<Socket>();

  const play = (socket: Socket, mount: FaultyMount): (() => void) => {
    counts[mount].plays++;
    const rtp = new RtpSender(socket);
    let n = 0;
    const startedAt = Date.now();
    const timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      // Frames due by the clock: a late timer catches up instead of slowing the stream.
      const due = Math.floor(((Date.now() - startedAt) / 1000) * FPS);
      for (; n <= due; n++) {
        const ts = n * (90_000 / FPS);
        if (mount === 'garbage') {
          // Random bodies under an IDR slice header. Bytes random from the first would make a frame a
          // keyframe only by chance (a slice header, an IDR type, no forbidden bit: about one in two
          // hundred), so whether a camera ever tried to decode one was luck; a random SPS, on the other
          // hand, can parse as a picture size, and ffmpeg then shows tiny pictures of noise.
          for (let p = 0; p < 3; p++) {
            const body = randomBytes(100 + Math.floor(Math.random() * 1300));
            // first_mb_in_slice 0 (ue(v) "1"): each packet starts a new picture, which references a PPS nobody sent.
            body[0]! |= 0x80;
            socket.write(rtp.packet(Buffer.concat([Buffer.of(NAL_IDR_HEADER), body]), ts, p === 2));
          }
          continue;
        }
        const units = streams[mount];
        const packets = rtp.accessUnit(units[n % units.length]!, ts);
        if (mount === 'cut' && n >= cutAfterS * FPS) {
          // Half of a packet in the middle of a picture, then the connection dies.
          const p = packets[Math.floor(packets.length / 2)]!;
          for (const q of packets.slice(0, Math.floor(packets.length / 2))) socket.write(q);
          socket.write(p.subarray(0, Math.floor(p.length / 2)));
          counts.cut.cuts++;
          clearInterval(timer);
          socket.end(() => socket.destroy());
          return;
        }
        for (const q of packets) socket.write(q);
      }
    }, 1000 / FPS / 2);
    return () => clearInterval(timer);
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let stopPlaying: (() => void) | null = null;
    socket.on('close', () => {
      sockets.delete(socket);
      stopPlaying?.();
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        // RTCP from the client, interleaved: skipped.
        if (buf.length >= 4 && buf[0] === 0x24) {
          const len = buf.readUInt16BE(2);
          if (buf.length < 4 + len) return;
          buf = buf.subarray(4 + len);
          continue;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const lines = head.split('\r\n');
        const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim() ?? null;
        const bodyLen = Number(header('content-length') ?? 0);
        if (buf.length < end + 4 + bodyLen) return;
        buf = buf.subarray(end + 4 + bodyLen);
        const [method, uri] = lines[0]!.split(' ');
        const cseq = header('cseq') ?? '0';
        const path = new URL(uri ?? '/', 'rtsp://x').pathname.replace(/\/trackID=\d+$/, '').replace(/\/$/, '');
        const mount = path.slice(1) as FaultyMount;
        const reply = (status: string, extra: string[] = [], body = '') =>
          socket.write([`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, ...extra, ...(body ? [`Content-Length: ${Buffer.byteLength(body)}`] : []), '', body].join('\r\n'));
        if (method !== 'OPTIONS' && !FAULTY_MOUNTS.includes(mount)) {
          reply('404 Not Found');
          continue;
        }
        switch (method) {
          case 'OPTIONS':
            reply('200 OK', ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN']);
            break;
          case 'DESCRIBE':
            reply('200 OK', [`Content-Base: ${uri!.replace(/\/?$/, '/')}`, 'Content-Type: application/sdp'], sdp());
            break;
          case 'SETUP':
            if (!/TCP/i.test(header('transport') ?? '')) reply('461 Unsupported Transport');
            else reply('200 OK', ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1', 'Session: 4f5e6d7c;timeout=60']);
            break;
          case 'PLAY':
            reply('200 OK', ['Session: 4f5e6d7c', 'Range: npt=0.000-']);
            stopPlaying ??= play(socket, mount);
            break;
          case 'GET_PARAMETER':
            reply('200 OK', ['Session: 4f5e6d7c']);
            break;
          case 'TEARDOWN':
            reply('200 OK', ['Session: 4f5e6d7c']);
            stopPlaying?.();
            socket.end();
            break;
          default:
            reply('405 Method Not Allowed');
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: (mount) => `rtsp://127.0.0.1:${port}/${mount}`,
    stats: () => JSON.parse(JSON.stringify(counts)),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--port');
  const srv = await startFaultyCameraServer(i > 0 ? { port: Number(process.argv[i + 1]) } : {});
  process.stdout.write(`READY port=${srv.port} mounts=${FAULTY_MOUNTS.map((m) => `/${m}`).join(',')}\n`);
  const quit = () => void srv.stop().then(() => process.exit(0));
  process.once('SIGTERM', quit);
  process.once('SIGINT', quit);
}
