/**
 * H264Depacketizer (pipeline/video/rtp-h264.ts) on real H.264 sent as RTP.
 *
 * Data: 4 s of the repo's vtest clip (test/fixtures/video, see SOURCE there:
 * Main profile, no B-frames, a keyframe every 10 pictures) copied at test time
 * into an Annex B elementary stream (`-c:v copy -bsf:v h264_mp4toannexb -f h264`).
 * The test cuts it into NAL units, groups them into pictures itself (a new
 * picture starts at an AUD/SPS/PPS/SEI after a slice, or at a slice whose
 * first_mb_in_slice is 0) and sends them through a small reference packetizer
 * (RFC 6184 mode 1: single NAL unit packets up to an MTU of 1200, FU-A above,
 * optionally STAP-A for SPS+PPS; marker on each picture's last packet; 90 kHz
 * timestamps; sequence numbers and timestamps starting just before they wrap).
 *
 * Ground truth is independent of the code under test: picture and keyframe
 * counts from ffprobe, slice bytes from the test's own NAL split, pictures from
 * ffmpeg decoding the whole stream. No count or size is hard-coded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessUnit } from '../pipeline/video/annexb.js';
import { H264Depacketizer, type H264DepacketizerOptions, type H264DepacketizerStats } from '../pipeline/video/rtp-h264.js';
import { annexBNals, nalType } from './helpers/annexb.js';
import { prng } from './helpers/prng.js';

const MP4 = fileURLToPath(new URL('./fixtures/video/vtest-640x480.mp4', import.meta.url));
const W = 640;
const H = 480;
const MTU = 1200;
const TS_STEP = 9000; // 10 fps at 90 kHz
const SEQ0 = 65500; // wraps after 36 packets
const TS0 = 0x1_0000_0000 - 5 * TS_STEP; // wraps at the 6th picture
const START = Buffer.from([0, 0, 0, 1]);

/** Runs a tool; throws with its stderr unless it exits 0 and prints nothing on stderr. */
function run(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 64 << 20 });
  const err = r.stderr?.toString().trim() ?? '';
  if (r.error || r.status !== 0 || err) throw new Error(`${cmd} ${args.join(' ')}: status ${r.status}, ${r.error?.message ?? ''} ${err}`);
  return r.stdout;
}

const isSlice = (nal: Buffer) => nalType(nal) === 1 || nalType(nal) === 5;


interface Picture {
  nals: Buffer[];
  key: boolean;
}

/** Groups NAL units into pictures (H.264 7.4.1.2.3, the cases a camera stream has). */
function groupPictures(nals: Buffer[]): Picture[] {
  const pics: Picture[] = [];
  let cur: Buffer[] = [];
  let hasSlice = false;
  for (const nal of nals) {
    const t = nalType(nal);
    const startsPicture = hasSlice && ((t >= 6 && t <= 9) || ((t === 1 || t === 5) && (nal[1]! & 0x80) !== 0));
    if (startsPicture) {
      pics.push({ nals: cur, key: cur.some((n) => nalType(n) === 5) });
      cur = [];
      hasSlice = false;
    }
    cur.push(nal);
    if (t === 1 || t === 5) hasSlice = true;
  }
  if (cur.length) pics.push({ nals: cur, key: cur.some((n) => nalType(n) === 5) });
  return pics;
}

interface PacketizeOptions {
  /** SPS+PPS (and whatever small non-slice NALs follow) in one STAP-A. Default true. */
  stap?: boolean;
  /** Marker on each picture's last packet. Default true. */
  marker?: boolean;
  /** An AUD in front of every picture (cameras often send one). Default false. */
  aud?: boolean;
  /** Which pictures keep their SPS/PPS. Default 'all'. */
  params?: 'all' | 'first' | 'none';
  /** CSRCs, header extensions and padding on some packets. Default false. */
  headerVariety?: boolean;
  seq0?: number;
  pt?: number;
}

interface Sent {
  packets: Buffer[];
  /** The picture each packet belongs to. */
  picOf: number[];
}

