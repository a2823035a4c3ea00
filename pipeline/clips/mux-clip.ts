import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ACCESS_UNIT_DELIMITER } from '../video/annexb.js';
import { runCommand, type RunCommand } from '../video/spawn-helper.js';
import { h264Mp4 } from './mp4-file.js';
import type { TimedUnit } from './clip-buffer.js';

export interface MuxClipOptions {
  ffmpegPath?: string;
  /** Frames per second when the units' times cannot tell (one unit). Default 10. */
  fallbackFps?: number;
  /** How ffmpeg is started; default a child of this process. A worker passes its `SpawnHelper`'s. */
  run?: RunCommand;
  /** Always through ffmpeg (tests compare the two writers). */
  ffmpegOnly?: boolean;
}

export interface MuxedClip {
  path: string;
  frames: number;
  /** Seconds, from the unit count and the frame rate the arrival times give. */
  durationS: number;
  /** H.264 bytes in the clip. */
  bytes: number;
  /** Who wrote the file: this process (`h264Mp4`) or ffmpeg (a stream it does not cover). */
  writer: 'node' | 'ffmpeg';
}

/**
 * Writes access units to an MP4 by copying the H.264 (no re-encoding), the
 * moov first so a browser plays it while it loads. Raw H.264 carries no
 * timestamps: the frame rate is taken from the units' RTP timestamps when
 * they have them, else from their arrival times. The clips cameras send (one
 * SPS/PPS, no B-frames) are written here (`h264Mp4`); anything else by
 * `ffmpeg -c copy -movflags +faststart`, which reads the units from a file
 * beside the clip (so it can be started by a helper process, which has no
 * pipe to this one), removed after. The MP4 is written to a temporary name
 * and renamed, so a reader never sees half a file.
 */
export async function muxClip(units: readonly TimedUnit[], path: string, opts: MuxClipOptions = {}): Promise<MuxedClip> {
  if (units.length === 0) throw new Error(`clip ${path}: no video in the requested span (the camera buffer no longer holds it)`);
  const fps = frameRate(units) ?? opts.fallbackFps ?? 10;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.part`;
  const h264 = `${path}.h264`;
  const bytes = units.reduce((n, u) => n + ACCESS_UNIT_DELIMITER.length + u.unit.data.length, 0);
  const mp4 = opts.ffmpegOnly ? null : h264Mp4(units.map((u) => u.unit), fps);
  if (mp4) {
    try {
      await writeFile(tmp, mp4);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    renameSync(tmp, path);
    return { path, frames: units.length, durationS: units.length / fps, bytes, writer: 'node' };
  }
  const stream = Buffer.concat(units.flatMap((u) => [ACCESS_UNIT_DELIMITER, u.unit.data]));
  try {
    await writeFile(h264, stream);
    const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'h264', '-framerate', fps.toFixed(3), '-i', h264, '-c:v', 'copy', '-movflags', '+faststart', '-f', 'mp4', tmp];
    const { code, signal, stderr } = await (opts.run ?? runCommand)(opts.ffmpegPath ?? 'ffmpeg', args);
    if (code !== 0) {
      rmSync(tmp, { force: true });
      throw new Error(`clip ${path}: ffmpeg exited with ${signal ?? code}: ${stderr.trim().split('\n').slice(-2).join(' ')}`);
    }
  } finally {
    rmSync(h264, { force: true });
  }
  renameSync(tmp, path);
  return { path, frames: units.length, durationS: units.length / fps, bytes, writer: 'ffmpeg' };
}

/** Frames per second from RTP timestamps (90 kHz, wrapping) or arrival times; null with fewer than two units. */
export function frameRate(units: readonly TimedUnit[]): number | null {
  if (units.length < 2) return null;
  const first = units[0]!;
  const last = units.at(-1)!;
  if (first.unit.timestamp !== undefined && last.unit.timestamp !== undefined) {
    const ticks = (last.unit.timestamp - first.unit.timestamp + 2 ** 32) % 2 ** 32;
    if (ticks > 0) return ((units.length - 1) * 90_000) / ticks;
  }
  const ms = last.timeMs - first.timeMs;
  return ms > 0 ? ((units.length - 1) * 1000) / ms : null;
}
