import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { ClipBuffer, clipPath, muxClip, pruneClips } from '../pipeline/clips/index.js';
import { h264Mp4 } from '../pipeline/clips/mp4-file.js';
import { parseSps, sliceType } from '../pipeline/video/h264-syntax.js';
import { ACCESS_UNIT_DELIMITER, AccessUnitSplitter, nalUnits, type AccessUnit } from '../pipeline/video/annexb.js';
import { SpawnHelper } from '../pipeline/video/index.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'pw-clips-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** vtest's first 30 s as the camera worker receives it: H.264 access units (10 frames/s, a keyframe every second), times 100 ms apart. */
let units: AccessUnit[] = [];
const T0 = Date.parse('2026-12-06T02:00:00Z');
const timeOf = (i: number) => T0 + i * 100;

beforeAll(async () => {
  const { stdout } = await exec(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-i', 'test/fixtures/video/vtest-640x480.mp4', '-t', '30', '-an', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,h264_metadata=aud=insert', '-f', 'h264', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  const splitter = new AccessUnitSplitter();
  // The last picture stays in the splitter (a unit ends at the next AUD): 30 s less one frame is plenty.
  units = splitter.push(stdout as unknown as Buffer);
}, 60_000);

async function probe(path: string) {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name,duration:stream=codec_name,codec_type,nb_frames', '-of', 'json', path]);
  return JSON.parse(stdout) as { format: { format_name: string; duration: string }; streams: Array<{ codec_name: string; codec_type: string; nb_frames: string }> };
}

describe('evidence clips', () => {
  it('keeps the pre-roll from a keyframe while an alert waits, and writes H.264 copied into an MP4 of the right length', async () => {
    expect(units.length).toBeGreaterThan(250);
    // An event from 10.0 s to 12.0 s: the clip runs from 5 s before to 5 s after (12 s), starting on a keyframe.
    const buffer = new ClipBuffer({ keepMs: 5_000 });
    const eventFrom = timeOf(100);
    const eventTo = timeOf(120);
    units.forEach((u, i) => {
      if (timeOf(i) <= eventTo + 5_000) buffer.push(u, timeOf(i), i >= 100 ? eventFrom - 5_000 : Infinity);
    });
    const span = buffer.slice(eventFrom - 5_000, eventTo + 5_000);
    expect(span[0]!.unit.key).toBe(true);
    expect(span[0]!.timeMs).toBe(eventFrom - 5_000);
    expect(span.at(-1)!.timeMs).toBe(eventTo + 5_000);
    const path = clipPath(join(dir, 'clips'), '0f8fad5b-d9cb-469f-a165-70867728950e', new Date(eventFrom));
    const clip = await muxClip(span, path);
    expect(clip.writer).toBe('node');
    expect(clip.frames).toBe(121);
    const p = await probe(path);
    expect(p.format.format_name).toContain('mp4');
    expect(p.streams.map((s) => [s.codec_type, s.codec_name])).toEqual([['video', 'h264']]);
    expect(Number(p.streams[0]!.nb_frames)).toBe(121);
    expect(Number(p.format.duration)).toBeCloseTo(12.1, 1);
    // The pictures are the camera's own bytes: decoding the clip finds no error.
    const { stderr } = await exec('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
    expect(stderr).toBe('');
  }, 60_000);

  it('the MP4 written in Node holds what ffmpeg\'s holds: the same pictures, frame count, duration, size and keyframes', async () => {
    // 30 s from a keyframe, as a camera's clip: 29 keyframes, 10 frames a second.
    const span = units.slice(0, 290).map((unit, i) => ({ unit, timeMs: timeOf(i) }));
    const out = join(dir, 'compare');
    const ours = await muxClip(span, join(out, 'node.mp4'));
    const theirs = await muxClip(span, join(out, 'ffmpeg.mp4'), { ffmpegOnly: true });
    expect([ours.writer, theirs.writer]).toEqual(['node', 'ffmpeg']);
    const show = async (path: string) => {
      const { stdout } = await exec('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=codec_name,profile,width,height,nb_frames,avg_frame_rate,duration:format=format_name', '-of', 'json', path]);
      return JSON.parse(stdout) as { streams: object[]; format: object };
    };
    expect(await show(ours.path)).toEqual(await show(theirs.path));
    // Keyframes where the camera put them (the sync sample table: ffprobe re-detects keyframes from the bitstream, players seek by this).
    const file = readFileSync(ours.path);
    const stss = file.indexOf('stss');
    const keys = span.flatMap((u, i) => (u.unit.key ? [i + 1] : []));
    expect(keys.length).toBe(29);
    expect(Array.from({ length: file.readUInt32BE(stss + 8) }, (_, i) => file.readUInt32BE(stss + 12 + i * 4))).toEqual(keys);
    // Every picture decodes to the same pixels as ffmpeg's file.
    const md5 = async (path: string) => (await exec('ffmpeg', ['-v', 'error', '-i', path, '-f', 'md5', '-'])).stdout;
    expect(await md5(ours.path)).toBe(await md5(theirs.path));
    const { stderr } = await exec('ffmpeg', ['-v', 'error', '-i', ours.path, '-f', 'null', '-']);
    expect(stderr).toBe('');
    // The moov comes before the video (a browser plays the file while it loads).
    expect(file.indexOf('moov')).toBeLessThan(file.indexOf('mdat'));
  }, 60_000);

  it('a camera that sends SPS/PPS once, out of band: the buffer puts them in front of a later clip, which plays', async () => {
    const START = Buffer.from([0, 0, 0, 1]);
    const annexB = (nals: Uint8Array[]) => Buffer.concat(nals.flatMap((n) => [START, n]));
    const isParameterSet = (n: Uint8Array) => [7, 8].includes(n[0]! & 0x1f);
    const first = nalUnits(units[0]!.data);
    // The SPS and PPS in a unit of their own before the first picture, and no keyframe carrying them.
    const stream: AccessUnit[] = [
      { data: annexB(first.filter(isParameterSet)), key: false, sliceBytes: 0 },
      ...units.slice(0, 250).map((u) => (u.key ? { ...u, data: annexB(nalUnits(u.data).filter((n) => !isParameterSet(n))) } : u)),
    ];
    expect(stream.slice(1).some((u) => nalUnits(u.data).some(isParameterSet))).toBe(false);
    const buffer = new ClipBuffer({ keepMs: 5_000 });
    // The parameter unit comes before the first keyframe: it is remembered, not kept.
    stream.forEach((u, i) => buffer.push(u, timeOf(i)));
    const span = buffer.slice(timeOf(200), timeOf(240));
    expect(span[0]!.unit.key).toBe(true);
    expect(nalUnits(span[0]!.unit.data).filter(isParameterSet).map((n) => n[0]! & 0x1f)).toEqual([7, 8]);
    const clip = await muxClip(span, join(dir, 'out-of-band', 'a.mp4'));
    expect(clip.writer).toBe('node');
    expect(Number((await probe(clip.path)).streams[0]!.nb_frames)).toBe(span.length);
    const { stderr } = await exec('ffmpeg', ['-v', 'error', '-i', clip.path, '-f', 'null', '-']);
    expect(stderr).toBe('');
  }, 60_000);

  it('streams the Node writer does not cover are written by ffmpeg: two different SPS, a clip not starting on a keyframe, B-frames', () => {
    const sps = nalUnits(units[0]!.data).find((n) => (n[0]! & 0x1f) === 7)!;
    expect(parseSps(sps)).toMatchObject({ width: 640, height: 480 });
    expect(h264Mp4(units.slice(0, 20), 10)).not.toBeNull();
    expect(h264Mp4(units.slice(1, 20), 10)).toBeNull();
    // A second keyframe with another SPS (its level changed).
    const other = Buffer.from(units[10]!.data);
    const at = other.indexOf(Buffer.from(sps));
    other[at + 3] = other[at + 3]! + 1;
    expect(h264Mp4([...units.slice(0, 10), { ...units[10]!, data: other }], 10)).toBeNull();
    // A B slice (slice_type 1, as ue(v) '010' after first_mb_in_slice '1'): 0b1010_0000 after a non-IDR header.
    const bSlice = { data: Buffer.from([0, 0, 0, 1, 0x41, 0b1010_0000, 0x80]), key: false, sliceBytes: 3 };
    const pSlice = { data: Buffer.from([0, 0, 0, 1, 0x41, 0b1100_0000, 0x80]), key: false, sliceBytes: 3 };
    expect(sliceType(bSlice.data.subarray(4))).toBe(1);
    expect(sliceType(pSlice.data.subarray(4))).toBe(0);
    expect(h264Mp4([...units.slice(0, 10), bSlice], 10)).toBeNull();
  });

  it("ffmpeg started by the worker's spawn helper writes the same clip, and no input file is left beside it either way", async () => {
    const span = units.slice(10, 70).map((unit, i) => ({ unit, timeMs: timeOf(10 + i) }));
    const helper = new SpawnHelper();
    try {
      const out = join(dir, 'helper');
      const viaHelper = await muxClip(span, join(out, 'a.mp4'), { run: helper.run, ffmpegOnly: true });
      const direct = await muxClip(span, join(out, 'b.mp4'), { ffmpegOnly: true });
      expect(helper.stats().commands).toBe(1);
      expect(viaHelper.frames).toBe(60);
      expect(viaHelper.bytes).toBe(direct.bytes);
      expect(viaHelper.bytes).toBe(span.reduce((n, u) => n + ACCESS_UNIT_DELIMITER.length + u.unit.data.length, 0));
      expect(Number((await probe(viaHelper.path)).streams[0]!.nb_frames)).toBe(60);
      // ffmpeg not found: the reason, and neither the H.264 nor a part file left behind.
      await expect(muxClip(span, join(out, 'c.mp4'), { run: helper.run, ffmpegOnly: true, ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toThrow(/ENOENT/);
      expect(readdirSync(out).sort()).toEqual(['a.mp4', 'b.mp4']);
    } finally {
      await helper.close();
    }
  }, 60_000);

  it('without a waiting alert the buffer holds only the pre-roll, from the keyframe before it', () => {
    const buffer = new ClipBuffer({ keepMs: 5_000 });
    units.forEach((u, i) => buffer.push(u, timeOf(i)));
    const { fromMs, toMs } = buffer.size;
    expect(toMs! - fromMs!).toBeGreaterThanOrEqual(5_000);
    expect(toMs! - fromMs!).toBeLessThan(6_000 + 100);
    // Asking for older video gives what is left, from its first keyframe.
    const old = buffer.slice(T0, T0 + 10_000);
    expect(old).toEqual([]);
  });

  it('a clip of nothing is refused with the reason; retention removes day folders past the limit', async () => {
    await expect(muxClip([], join(dir, 'x.mp4'))).rejects.toThrow(/no video in the requested span/);
    const clips = join(dir, 'retention');
    for (const d of ['2026-11-01', '2026-11-30', '2026-12-06']) {
      mkdirSync(join(clips, d), { recursive: true });
      writeFileSync(join(clips, d, 'a.mp4'), 'x');
    }
    const removed = pruneClips(clips, 30, new Date('2026-12-06T12:00:00Z'));
    expect(removed).toEqual([join(clips, '2026-11-01')]);
    expect(existsSync(join(clips, '2026-11-30'))).toBe(true);
    expect(() => clipPath(clips, '../../etc/passwd', new Date())).toThrow(/not an alert id/);
  });
});
