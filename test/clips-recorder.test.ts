/**
 * A camera's evidence clips without the camera: vtest's H.264 access units
 * (10 frames/s, a keyframe every second) pushed into a `ClipRecorder` with
 * times 100 ms apart, zone events observed as the worker sees them, and the
 * clips written by a real `ClipWriter` (ffmpeg, the embedded store migrated),
 * including onto a full disk (a 64 kB tmpfs, as test/faults-disk.test.ts).
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipRecorder, ClipWriter, type ClipRequest } from '../pipeline/clips/index.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { silentLogger, type Logger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { AccessUnitSplitter, type AccessUnit } from '../pipeline/video/annexb.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'pw-clips-rec-'));
const T0 = Date.parse('2026-12-06T02:00:00Z');
const timeOf = (i: number) => T0 + i * 100;
let units: AccessUnit[] = [];
let store: Store;

beforeAll(async () => {
  const { stdout } = await exec(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-i', 'test/fixtures/video/vtest-640x480.mp4', '-t', '40', '-an', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,h264_metadata=aud=insert', '-f', 'h264', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  units = new AccessUnitSplitter().push(stdout as unknown as Buffer);
  store = await openStore({ dataDir: 'memory://', logger: silentLogger() });
  await migrate(store, { logger: silentLogger() });
}, 60_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const zoneEvent = (id: string, phase: PortEvent['phase'], t: number, details: Record<string, unknown> = {}): PortEvent => ({ id, time: new Date(t), kind: 'unauthorized_access', phase, camera: 'cam-1', zone: 'fence', details });

/** A logger that keeps its warnings and errors. */
function recordingLogger(): { logger: Logger; lines: Array<{ level: string; obj: unknown; msg: string }> } {
  const lines: Array<{ level: string; obj: unknown; msg: string }> = [];
  const base = silentLogger();
  const logger = Object.create(base) as Logger;
  for (const level of ['warn', 'error'] as const) (logger as unknown as Record<string, unknown>)[level] = (obj: unknown, msg: string) => void lines.push({ level, obj, msg });
  return { logger, lines };
}

describe('ClipRecorder', () => {
  it('asks for one clip per zone event, from the pre-roll before the entry (start less its dwell) to the post-roll after the end; nothing for health, repeats or an end without its start', () => {
    const clips: ClipRequest[] = [];
    const rec = new ClipRecorder({ camera: 'cam-1', preRollMs: 5_000, postRollMs: 5_000, startDelayMs: 3_000, maxMs: 60_000, onClip: (r) => clips.push(r) });
    const id = eventId('test', 'person-1');
    const other = eventId('test', 'gone-before');
    units.forEach((u, i) => {
      const t = timeOf(i);
      rec.push(u, t);
      // The person came in at 12.0 s; the event starts after a 2 s dwell, is updated, repeated, ends at 18.0 s.
      if (i === 140) rec.observe(zoneEvent(id, 'start', t, { dwell_seconds: 2 }));
      if (i === 150) rec.observe(zoneEvent(id, 'update', t, { dwell_seconds: 3 }));
      if (i === 151) rec.observe(zoneEvent(id, 'start', timeOf(140), { dwell_seconds: 2 }));
      if (i === 180) rec.observe(zoneEvent(id, 'end', t));
      if (i === 181) rec.observe(zoneEvent(id, 'end', timeOf(180))); // a repeat moves nothing
      if (i === 160) rec.observe({ id: eventId('test', 'frozen'), time: new Date(t), kind: 'camera_frozen', phase: 'start', camera: 'cam-1' });
      if (i === 170) rec.observe(zoneEvent(other, 'end', t));
    });
    expect(clips).toHaveLength(1);
    const c = clips[0]!;
    expect(c.event).toBe(id);
    expect(c.fromMs).toBe(timeOf(120) - 5_000);
    expect(c.toMs).toBe(timeOf(180) + 5_000);
    expect(c.truncated).toBe(false);
    expect(c.units[0]!.unit.key).toBe(true);
    expect(c.units[0]!.timeMs).toBe(timeOf(70));
    expect(c.units.at(-1)!.timeMs).toBe(timeOf(230));
    // Re-delivered after its clip was made: nothing more.
    rec.observe(zoneEvent(id, 'start', timeOf(140), { dwell_seconds: 2 }));
    rec.observe(zoneEvent(id, 'end', timeOf(180)));
    rec.flush(timeOf(units.length));
    expect(clips).toHaveLength(1);
  });

  it('cuts an event longer than the longest clip there, truncated, and the buffer lets go of what is before it', () => {
    const clips: ClipRequest[] = [];
    const rec = new ClipRecorder({ camera: 'cam-1', preRollMs: 2_000, postRollMs: 2_000, maxMs: 10_000, onClip: (r) => clips.push(r) });
    const id = eventId('test', 'lingers');
    let heldUnits = 0;
    units.forEach((u, i) => {
      rec.push(u, timeOf(i));
      if (i === 50) rec.observe(zoneEvent(id, 'start', timeOf(i)));
      heldUnits = Math.max(heldUnits, rec.buffer.size.units);
    });
    expect(clips).toHaveLength(1);
    expect(clips[0]!.truncated).toBe(true);
    expect(clips[0]!.toMs).toBe(timeOf(30) + 10_000);
    expect(clips[0]!.units.at(-1)!.timeMs).toBe(timeOf(130));
    // Never more than the longest clip and a GOP of slack (10 s + 1 s at 10 frames/s), however long the event.
    expect(heldUnits).toBeLessThanOrEqual(115);
    expect(rec.buffer.size.units).toBeLessThanOrEqual(40);
    // The end arriving later asks for nothing.
    rec.observe(zoneEvent(id, 'end', timeOf(390)));
    rec.flush(timeOf(400));
    expect(clips).toHaveLength(1);
  });

  it('hands over at stop what is buffered of a clip still waiting for its post-roll', () => {
    const clips: ClipRequest[] = [];
    const rec = new ClipRecorder({ camera: 'cam-1', preRollMs: 3_000, postRollMs: 5_000, onClip: (r) => clips.push(r) });
    // Nothing received yet (a camera whose stream ffmpeg receives): an event waits for no clip.
    rec.observe(zoneEvent(eventId('test', 'no-stream'), 'start', timeOf(0)));
    expect(rec.pendingClips).toBe(0);
    for (let i = 0; i <= 100; i++) {
      rec.push(units[i]!, timeOf(i));
      if (i === 80) rec.observe(zoneEvent(eventId('test', 'at-stop'), 'start', timeOf(80)));
    }
    rec.observe(zoneEvent(eventId('test', 'at-stop'), 'end', timeOf(100)));
    expect(clips).toHaveLength(0);
    rec.flush(timeOf(100));
    expect(clips).toHaveLength(1);
    expect(clips[0]!.truncated).toBe(true);
    expect(clips[0]!.units[0]!.timeMs).toBe(timeOf(50));
    expect(clips[0]!.units.at(-1)!.timeMs).toBe(timeOf(100));
  });
});

