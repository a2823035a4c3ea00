/**
 * AccessUnitSplitter (pipeline/video/annexb.ts) and StreamActivity
 * (pipeline/video/stream-activity.ts) on real H.264.
 *
 * Data: the repo's clips in test/fixtures/video (OpenCV's vtest footage, see
 * SOURCE and LICENSE there): vtest (people walking, 10 fps, a keyframe every
 * 10 frames, no B-frames), still (one picture held 4 s) and black. At test time
 * each clip is turned into an Annex B byte stream with an AUD before every picture
 * (`ffmpeg -c:v copy -bsf:v h264_mp4toannexb,dump_extra=freq=keyframe,
 * h264_metadata=aud=insert -f h264`), kept in a temp dir. ffmpeg must stay silent: without
 * `h264_mp4toannexb` an MP4 input made it drop every keyframe with an error
 * while still exiting 0.
 *
 * Ground truth comes from the MP4 itself: ffprobe's packets (one per picture, its
 * size and keyframe flag) and the packets' bytes (`ffmpeg -c copy -f data`), cut
 * into NAL units by their 4-byte AVCC lengths (SPS/PPS live in the avcC box, not in
 * packets). No count or size is hard-coded.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_UNIT_DELIMITER,
  AccessUnitSplitter,
  StreamActivity,
  type AccessUnit,
  type GopSummary,
} from '../pipeline/video/index.js';
import { annexBNals, nalType } from './helpers/annexb.js';
import { prng } from './helpers/prng.js';

const CLIPS = ['vtest', 'still', 'black'] as const;
type Clip = (typeof CLIPS)[number];
const mp4 = (clip: Clip) => fileURLToPath(new URL(`./fixtures/video/${clip}-640x480.mp4`, import.meta.url));

interface Packet {
  size: number;
  key: boolean;
}

/** Runs a tool; throws with its stderr unless it exits 0 and prints nothing on stderr. */
function run(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 64 << 20 });
  const err = r.stderr?.toString().trim() ?? '';
  if (r.error || r.status !== 0 || err) throw new Error(`${cmd} ${args.join(' ')}: status ${r.status}, ${r.error?.message ?? ''} ${err}`);
  return r.stdout;
}

/** ffprobe's packets of the clip's video stream, in order. */
function probePackets(file: string): Packet[] {
  const csv = run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=size,flags', '-of', 'csv=p=0', file]).toString();
  return csv
    .trim()
    .split('\n')
    .map((line) => {
      const [size, flags] = line.split(',');
      return { size: Number(size), key: flags!.includes('K') };
    });
}

/**
 * The clip as the product's receiving ffmpeg writes it (Annex B, SPS/PPS before every
 * keyframe, an AUD before every picture), kept in `dir`.
 */
function receivedStream(clip: Clip, dir: string): Buffer {
  // h264_mp4toannexb before dump_extra: an MP4's parameter sets are length-prefixed.
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', mp4(clip), '-map', '0:v:0', '-c:v', 'copy'];
  args.push('-bsf:v', 'h264_mp4toannexb,dump_extra=freq=keyframe,h264_metadata=aud=insert', '-f', 'h264', 'pipe:1');
  const bytes = run('ffmpeg', args);
  writeFileSync(join(dir, `${clip}.h264`), bytes);
  return bytes;
}

/**
 * The clip's packets as stored in the MP4, each cut into its NAL units by their
 * 4-byte AVCC lengths (`-f data` writes the packets back to back; ffprobe gives their sizes).
 */
function mp4Nals(clip: Clip, probe: Packet[]): Buffer[][] {
  const all = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', mp4(clip), '-map', '0:v:0', '-c:v', 'copy', '-f', 'data', 'pipe:1']);
  expect(all.length).toBe(probe.reduce((n, p) => n + p.size, 0));
  let off = 0;
  return probe.map(({ size }) => {
    const nals: Buffer[] = [];
    for (let i = off; i < off + size; ) {
      const len = all.readUInt32BE(i);
      nals.push(all.subarray(i + 4, i + 4 + len));
      i += 4 + len;
    }
    off += size;
    return nals;
  });
}



/** Offsets of every `00 00 00 01 09` (a 4-byte start code and an AUD header with nal_ref_idc 0). */
function audOffsets(stream: Buffer): number[] {
  const aud = Buffer.from([0, 0, 0, 1, 9]);
  const at: number[] = [];
  for (let p = stream.indexOf(aud); p >= 0; p = stream.indexOf(aud, p + 1)) at.push(p);
  return at;
}

