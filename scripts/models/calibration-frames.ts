// Model inputs for calibrating a quantized model, made the way the camera
// pipeline makes them: frames at a camera's detect size, each given to the
// model whole and as a crop, through the detector's own preprocessing.
import { spawnSync } from 'node:child_process';
import { manifestInputSchema, type ManifestInput } from '../../pipeline/detect/manifest.js';
import { fillAtSize, sizeForRegion } from '../../pipeline/detect/preprocess.js';
import type { Box } from '../../pipeline/events/types.js';

export interface CalibrationFrameOptions {
  /** Frame size the frames are scaled to (a camera's detect size). Default 640×360. */
  width?: number;
  height?: number;
  /** Where to start, in seconds. Default 0. */
  startS?: number;
  /** Seconds of video to take frames from. Default 30. */
  seconds?: number;
  /** One frame every this many seconds. Default 2. */
  everyS?: number;
}

export interface ModelInput {
  data: Float32Array;
  dims: number[];
}

/** Decodes frames of `video` as RGB with ffmpeg: one every `everyS` seconds of `seconds` from `startS`. */
export function videoFrames(video: string, o: CalibrationFrameOptions = {}): Array<{ width: number; height: number; data: Uint8Array }> {
  const width = o.width ?? 640;
  const height = o.height ?? 360;
  const args = ['-v', 'error', '-nostdin', '-ss', String(o.startS ?? 0), '-t', String(o.seconds ?? 30), '-i', video, '-vf', `fps=1/${o.everyS ?? 2},scale=${width}:${height}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];
  const r = spawnSync('ffmpeg', args, { maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`ffmpeg could not start (${r.error.message}): install it (npm run bootstrap installs Debian's ffmpeg)`);
  if (r.status !== 0) throw new Error(`ffmpeg could not read ${video}: ${r.stderr.toString().trim() || `exit ${r.status}`}`);
  const size = width * height * 3;
  const frames = [];
  for (let off = 0; off + size <= r.stdout.length; off += size) frames.push({ width, height, data: new Uint8Array(r.stdout.subarray(off, off + size)) });
  if (frames.length === 0) throw new Error(`${video}: no frames decoded`);
  return frames;
}

/** Reads one picture (JPEG, PNG: anything ffmpeg reads) as RGB at `width`×`height`. */
export function pictureFrame(file: string, width = 640, height = 360): { width: number; height: number; data: Uint8Array } {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-frames:v', '1', '-vf', `scale=${width}:${height}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`ffmpeg could not start (${r.error.message}): install it (npm run bootstrap installs Debian's ffmpeg)`);
  if (r.status !== 0 || r.stdout.length !== width * height * 3) throw new Error(`ffmpeg could not read ${file}: ${r.stderr.toString().trim() || `exit ${r.status}`}`);
  return { width, height, data: new Uint8Array(r.stdout) };
}

/**
 * Each frame twice: whole, and a 55 % × 70 % crop whose position walks
 * across the frame (a busy camera's detector mostly sees such crops).
 */
export function calibrationInputs(frames: ReturnType<typeof videoFrames>, manifestInput: unknown): ModelInput[] {
  const input: ManifestInput = manifestInputSchema.parse(manifestInput);
  if (input.layout !== 'NCHW' || input.size_multiple === undefined) {
    throw new Error('calibration inputs are made for NCHW models that take any size (size_multiple); this model has neither');
  }
  const sized = input as ManifestInput & { size_multiple: number };
  const out: ModelInput[] = [];
  frames.forEach((f, i) => {
    const cw = Math.round(f.width * 0.55);
    const ch = Math.round(f.height * 0.7);
    const x = Math.round(((i % 4) / 3) * (f.width - cw));
    const y = Math.round(((i % 3) / 2) * (f.height - ch));
    const regions: Box[] = [[0, 0, f.width, f.height], [x, y, x + cw, y + ch]];
    for (const region of regions) {
      const size = sizeForRegion(region, sized);
      const data = new Float32Array(3 * size.width * size.height);
      fillAtSize(f, region, input, data, 0, size, size.scale);
      out.push({ data, dims: [1, 3, size.height, size.width] });
    }
  });
  return out;
}