function rtp(o: { seq: number; ts: number; marker: boolean; pt: number; payload: Buffer; cc?: number; extWords?: number; pad?: number }): Buffer {
  const cc = o.cc ?? 0;
  const ext = o.extWords === undefined ? 0 : 4 + 4 * o.extWords;
  const pad = o.pad ?? 0;
  const b = Buffer.alloc(12 + 4 * cc + ext + o.payload.length + pad, 0x5a);
  b[0] = 0x80 | (pad ? 0x20 : 0) | (o.extWords !== undefined ? 0x10 : 0) | cc;
  b[1] = (o.marker ? 0x80 : 0) | o.pt;
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.ts >>> 0, 4);
  b.writeUInt32BE(0x12345678, 8);
  let off = 12 + 4 * cc;
  if (o.extWords !== undefined) {
    b.writeUInt16BE(0xbede, off);
    b.writeUInt16BE(o.extWords, off + 2);
    off += ext;
  }
  o.payload.copy(b, off);
  if (pad) b[b.length - 1] = pad;
  return b;
}

const AUD = Buffer.from([0x09, 0xf0]);

/** The reference packetizer: RFC 6184 non-interleaved mode. */
function packetize(pics: Picture[], o: PacketizeOptions = {}): Sent {
  const packets: Buffer[] = [];
  const picOf: number[] = [];
  let seq = o.seq0 ?? SEQ0;
  const pt = o.pt ?? 96;
  pics.forEach((pic, p) => {
    let nals = pic.nals;
    const params = o.params ?? 'all';
    if (params === 'none' || (params === 'first' && p > 0)) nals = nals.filter((n) => nalType(n) !== 7 && nalType(n) !== 8);
    if (o.aud) nals = [AUD, ...nals];
    const payloads: Buffer[] = [];
    for (let i = 0; i < nals.length; ) {
      const nal = nals[i]!;
      // STAP-A: consecutive non-slice NALs while they fit.
      if ((o.stap ?? true) && !isSlice(nal)) {
        const group: Buffer[] = [];
        let size = 1;
        while (i < nals.length && !isSlice(nals[i]!) && size + 2 + nals[i]!.length <= MTU) {
          group.push(nals[i]!);
          size += 2 + nals[i]!.length;
          i++;
        }
        if (group.length >= 2) {
          const nri = Math.max(...group.map((n) => n[0]! & 0x60));
          payloads.push(Buffer.concat([Buffer.from([nri | 24]), ...group.flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n])]));
          continue;
        }
        if (group.length === 1) {
          payloads.push(group[0]!);
          continue;
        }
      }
      i++;
      if (nal.length <= MTU) {
        payloads.push(nal);
        continue;
      }
      const body = nal.subarray(1);
      for (let f = 0; f < body.length; f += MTU - 2) {
        const s = f === 0 ? 0x80 : 0;
        const e = f + MTU - 2 >= body.length ? 0x40 : 0;
        payloads.push(Buffer.concat([Buffer.from([(nal[0]! & 0xe0) | 28, s | e | nalType(nal)]), body.subarray(f, f + MTU - 2)]));
      }
    }
    payloads.forEach((payload, k) => {
      const i = packets.length;
      const v = o.headerVariety ?? false;
      packets.push(
        rtp({
          seq: seq++,
          ts: TS0 + p * TS_STEP,
          marker: (o.marker ?? true) && k === payloads.length - 1,
          pt,
          payload,
          cc: v && i % 11 === 3 ? 2 : 0,
          extWords: v && i % 7 === 2 ? 1 + (i % 3) : undefined,
          pad: v && i % 5 === 1 ? 1 + (i % 4) : 0,
        }),
      );
      picOf.push(p);
    });
  });
  return { packets, picOf };
}

interface Result {
  units: AccessUnit[];
  stats: H264DepacketizerStats;
  flushed: AccessUnit[];
}

/**
 * Pushes every packet through a scratch buffer that is overwritten after each
 * call (packets are views valid only during the call), then flushes.
 */
function depacketize(packets: Buffer[], o?: H264DepacketizerOptions): Result {
  const d = new H264Depacketizer(o);
  const scratch = Buffer.alloc(4096);
  const units: AccessUnit[] = [];
  for (const p of packets) {
    const view = p.length <= scratch.length ? scratch.subarray(0, p.length) : Buffer.alloc(p.length);
    p.copy(view);
    units.push(...d.push(view));
    view.fill(0xa5);
  }
  const flushed = d.flush();
  return { units: [...units, ...flushed], stats: d.stats(), flushed };
}