/** Each GOP's P-frames and their mean slice bytes, from ffprobe's packets (one slice NAL per P-frame, 4-byte length prefix). */
function gopsFromProbe(packets: Packet[]): { mean: number; pFrames: number }[] {
  const gops: { mean: number; pFrames: number }[] = [];
  let sum = 0;
  let n = 0;
  for (const p of packets) {
    if (p.key) {
      if (n > 0) gops.push({ mean: sum / n, pFrames: n });
      sum = 0;
      n = 0;
    } else {
      sum += p.size - 4;
      n++;
    }
  }
  if (n > 0) gops.push({ mean: sum / n, pFrames: n });
  return gops;
}


/** Feeds `stream` to a fresh splitter in chunks of the sizes `next()` gives. */
function splitInChunks(stream: Buffer, next: () => number): { units: AccessUnit[]; splitter: AccessUnitSplitter } {
  const splitter = new AccessUnitSplitter();
  const units: AccessUnit[] = [];
  for (let off = 0; off < stream.length; ) {
    const n = next();
    units.push(...splitter.push(stream.subarray(off, off + n)));
    off += n;
  }
  return { units, splitter };
}

const fingerprint = (u: AccessUnit) => ({ key: u.key, sliceBytes: u.sliceBytes, sha1: createHash('sha1').update(u.data).digest('hex') });

/** Pushes each stream in turn through one splitter into one StreamActivity; returns the GOP summaries per stream. */
function judge(activity: StreamActivity, splitter: AccessUnitSplitter, streams: Buffer[]): GopSummary[][] {
  return streams.map((s) => {
    const out: GopSummary[] = [];
    for (const u of splitter.push(s)) {
      const g = activity.observe(u.key, u.sliceBytes);
      if (g) out.push(g);
    }
    return out;
  });
}

/** One synthetic GOP: `pFrames` P-frames of `bytes` each, closed by the next keyframe. */
function gop(activity: StreamActivity, bytes: number, pFrames = 9): GopSummary {
  for (let i = 0; i < pFrames; i++) expect(activity.observe(false, bytes)).toBeNull();
  const g = activity.observe(true, 30_000);
  expect(g).not.toBeNull();
  return g!;
}

/** A fresh StreamActivity that learnt one quiet GOP of `quiet` bytes, then judging one of `bytes`. */
function judgedAfter(quiet: number, bytes: number): GopSummary {
  const activity = new StreamActivity({ learnGops: 1 });
  activity.observe(true, 30_000);
  gop(activity, quiet);
  return gop(activity, bytes);
}