describe('ClipWriter', () => {
  it('writes the clip as H.264 in MP4 under the data folder and records it by event id; nothing buffered is counted, not written', async () => {
    const dataDir = join(dir, 'data');
    const writer = new ClipWriter({ store, logger: silentLogger(), dir: join(dataDir, 'clips'), root: dataDir });
    const requests: ClipRequest[] = [];
    const rec = new ClipRecorder({ camera: 'cam-1', preRollMs: 5_000, postRollMs: 5_000, onClip: (r) => requests.push(r) });
    const id = eventId('test', 'written');
    units.forEach((u, i) => {
      rec.push(u, timeOf(i));
      if (i === 150) rec.observe(zoneEvent(id, 'instant', timeOf(i)));
    });
    expect(requests).toHaveLength(1);
    writer.write(requests[0]!);
    writer.write({ event: eventId('test', 'empty'), camera: 'cam-1', fromMs: 0, toMs: 1, units: [], truncated: false });
    await writer.idle();
    expect(writer.stats()).toMatchObject({ written: 1, empty: 1, failed: 0, diskFull: 0, queued: 0 });
    const row = (await store.query<{ path: string; duration_s: number; camera: string }>('SELECT path, duration_s, camera FROM event_clips WHERE event = $1', [id])).rows[0]!;
    expect(row.path).toBe(`clips/2026-12-06/${id}.mp4`);
    const p = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=format_name,duration', '-of', 'json', join(dataDir, row.path)]).toString());
    expect(p.streams[0].codec_name).toBe('h264');
    expect(p.format.format_name).toContain('mp4');
    // 10 s around the instant, from the keyframe at 10.0 s through 20.0 s.
    expect(Number(p.format.duration)).toBeCloseTo(10.1, 1);
    expect(row.duration_s).toBeCloseTo(10.1, 1);
  }, 60_000);

  it('counts a failed write and a full disk, logs the first, and goes on', async () => {
    // A file where the day folder should be: mkdir fails.
    const blocked = join(dir, 'blocked');
    mkdirSync(blocked);
    writeFileSync(join(blocked, '2026-12-06'), 'not a folder');
    const { logger, lines } = recordingLogger();
    const writer = new ClipWriter({ store, logger, dir: blocked, root: dir });
    const span = units.slice(0, 20).map((unit, i) => ({ unit, timeMs: timeOf(i) }));
    for (let k = 0; k < 3; k++) writer.write({ event: eventId('test', 'blocked', k), camera: 'cam-1', fromMs: timeOf(0), toMs: timeOf(19), units: span, truncated: false });
    await writer.idle();
    expect(writer.stats()).toMatchObject({ written: 0, failed: 3, diskFull: 0 });
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(lines[0]!.msg).toBe('evidence clip not written');

    if (process.getuid?.() !== 0) throw new Error('mounting a small tmpfs for a full disk needs root (CI and the test machines run as root)');
    const mount = join(tmpdir(), `pw-clips-full-${randomUUID().slice(0, 8)}`);
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    try {
      mkdirSync(join(mount, '2026-12-06'));
      try {
        writeFileSync(join(mount, 'filler'), Buffer.alloc(1 << 20));
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOSPC') throw err;
      }
      const full = recordingLogger();
      const onFull = new ClipWriter({ store, logger: full.logger, dir: mount, root: dir });
      onFull.write({ event: eventId('test', 'full'), camera: 'cam-1', fromMs: timeOf(0), toMs: timeOf(19), units: span, truncated: false });
      await onFull.idle();
      expect(onFull.stats()).toMatchObject({ written: 0, failed: 1, diskFull: 1 });
      expect(full.lines.map((l) => l.msg)).toEqual(['evidence clip not written: the disk is full']);
    } finally {
      execFileSync('umount', [mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  }, 60_000);
});