/** What a unit's data should be for a picture: its NALs minus AUDs, 4-byte start codes, `front` NALs first. */
function expectedData(pic: Picture, front: Buffer[] = []): Buffer {
  return Buffer.concat([...front, ...pic.nals.filter((n) => nalType(n) !== 9)].flatMap((n) => [START, n]));
}

/** The picture without its SPS/PPS (as sent with `params: 'none'`, or `'first'` after the first). */
const withoutParams = (pic: Picture): Picture => ({ ...pic, nals: pic.nals.filter((n) => nalType(n) !== 7 && nalType(n) !== 8) });

const sliceSum = (pic: Picture) => pic.nals.filter(isSlice).reduce((s, n) => s + n.length, 0);
const pictureOf = (u: AccessUnit) => ((u.timestamp! - TS0) >>> 0) / TS_STEP;

/** Every unit is a whole picture, byte for byte, and the pictures are those of `expectPics` in order. */
function expectIntact(units: AccessUnit[], pics: Picture[], expectPics: number[]): void {
  expect(units.map(pictureOf)).toEqual(expectPics);
  for (const u of units) {
    const pic = pics[pictureOf(u)]!;
    expect(u.key).toBe(pic.key);
    expect(u.sliceBytes).toBe(sliceSum(pic));
    expect(u.data.equals(expectedData(pic))).toBe(true);
  }
}

const range = (n: number, skip: number[] = []) => Array.from({ length: n }, (_, i) => i).filter((i) => !skip.includes(i));

/** The indices of picture `p`'s packets. */
const packetsOf = (sent: Sent, p: number) => range(sent.packets.length).filter((i) => sent.picOf[i] === p);