let dir = '';
const stream = {} as Record<Clip, Buffer>;
const packets = {} as Record<Clip, Packet[]>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-annexb-'));
  for (const clip of CLIPS) {
    stream[clip] = receivedStream(clip, dir);
    packets[clip] = probePackets(mp4(clip));
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('AccessUnitSplitter', () => {
  it.each(CLIPS)('%s: one unit per picture, holding its NAL units, keyframe flag and slice bytes as stored in the MP4', (clip) => {
    const probe = packets[clip];
    expect(probe.length).toBeGreaterThan(30);
    expect(probe.filter((p) => p.key).length).toBeGreaterThanOrEqual(4);

    const splitter = new AccessUnitSplitter();
    const units = splitter.push(stream[clip]);
    // The last picture has no AUD after it yet, so it is not complete.
    expect(units).toHaveLength(probe.length - 1);
    const last = splitter.push(ACCESS_UNIT_DELIMITER);
    expect(last).toHaveLength(1);
    units.push(...last);
    expect(splitter.push(ACCESS_UNIT_DELIMITER)).toEqual([]); // an AUD alone is no picture
    expect(splitter.skippedBytes).toBe(0);
    expect(splitter.oversized).toBe(0);

    expect(units.map((u) => u.key)).toEqual(probe.map((p) => p.key));
    const stored = mp4Nals(clip, probe);
    units.forEach((u, i) => {
      const what = `${clip} unit ${i}`;
      const startCode = u.data.subarray(0, 3).equals(Buffer.from([0, 0, 1])) || u.data.subarray(0, 4).equals(Buffer.from([0, 0, 0, 1]));
      expect(startCode, what).toBe(true);
      const nals = annexBNals(u.data);
      const types = nals.map(nalType);
      expect(types[0], what).not.toBe(9);
      expect(types, what).not.toContain(9);
      expect(u.sliceBytes, what).toBeGreaterThan(0);
      expect(u.sliceBytes, what).toBeLessThanOrEqual(u.data.length);
      // Exactly the picture's NAL units as stored in the MP4, plus SPS/PPS in-band.
      const own = nals.filter((n) => nalType(n) !== 7 && nalType(n) !== 8);
      expect(own.length, what).toBe(stored[i]!.length);
      own.forEach((n, k) => expect(n.equals(stored[i]![k]!), `${what}, NAL ${k}`).toBe(true));
      const slices = stored[i]!.filter((n) => nalType(n) === 1 || nalType(n) === 5);
      expect(u.sliceBytes, what).toBe(slices.reduce((sum, n) => sum + n.length, 0));
      if (u.key) {
        // dump_extra: SPS and PPS ahead of the IDR slice, so the unit decodes on its own.
        expect(types.indexOf(7), what).toBeGreaterThanOrEqual(0);
        expect(types.indexOf(8), what).toBeGreaterThan(types.indexOf(7));
        expect(types.lastIndexOf(5), what).toBeGreaterThan(types.indexOf(8));
        expect(u.sliceBytes, what).toBeLessThanOrEqual(probe[i]!.size - 4);
      } else {
        // A P-frame is one slice NAL: the MP4 packet is exactly it plus its 4-byte length.
        expect(types, what).toEqual([1]);
        expect(u.sliceBytes, what).toBe(probe[i]!.size - 4);
      }
    });
  });

  it('gives the same units whatever the chunk boundaries', () => {
    for (const clip of CLIPS) {
      const expected = new AccessUnitSplitter().push(stream[clip]).map(fingerprint);
      expect(expected.length).toBe(packets[clip].length - 1);
      const rnd = prng(0x5eed + clip.length);
      const chunkings: [string, () => number][] = [
        ['7', () => 7],
        ['188', () => 188],
        ['4096', () => 4096],
        // Mostly small, sometimes whole pictures and more: 1 … 65536 bytes.
        ['random', () => 1 + Math.floor(rnd() ** 3 * 65536)],
      ];
      // Byte by byte costs O(unit²) copying (~1 s for still's 30 kB keyframes, ~6 s for all of vtest): vtest skips it.
      if (clip !== 'vtest') chunkings.unshift(['1', () => 1]);
      for (const [name, next] of chunkings) {
        const { units, splitter } = splitInChunks(stream[clip], next);
        expect(units.map(fingerprint), `${clip}, chunks of ${name}`).toEqual(expected);
        expect(splitter.oversized).toBe(0);
      }
    }
  });

  it('finds AUDs behind 3-byte start codes as well', () => {
    for (const clip of ['still', 'vtest'] as const) {
      const s = stream[clip];
      const expected = new AccessUnitSplitter().push(s).map(fingerprint);
      const long = Buffer.from([0, 0, 0, 1, 9]);
      const parts: Buffer[] = [];
      let from = 0;
      for (const at of audOffsets(s)) {
        parts.push(s.subarray(from, at), long.subarray(1));
        from = at + long.length;
      }
      parts.push(s.subarray(from));
      const short = Buffer.concat(parts);
      expect(short.length).toBe(s.length - packets[clip].length);
      const sizes: [string, () => number][] = [['whole', () => short.length], ['7', () => 7], ['4096', () => 4096]];
      if (clip === 'still') sizes.push(['1', () => 1]);
      for (const [name, next] of sizes) {
        expect(splitInChunks(short, next).units.map(fingerprint), `${clip}, chunks of ${name}`).toEqual(expected);
      }
    }
  });

  it('marks a unit key for an IDR slice, not for SPS/PPS in front of a P-frame', () => {
    const [idr, p] = new AccessUnitSplitter().push(stream.vtest);
    expect(idr!.key).toBe(true);
    expect(p!.key).toBe(false);
    const nals = annexBNals(idr!.data);
    const withStartCode = (n: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 1]), n]);
    const sps = withStartCode(nals.find((n) => nalType(n) === 7)!);
    const pps = withStartCode(nals.find((n) => nalType(n) === 8)!);
    const idrOnly = Buffer.concat(nals.filter((n) => nalType(n) === 5).map(withStartCode));

    const splitter = new AccessUnitSplitter();
    const units = splitter.push(
      Buffer.concat([ACCESS_UNIT_DELIMITER, sps, pps, p!.data, ACCESS_UNIT_DELIMITER, idrOnly, ACCESS_UNIT_DELIMITER]),
    );
    expect(units.map((u) => ({ key: u.key, sliceBytes: u.sliceBytes }))).toEqual([
      { key: false, sliceBytes: p!.sliceBytes },
      { key: true, sliceBytes: idr!.sliceBytes },
    ]);
    expect(units[0]!.data.equals(Buffer.concat([sps, pps, p!.data]))).toBe(true);
  });

  it('skips and counts the bytes before the first AUD, leaving the units after it unchanged', () => {
    const s = stream.vtest;
    const expected = new AccessUnitSplitter().push(s).map(fingerprint);

    // 1000 bytes of noise (no zero byte, so no start code in them) ahead of the stream.
    const rnd = prng(42);
    const noise = Buffer.from(Array.from({ length: 1000 }, () => 1 + Math.floor(rnd() * 255)));
    const afterNoise = new AccessUnitSplitter();
    expect(afterNoise.push(Buffer.concat([noise, s])).map(fingerprint)).toEqual(expected);
    expect(afterNoise.skippedBytes).toBe(1000);
    // Byte by byte too: the 4-byte start code of the first AUD must not be cut and counted.
    for (const size of [1, 2, 3, 4]) {
      const small = new AccessUnitSplitter();
      const head = Buffer.concat([noise, s.subarray(0, 20_000)]);
      for (let i = 0; i < head.length; i += size) small.push(head.subarray(i, i + size));
      expect(small.skippedBytes, `chunks of ${size}`).toBe(1000);
    }
    // The splitter copies what it keeps: a caller reusing one read buffer gets the same units.
    const reused = Buffer.alloc(4096);
    const copying = new AccessUnitSplitter();
    const fromReused = [];
    for (let i = 0; i < s.length; i += 4096) {
      const n = s.copy(reused, 0, i, i + 4096);
      fromReused.push(...copying.push(reused.subarray(0, n)));
    }
    expect(fromReused.map(fingerprint)).toEqual(expected);

    // Joined mid-picture: half-way through the keyframe that opens the second GOP.
    const auds = audOffsets(s);
    expect(auds).toHaveLength(packets.vtest.length); // one AUD per picture, nothing else looks like one
    const k = packets.vtest.findIndex((p, i) => i > 0 && p.key);
    expect(k).toBeGreaterThan(0);
    const cut = Math.floor((auds[k]! + auds[k + 1]!) / 2);
    expect(auds[k + 1]! - cut).toBeGreaterThan(1500 + 4);
    const joined = new AccessUnitSplitter();
    const units = joined.push(s.subarray(cut, cut + 1500)); // no AUD in there yet: all held or skipped
    expect(units).toEqual([]);
    units.push(...joined.push(s.subarray(cut + 1500)));
    expect(joined.skippedBytes).toBe(auds[k + 1]! - cut);
    expect(units.map(fingerprint)).toEqual(expected.slice(k + 1));
  });

  it('reset() forgets a partial unit when the stream restarts', () => {
    const s = stream.still;
    const whole = new AccessUnitSplitter().push(s);
    const expected = whole.map(fingerprint);
    const auds = audOffsets(s);
    const cut = Math.floor((auds[0]! + auds[1]!) / 2); // inside the first keyframe

    const restarted = new AccessUnitSplitter();
    expect(restarted.push(s.subarray(0, cut))).toEqual([]);
    restarted.reset();
    expect(restarted.push(s).map(fingerprint)).toEqual(expected);
    expect(restarted.skippedBytes).toBe(0);

    // Restarted mid-picture: the bytes up to the next AUD are skipped, not glued to the torn unit.
    const rejoined = new AccessUnitSplitter();
    rejoined.push(s.subarray(0, cut));
    rejoined.reset();
    expect(rejoined.push(s.subarray(cut)).map(fingerprint)).toEqual(expected.slice(1));
    expect(rejoined.skippedBytes).toBe(auds[1]! - cut);

    // Without the reset the torn half-picture comes out as a unit of its own.
    const torn = new AccessUnitSplitter();
    torn.push(s.subarray(0, cut));
    const units = torn.push(s);
    expect(units).toHaveLength(expected.length + 1);
    const firstData = auds[1]! - whole[0]!.data.length; // where the first unit's data starts, after its AUD
    expect(units[0]!.data.equals(s.subarray(firstData, cut))).toBe(true);
    expect(units.slice(1).map(fingerprint)).toEqual(expected);
  });
});

