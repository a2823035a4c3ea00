import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ACCESS_UNIT_DELIMITER } from '../video/annexb.js';
import type { TimedUnit } from './clip-buffer.js';

export interface MuxClipOptions {
  ffmpegPath?: string;
  /** Frames per second when the units' times cannot tell (one unit). Default 10. */
  fallbackFps?: number;
}

export interface MuxedClip {
  path: string;
  frames: number;
  /** Seconds, from the unit count and the frame rate the arrival times give. */
  durationS: number;
  bytes: number;
}

/**
 * Writes access units to an MP4 by copying the H.264 (`-c copy`: no
 * re-encoding), `+faststart` so a browser plays it while it loads. Raw H.264
 * carries no timestamps: the frame rate is taken from the units' RTP
 * timestamps when they have them, else from their arrival times. Written to
 * a temporary name and renamed, so a reader never sees half a file.
 */
export async function muxClip(units: readonly TimedUnit[], path: string, opts: MuxClipOptions = {}): Promise<MuxedClip> {
  if (units.length === 0) throw new Error(`clip ${path}: no video in the requested span (the camera buffer no longer holds it)`);
  const fps = frameRate(units) ?? opts.fallbackFps ?? 10;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.part`;
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'h264', '-framerate', fps.toFixed(3), '-i', 'pipe:0', '-c:v', 'copy', '-movflags', '+faststart', '-f', 'mp4', tmp];
  const child = spawn(opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  let bytes = 0;
  child.stdin.on('error', () => undefined); // ffmpeg's exit code says what went wrong
  for (const u of units) {
    const chunk = Buffer.concat([ACCESS_UNIT_DELIMITER, u.unit.data]);
    bytes += chunk.length;
    if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  const code = await closed;
  if (code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`clip ${path}: ffmpeg exited with ${code}: ${stderr.trim().split('\n').slice(-2).join(' ')}`);
  }
  renameSync(tmp, path);
  return { path, frames: units.length, durationS: units.length / fps, bytes };
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