let dir = '';
let stream: Buffer;
let pics: Picture[];
let probeFrames = 0;
let probeKeys: boolean[] = [];
let reference: Buffer; // ffmpeg's gray decode of the whole stream, W×H per picture
let keyIdx: number[]; // pictures that are keyframes
let sps: Buffer;
let pps: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'portwatch-rtp-h264-'));
  const file = join(dir, 'vtest.h264');
  run('ffmpeg', ['-v', 'error', '-nostdin', '-i', MP4, '-t', '4', '-map', '0:v:0', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', file]);
  stream = readFileSync(file);
  // Cameras send no B-frames; neither may the fixture (decode order = display order, one slice per ffprobe frame).
  const bframes = run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=has_b_frames', '-of', 'csv=p=0', file]).toString().trim();
  expect(bframes).toBe('0');
  probeFrames = Number(run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]).toString().trim());
  // JSON, not CSV: the first frame's x264 SEI turns up in CSV as an extra field and an extra line.
  const frames = JSON.parse(run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_frames', '-show_entries', 'frame=key_frame', '-of', 'json', file]).toString()) as {
    frames: { key_frame: number }[];
  };
  probeKeys = frames.frames.map((f) => f.key_frame === 1);
  reference = run('ffmpeg', ['-v', 'error', '-nostdin', '-f', 'h264', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1']);
  pics = groupPictures(annexBNals(stream));
  keyIdx = range(pics.length).filter((i) => pics[i]!.key);
  const nals = pics.flatMap((p) => p.nals);
  sps = nals.find((n) => nalType(n) === 7)!;
  pps = nals.find((n) => nalType(n) === 8)!;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Decodes an Annex B keyframe on its own (from a file, as the brief's decoder would get it) to gray. */
function decodeAlone(data: Buffer, name: string): Buffer {
  const f = join(dir, name);
  writeFileSync(f, data);
  return run('ffmpeg', ['-v', 'error', '-nostdin', '-f', 'h264', '-i', f, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1']);
}

function meanAbsDiff(a: Buffer, b: Buffer): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

const referenceFrame = (pic: number) => reference.subarray(pic * W * H, (pic + 1) * W * H);

describe('the fixture and the reference packetizer', () => {
  it('groups the stream into as many pictures and keyframes as ffprobe counts', () => {
    expect(probeFrames).toBeGreaterThan(20);
    expect(pics.length).toBe(probeFrames);
    expect(pics.map((p) => p.key)).toEqual(probeKeys);
    expect(keyIdx.length).toBeGreaterThanOrEqual(3);
    expect(reference.length).toBe(probeFrames * W * H);
  });

  it('exercises single NAL, STAP-A, FU-A, wrapping sequence numbers and timestamps', () => {
    const { packets } = packetize(pics);
    const types = packets.map((p) => p[12]! & 0x1f);
    expect(types).toContain(24);
    expect(types).toContain(28);
    expect(types.some((t) => t >= 1 && t <= 23)).toBe(true);
    expect(SEQ0 + packets.length).toBeGreaterThan(0x10000);
    expect(TS0 + (pics.length - 1) * TS_STEP).toBeGreaterThan(0xffffffff);
  });
});

describe('H264Depacketizer: whole streams', () => {
  const variants: [string, PacketizeOptions][] = [
    ['STAP-A, AUDs, CSRCs/extensions/padding', { stap: true, aud: true, headerVariety: true }],
    ['single NAL units only', { stap: false }],
  ];
  for (const [name, opts] of variants) {
    it(`gives back every picture byte for byte (${name})`, () => {
      const { packets } = packetize(pics, opts);
      const { units, stats, flushed } = depacketize(packets);
      expect(units.length).toBe(probeFrames);
      expect(units.filter((u) => u.key).length).toBe(probeKeys.filter(Boolean).length);
      expect(units.map((u) => u.key)).toEqual(probeKeys);
      expectIntact(units, pics, range(pics.length));
      for (const u of units) {
        const nals = annexBNals(u.data);
        expect(u.data.subarray(0, 4).equals(START)).toBe(true);
        expect(nals.some((n) => nalType(n) === 9)).toBe(false);
        // Slice NALs equal the original's; sliceBytes is their sum.
        const orig = pics[pictureOf(u)]!.nals.filter(isSlice);
        expect(nals.filter(isSlice).map((n) => n.toString('hex'))).toEqual(orig.map((n) => n.toString('hex')));
        expect(u.sliceBytes).toBe(nals.filter(isSlice).reduce((s, n) => s + n.length, 0));
      }
      expect(flushed).toEqual([]); // the last marker already ended the last unit
      expect(stats).toEqual({
        packets: packets.length,
        units: probeFrames,
        keyframes: probeKeys.filter(Boolean).length,
        lost: 0,
        damaged: 0,
        malformed: 0,
        unsupported: 0,
        oversized: 0,
        outOfSequence: 0,
      });
    });
  }

  it('ends units at a timestamp change when no marker bit is set; flush() gives the last', () => {
    const { packets } = packetize(pics, { marker: false });
    expect(packets.every((p) => (p[1]! & 0x80) === 0)).toBe(true);
    const d = new H264Depacketizer();
    const completedBy: number[] = [];
    const units: AccessUnit[] = [];
    packets.forEach((p, i) => {
      for (const u of d.push(p)) {
        units.push(u);
        completedBy.push(i);
      }
    });
    // Each unit came out with the first packet of the next picture.
    const { picOf } = packetize(pics, { marker: false });
    completedBy.forEach((i, k) => {
      expect(picOf[i]).toBe(k + 1);
      expect(picOf[i - 1]).toBe(k);
    });
    expect(units.length).toBe(probeFrames - 1);
    const last = d.flush();
    expect(last.length).toBe(1);
    expect(d.flush()).toEqual([]);
    expectIntact([...units, ...last], pics, range(pics.length));
    expect(d.stats().damaged).toBe(0);
  });

  it('drops units larger than maxUnitBytes and keeps the rest', () => {
    const max = 5000;
    const big = range(pics.length).filter((i) => expectedData(pics[i]!).length > max);
    expect(big.length).toBeGreaterThan(0);
    expect(big.length).toBeLessThan(pics.length);
    const { units, stats } = depacketize(packetize(pics).packets, { maxUnitBytes: max });
    expect(stats.oversized).toBe(big.length);
    expectIntact(units, pics, range(pics.length, big));
  });

  it('takes only the given payload type', () => {
    const { packets } = packetize(pics, { pt: 96 });
    const other = packetize(pics.slice(0, 3), { pt: 97, seq0: 1000 }).packets;
    // Another payload type interleaved (a second stream on the same socket) does not disturb it.
    const mixed = packets.flatMap((p, i) => (i < other.length ? [p, other[i]!] : [p]));
    const r = depacketize(mixed, { payloadType: 96 });
    expect(r.stats.unsupported).toBe(other.length);
    expectIntact(r.units, pics, range(pics.length));
    const none = depacketize(packets, { payloadType: 97 });
    expect(none.units).toEqual([]);
    expect(none.stats.unsupported).toBe(packets.length);
  });
});

describe('H264Depacketizer: keyframes decode on their own', () => {
  it('a depacketized keyframe decodes alone to the same picture as in the whole stream', () => {
    const { units } = depacketize(packetize(pics).packets);
    const k = keyIdx[1]!;
    const unit = units[k]!;
    expect(unit.key).toBe(true);
    const gray = decodeAlone(unit.data, 'key2.h264');
    expect(gray.length).toBe(W * H);
    const ref = referenceFrame(k);
    expect(meanAbsDiff(gray, ref)).toBeLessThan(1);
    // …and that picture is not flat, and not some other picture of the clip.
    expect(meanAbsDiff(gray, Buffer.alloc(W * H, gray[0]))).toBeGreaterThan(5);
    expect(meanAbsDiff(gray, referenceFrame(keyIdx[0]!))).toBeGreaterThan(1);
  });

  it('puts the options’ SPS/PPS in front of a keyframe that has none, and it decodes', () => {
    const { packets } = packetize(pics, { params: 'none' });
    const without = depacketize(packets);
    const k = keyIdx[1]!;
    // Without parameter sets there is nothing to put in front.
    expect(annexBNals(without.units[k]!.data).map(nalType)).toEqual([5]);
    const { units } = depacketize(packets, { parameterSets: [sps, pps] });
    expect(units.length).toBe(probeFrames);
    for (const i of keyIdx) {
      expect(units[i]!.data.equals(expectedData(withoutParams(pics[i]!), [sps, pps]))).toBe(true);
      expect(units[i]!.sliceBytes).toBe(sliceSum(pics[i]!));
    }
    // P-frames get nothing added.
    const p = range(pics.length).find((i) => !pics[i]!.key)!;
    expect(annexBNals(units[p]!.data).map(nalType)).toEqual([1]);
    const gray = decodeAlone(units[k]!.data, 'key2-options.h264');
    expect(gray.length).toBe(W * H);
    expect(meanAbsDiff(gray, referenceFrame(k))).toBeLessThan(1);
  });

  it('remembers in-band SPS/PPS for later keyframes, ahead of the options’', () => {
    const { packets } = packetize(pics, { params: 'first' });
    // The options' SPS differs (a changed level_idc): the stream's own must win once seen.
    const stale = Buffer.from(sps);
    stale[3] = stale[3]! ^ 0x01;
    const { units } = depacketize(packets, { parameterSets: [stale, pps] });
    expect(units.length).toBe(probeFrames);
    expect(units[keyIdx[0]!]!.data.equals(expectedData(pics[keyIdx[0]!]!))).toBe(true);
    for (const i of keyIdx.slice(1)) expect(units[i]!.data.equals(expectedData(withoutParams(pics[i]!), [sps, pps]))).toBe(true);
    const k = keyIdx[2]!;
    const gray = decodeAlone(units[k]!.data, 'key3-remembered.h264');
    expect(meanAbsDiff(gray, referenceFrame(k))).toBeLessThan(1);
  });
});

describe('H264Depacketizer: loss, reordering, duplicates', () => {
  it('drops a keyframe missing a packet from the middle of its FU-A run; the rest comes out whole', () => {
    const sent = packetize(pics);
    const k = keyIdx[1]!;
    const fus = packetsOf(sent, k).filter((i) => (sent.packets[i]![12]! & 0x1f) === 28);
    expect(fus.length).toBeGreaterThanOrEqual(3);
    const drop = fus[Math.floor(fus.length / 2)]!;
    const { units, stats } = depacketize(sent.packets.filter((_, i) => i !== drop));
    expect(stats.damaged).toBe(1);
    expect(stats.lost).toBe(1);
    expect(stats.keyframes).toBe(keyIdx.length - 1);
    expectIntact(units, pics, range(pics.length, [k]));
  });

  it('drops a keyframe whose last (marker) packet was lost; the next picture comes out', () => {
    const sent = packetize(pics);
    const k = keyIdx[1]!;
    const last = packetsOf(sent, k).at(-1)!;
    const { units, stats } = depacketize(sent.packets.filter((_, i) => i !== last));
    expect(stats).toMatchObject({ damaged: 1, lost: 1 });
    expectIntact(units, pics, range(pics.length, [k]));
  });

  it('a P-frame lost whole costs that picture only', () => {
    const sent = packetize(pics);
    const p = range(pics.length).find((i) => i > keyIdx[1]! && !pics[i]!.key && packetsOf(sent, i).length === 1)!;
    const { units, stats } = depacketize(sent.packets.filter((_, i) => sent.picOf[i] !== p));
    expect(stats).toMatchObject({ damaged: 0, lost: 1 });
    expectIntact(units, pics, range(pics.length, [p]));
  });

  it('after a gap, a unit whose first slice does not start the picture is dropped', () => {
    // A picture cut in two slices by hand: losing the packet of its first slice must not
    // let the second slice pass as the whole picture.
    const p = range(pics.length).find((i) => !pics[i]!.key)!;
    const slice = pics[p]!.nals.find(isSlice)!;
    const second = Buffer.from(slice);
    second[1] = second[1]! & 0x7f; // first_mb_in_slice no longer 0 (its first bit cleared)
    const mod = pics.map((pic, i) => (i === p ? { nals: [slice, second], key: false } : pic));
    const sent = packetize(mod);
    const first = packetsOf(sent, p)[0]!;
    const { units, stats } = depacketize(sent.packets.filter((_, i) => i !== first));
    expect(stats).toMatchObject({ damaged: 1, lost: 1 });
    expectIntact(units, pics, range(pics.length, [p]));
  });

  it('a lost SPS/PPS packet before an IDR costs nothing: the remembered ones go in front', () => {
    const sent = packetize(pics);
    const k = keyIdx[1]!;
    const stap = packetsOf(sent, k)[0]!;
    expect(sent.packets[stap]![12]! & 0x1f).toBe(24);
    const { units, stats } = depacketize(sent.packets.filter((_, i) => i !== stap));
    expect(stats).toMatchObject({ damaged: 0, lost: 1 });
    expectIntact(units, pics, range(pics.length));
  });

  it('counts reordered and duplicated packets and does not crash', () => {
    const sent = packetize(pics);
    const k = keyIdx[1]!;
    const fus = packetsOf(sent, k).filter((i) => (sent.packets[i]![12]! & 0x1f) === 28);
    const a = fus[1]!;
    const order = range(sent.packets.length);
    [order[a], order[a + 1]] = [order[a + 1]!, order[a]!]; // two fragments swapped
    const p = range(pics.length).find((i) => i > k + 1 && !pics[i]!.key)!;
    const dup = packetsOf(sent, p)[0]!;
    const withDup = order.flatMap((i) => (i === dup ? [i, i] : [i])); // one packet twice
    const { units, stats } = depacketize(withDup.map((i) => sent.packets[i]!));
    expect(stats.packets).toBe(sent.packets.length + 1);
    expect(stats.lost).toBe(1); // the swapped fragment looked lost…
    expect(stats.outOfSequence).toBe(2); // …then came late; the duplicate was ignored
    expect(stats.damaged).toBe(1);
    expectIntact(units, pics, range(pics.length, [k]));
  });

  it('ignores a stray packet far off in sequence, and follows a sender that restarts its numbering', () => {
    const sent = packetize(pics);
    const stray = rtp({ seq: SEQ0 + 20000, ts: 1234, marker: true, pt: 96, payload: pics[1]!.nals[0]! });
    const mid = packetsOf(sent, 5).at(-1)! + 1; // between pictures 5 and 6
    const r1 = depacketize([...sent.packets.slice(0, mid), stray, ...sent.packets.slice(mid)]);
    expect(r1.stats).toMatchObject({ outOfSequence: 1, lost: 0, damaged: 0 });
    expectIntact(r1.units, pics, range(pics.length));

    // From picture 15 on (a single-packet P-frame), the sender numbers from elsewhere.
    const p = range(pics.length).find((i) => i >= 15 && !pics[i]!.key && packetsOf(sent, i).length === 1)!;
    const from = packetsOf(sent, p)[0]!;
    const renumbered = sent.packets.map((pk, i) => {
      if (i < from) return pk;
      const c = Buffer.from(pk);
      c.writeUInt16BE((c.readUInt16BE(2) + 30000) & 0xffff, 2);
      return c;
    });
    const r2 = depacketize(renumbered);
    // Its first packet was held back until the next one confirmed the jump: that picture is lost.
    expect(r2.stats).toMatchObject({ outOfSequence: 1, lost: 0, damaged: 0 });
    expectIntact(r2.units, pics, range(pics.length, [p]));
  });
});

describe('H264Depacketizer: bad input', () => {
  it('counts broken RTP headers as malformed without touching the stream around them', () => {
    const sent = packetize(pics);
    const real = sent.packets[sent.packets.length - 1]!;
    const rnd = prng(7);
    const junk: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from([0x80]),
      real.subarray(0, 11), // truncated header
      Buffer.concat([Buffer.from([(real[0]! & 0x3f) | 0x40]), real.subarray(1)]), // version 1
      Buffer.concat([Buffer.from([real[0]! & 0x3f]), real.subarray(1)]), // version 0
      Buffer.concat([Buffer.from([0x8f]), real.subarray(1, 40)]), // 15 CSRCs in a 40-byte packet
      rtp({ seq: 0, ts: 0, marker: false, pt: 96, payload: Buffer.from([0x65]), extWords: 9 }).subarray(0, 20), // extension runs past the end
      Buffer.concat([Buffer.from([0x90]), real.subarray(1, 13)]), // X set, no room for the extension header
      (() => {
        const b = rtp({ seq: 0, ts: 0, marker: false, pt: 96, payload: Buffer.from([0x41, 0x9a, 1]), pad: 1 });
        b[b.length - 1] = 200; // padding reaching back past the header
        return b;
      })(),
      (() => {
        const b = rtp({ seq: 0, ts: 0, marker: false, pt: 96, payload: Buffer.from([0x41, 0x9a, 1]), pad: 1 });
        b[b.length - 1] = 0; // padding count 0
        return b;
      })(),
      ...Array.from({ length: 200 }, () => {
        const b = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
        b[0] = (b[0]! & 0x3f) | (rnd() < 0.5 ? 0x40 : 0xc0); // random bytes, never version 2
        return b;
      }),
    ];
    // Junk after every fifth packet, in the middle of FU-A runs too.
    let j = 0;
    const mixed = sent.packets.flatMap((p, i) => (i % 5 === 2 && j < junk.length ? [p, junk[j++]!] : [p]));
    while (j < junk.length) mixed.push(junk[j++]!);
    const { units, stats } = depacketize(mixed);
    expect(stats.malformed).toBe(junk.length);
    expect(stats).toMatchObject({ damaged: 0, lost: 0, packets: mixed.length });
    expectIntact(units, pics, range(pics.length));
  });

  it('counts bad payloads (malformed, broken fragments, unsupported) and keeps the good units around them', () => {
    const sent = packetize(pics);
    const slice = Buffer.from([0x41, 0x9a, 0x02, 0x03]);
    // Each sent between two pictures, with a timestamp of its own and the marker set: it forms a
    // unit of its own that is dropped.
    const bad: [string, Buffer, 'malformed' | 'unsupported' | 'broken'][] = [
      ['zero-length payload', Buffer.alloc(0), 'malformed'],
      ['forbidden bit', Buffer.from([0xc1, 0x9a, 2]), 'malformed'],
      ['NAL type 0', Buffer.from([0x00, 1, 2]), 'malformed'],
      ['STAP-A size past the end', Buffer.concat([Buffer.from([0x18, 0x00, 0x10]), slice]), 'malformed'],
      ['STAP-A size 0', Buffer.concat([Buffer.from([0x18, 0x00, 0x04]), slice, Buffer.from([0, 0])]), 'malformed'],
      ['STAP-A trailing byte', Buffer.concat([Buffer.from([0x18, 0x00, 0x04]), slice, Buffer.from([7])]), 'malformed'],
      ['STAP-A empty', Buffer.from([0x18]), 'malformed'],
      ['FU-A without FU header', Buffer.from([0x7c]), 'malformed'],
      ['FU-A end without start', Buffer.from([0x7c, 0x45, 1, 2, 3]), 'broken'],
      ['FU-A middle without start', Buffer.from([0x7c, 0x05, 1, 2, 3]), 'broken'],
      ['FU-A start that never ends', Buffer.from([0x7c, 0x85, 0x88, 2, 3]), 'broken'],
      ['STAP-B', Buffer.from([0x19, 0, 1, 0, 2, 0x41, 0x9a]), 'unsupported'],
      ['MTAP16', Buffer.from([0x1a, 0, 1]), 'unsupported'],
      ['MTAP24', Buffer.from([0x1b, 0, 1]), 'unsupported'],
      ['FU-B', Buffer.from([0x1d, 0x85, 0, 1, 2]), 'unsupported'],
    ];
    const out: Buffer[] = [];
    let seq = SEQ0;
    let next = 0;
    sent.packets.forEach((p, i) => {
      const c = Buffer.from(p);
      c.writeUInt16BE(seq++ & 0xffff, 2);
      out.push(c);
      const endsPicture = sent.picOf[i + 1] !== sent.picOf[i];
      if (endsPicture && next < bad.length) out.push(rtp({ seq: seq++, ts: 777 + next, marker: true, pt: 96, payload: bad[next++]![1] }));
    });
    expect(next).toBe(bad.length);
    const { units, stats } = depacketize(out);
    expect(stats.malformed).toBe(bad.filter((b) => b[2] === 'malformed').length);
    expect(stats.unsupported).toBe(bad.filter((b) => b[2] === 'unsupported').length);
    expect(stats.damaged).toBe(bad.length);
    expect(stats.lost).toBe(0);
    expectIntact(units, pics, range(pics.length));
  });

  it('drops the unit a bad STAP-A lands in, and only that one', () => {
    const sent = packetize(pics);
    const k = keyIdx[2]!;
    const [first, second] = packetsOf(sent, k);
    // Inside the keyframe, between its STAP-A and first fragment, same timestamp, no marker.
    const bad = rtp({ seq: 0, ts: TS0 + k * TS_STEP, marker: false, pt: 96, payload: Buffer.from([0x18, 0x00, 0x20, 0x67]) });
    const out = [...sent.packets.slice(0, second), bad, ...sent.packets.slice(second)].map((p, i) => {
      const c = Buffer.from(p);
      c.writeUInt16BE((SEQ0 + i) & 0xffff, 2);
      return c;
    });
    expect(first).toBe(second! - 1);
    const { units, stats } = depacketize(out);
    expect(stats).toMatchObject({ malformed: 1, damaged: 1, lost: 0 });
    expectIntact(units, pics, range(pics.length, [k]));
  });

  it('survives fuzzing (random packets and mutated real ones), then resynchronises on a good stream', () => {
    const rnd = prng(20240611);
    const sent = packetize(pics);
    const d = new H264Depacketizer();
    let pushed = 0;
    const junkUnits: AccessUnit[] = [];
    for (let n = 0; n < 3000; n++) {
      let b: Buffer;
      if (rnd() < 0.3) {
        b = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
      } else {
        // A real packet with a few bytes changed (header or payload) and maybe cut short.
        b = Buffer.from(sent.packets[Math.floor(rnd() * sent.packets.length)]!);
        for (let m = 1 + Math.floor(rnd() * 4); m > 0; m--) b[Math.floor(rnd() * Math.min(b.length, 40))] = Math.floor(rnd() * 256);
        if (rnd() < 0.3) b = b.subarray(0, Math.floor(rnd() * b.length));
      }
      junkUnits.push(...d.push(b));
      pushed++;
    }
    for (const u of junkUnits) {
      expect(u.data.subarray(0, 4).equals(START)).toBe(true);
      expect(u.sliceBytes).toBeLessThanOrEqual(u.data.length);
    }
    junkUnits.push(...d.flush());
    const fuzzed = d.stats();
    expect(fuzzed.packets).toBe(pushed);
    expect(fuzzed.malformed).toBeGreaterThan(0);
    // Now the camera's real stream, numbered far from what the fuzz left behind: after at most a
    // unit or two of resynchronisation every picture is whole. (The first may have had its SPS/PPS
    // packet held back by the probation, and gets whatever parameter sets the fuzz left in front.)
    const units: AccessUnit[] = [];
    for (const p of packetize(pics, { seq0: (SEQ0 + 30000) & 0xffff }).packets) units.push(...d.push(p));
    units.push(...d.flush());
    expect(units.length).toBeGreaterThanOrEqual(pics.length - 2);
    const got = units.map(pictureOf);
    expect(got).toEqual(range(pics.length).slice(pics.length - units.length));
    for (const u of units) {
      const slices = annexBNals(u.data).filter(isSlice);
      expect(Buffer.concat(slices).equals(Buffer.concat(pics[pictureOf(u)]!.nals.filter(isSlice)))).toBe(true);
    }
    expectIntact(units.slice(1), pics, got.slice(1));
  });
});