describe('StreamActivity on real streams', () => {
  it('never calls the looping still clip active', () => {
    const expected = gopsFromProbe(packets.still);
    expect(expected).toHaveLength(packets.still.filter((p) => p.key).length);
    // Fewer GOPs than the quiet history holds (8), so the level is the loudest of them all.
    expect(expected.length).toBeLessThanOrEqual(8);
    const activity = new StreamActivity();
    const gops = judge(activity, new AccessUnitSplitter(), Array(5).fill(stream.still)).flat();
    // Every GOP but the last is judged (the last waits for a keyframe after it).
    expect(gops).toHaveLength(5 * expected.length - 1);
    gops.forEach((g, i) => {
      expect(g.meanPBytes, `GOP ${i}`).toBeCloseTo(expected[i % expected.length]!.mean, 9);
      expect(g.pFrames, `GOP ${i}`).toBe(expected[i % expected.length]!.pFrames);
    });
    // The first 8 GOPs are learnt (every keyframe decoded meanwhile), then judged: never active.
    expect(gops.slice(0, 8).every((g) => g.learning && g.quietLevel === null && !g.active)).toBe(true);
    const judged = gops.slice(8);
    expect(judged.every((g) => !g.learning && g.quietLevel !== null)).toBe(true);
    expect(judged.filter((g) => g.active)).toEqual([]);
    expect(activity.active).toBe(false);
    expect(activity.quietLevel).toBeCloseTo(Math.max(...expected.map((g) => g.mean)), 9);
  });

  it('calls the first GOP of people walking active after a quiet level learnt on the still clip', () => {
    const activity = new StreamActivity();
    const [still1, still2, still3, walking] = judge(activity, new AccessUnitSplitter(), [stream.still, stream.still, stream.still, stream.vtest]);
    expect([...still1!, ...still2!, ...still3!].some((g) => g.active)).toBe(false);
    const stillMeans = gopsFromProbe(packets.still).map((g) => g.mean);
    // vtest's first keyframe closes still's last GOP; its second closes vtest's first GOP.
    expect(walking![0]!.active).toBe(false);
    expect(walking![0]!.meanPBytes).toBeCloseTo(stillMeans[stillMeans.length - 1]!, 9);
    const first = walking![1]!;
    const expected = gopsFromProbe(packets.vtest)[0]!;
    expect(first.meanPBytes).toBeCloseTo(expected.mean, 9);
    expect(first.pFrames).toBe(expected.pFrames);
    expect(first.quietLevel).toBeCloseTo(Math.max(...stillMeans), 9);
    expect(first.active).toBe(true);
  });

  it('never calls the black clip active', () => {
    const activity = new StreamActivity();
    const gops = judge(activity, new AccessUnitSplitter(), Array(5).fill(stream.black)).flat();
    expect(gops).toHaveLength(5 * packets.black.filter((p) => p.key).length - 1);
    expect(gops.slice(0, 8).every((g) => g.learning && g.quietLevel === null)).toBe(true);
    expect(gops.slice(8).every((g) => !g.learning && g.quietLevel !== null && !g.active)).toBe(true);
    expect(activity.active).toBe(false);
  });
});

describe('StreamActivity rules', () => {
  /** Per-P-frame means of a still scene on the simulator's 512 kbit/s sub-stream, GOP after GOP. */
  const SWING = [371, 1006, 1177, 799];

  it('judges the mean P-frame size of each GOP, ignoring keyframes and anything before the first', () => {
    const activity = new StreamActivity();
    expect(activity.observe(false, 50_000)).toBeNull(); // joined mid-GOP: no keyframe yet
    expect(activity.observe(true, 30_000)).toBeNull(); // first keyframe: nothing to judge
    for (const b of [100, 200, 600]) activity.observe(false, b);
    expect(activity.observe(true, 30_000)).toEqual({ meanPBytes: 300, pFrames: 3, quietLevel: null, active: false, learning: true });
    expect(activity.active).toBe(true); // learning: every keyframe is decoded
    expect(activity.quietLevel).toBe(300);
  });

  it('keeps a rate-controlled still scene quiet, then wakes on a GOP well above it', () => {
    // From every phase of the swing, its trough included: the first 8 GOPs are learnt
    // whatever their size. (Judging from the first GOP on, a start at the 371 trough
    // called every later GOP above it active, for good: found by this test.)
    for (let phase = 0; phase < SWING.length; phase++) {
      const a = new StreamActivity();
      a.observe(true, 30_000);
      for (let k = 0; k < 40; k++) {
        const g = gop(a, SWING[(k + phase) % SWING.length]!);
        expect(g.learning, `phase ${phase} GOP ${k}`).toBe(k < 8);
        expect(g.active, `phase ${phase} GOP ${k} (${g.meanPBytes} B against ${g.quietLevel})`).toBe(false);
      }
      expect(a.active).toBe(false);
    }
    const activity = new StreamActivity();
    activity.observe(true, 30_000);
    for (let k = 0; k < 40; k++) gop(activity, SWING[k % SWING.length]!);
    expect(activity.quietLevel).toBe(1177);
    expect(activity.active).toBe(false);

    // 1.3 × 1177 = 1530.1 and 1177 + 150 = 1327: 1530 is not active, 1531 is.
    expect(judgedAfter(1177, 1530).active).toBe(false);
    expect(judgedAfter(1177, 1531).active).toBe(true);

    const g = gop(activity, 2000);
    expect(g).toEqual({ meanPBytes: 2000, pFrames: 9, quietLevel: 1177, active: true, learning: false });
    expect(activity.active).toBe(true);
  });

  it('needs 150 bytes more than a tiny quiet level, not only 1.3 times it', () => {
    expect(judgedAfter(100, 250).active).toBe(false); // 2.5× but only 150 more
    expect(judgedAfter(100, 251).active).toBe(true);
  });

  it('takes 60 active GOPs in a row as the new quiet', () => {
    const activity = new StreamActivity();
    activity.observe(true, 30_000);
    for (let k = 0; k < 8; k++) gop(activity, SWING[(k + 1) % SWING.length]!);
    expect(activity.quietLevel).toBe(1177);

    for (let k = 1; k <= 60; k++) {
      const g = gop(activity, 2000);
      expect(g.active, `active GOP ${k}`).toBe(true);
      expect(g.quietLevel, `active GOP ${k}`).toBe(1177);
    }
    // The 60th forgot the old level; the next 8 are learnt as the new quiet, as at start.
    for (let k = 61; k <= 68; k++) {
      expect(gop(activity, 2000), `GOP ${k}`).toEqual({ meanPBytes: 2000, pFrames: 9, quietLevel: null, active: false, learning: true });
      expect(activity.active).toBe(true); // learning: decode every keyframe
    }
    expect(activity.quietLevel).toBe(2000);
    const g69 = gop(activity, 2000);
    expect(g69).toEqual({ meanPBytes: 2000, pFrames: 9, quietLevel: 2000, active: false, learning: false });
    expect(activity.active).toBe(false);
  });

  it('does not relearn when a quiet GOP breaks the active run', () => {
    const activity = new StreamActivity({ learnGops: 1 });
    activity.observe(true, 30_000);
    gop(activity, 1000);
    for (let k = 1; k <= 100; k++) {
      const g = gop(activity, k === 50 ? 1000 : 2000);
      expect(g.active, `GOP ${k}`).toBe(k !== 50);
    }
    expect(activity.quietLevel).toBe(1000);
  });

  it('reset() forgets the quiet level: active again until one is learnt', () => {
    const activity = new StreamActivity({ learnGops: 1 });
    activity.observe(true, 30_000);
    gop(activity, 800);
    gop(activity, 800);
    expect(activity.active).toBe(false);
    activity.observe(false, 5000); // half a GOP, dropped by the reset

    activity.reset();
    expect(activity.active).toBe(true);
    expect(activity.quietLevel).toBeNull();
    expect(activity.observe(false, 5000)).toBeNull();
    expect(activity.observe(true, 30_000)).toBeNull(); // first keyframe after the reset
    const first = gop(activity, 800);
    expect(first.quietLevel).toBeNull();
    expect(activity.active).toBe(true);
    const second = gop(activity, 800);
    expect(second).toEqual({ meanPBytes: 800, pFrames: 9, quietLevel: 800, active: false, learning: false });
    expect(activity.active).toBe(false);
  });
});
