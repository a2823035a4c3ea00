import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import type { Box } from '../events/types.js';

/**
 * An 8-bit RGB image, pixels packed row by row (RGB24, what ffmpeg's
 * `-pix_fmt rgb24 -f rawvideo` writes). `data.length` is width * height * 3.
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export class ImageError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = 'ImageError';
  }
}

/** Wraps a raw RGB24 frame without copying; checks the size matches. */
export function rgbFrame(width: number, height: number, data: Uint8Array, source = 'frame'): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageError(source, `invalid frame size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new ImageError(source, `RGB24 frame ${width}x${height} needs ${width * height * 3} bytes, got ${data.length}`);
  }
  return { width, height, data };
}

/** Max decoded size, so a hostile JPEG header cannot make us allocate gigabytes. */
const MAX_MEGAPIXELS = 64;

export function decodeJpeg(bytes: Uint8Array, source = 'image'): RgbImage {
  if (bytes.length < 3 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) {
    throw new ImageError(source, `not a JPEG file (starts with ${describeMagic(bytes)}); only JPEG images and raw RGB24 frames are supported`);
  }
  try {
    const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
    return rgbFrame(decoded.width, decoded.height, decoded.data, source);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError(source, `corrupt JPEG: ${(err as Error).message}`);
  }
}

export async function readJpegFile(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not an image' : (err as Error).message;
    throw new ImageError(file, reason);
  }
  return decodeJpeg(bytes, file);
}

function describeMagic(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'nothing: the file is empty';
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return `${head}, a PNG`;
  if (bytes[0] === 0x47 && bytes[1] === 0x49) return `${head}, a GIF`;
  return head;
}

/** Clamps a region to the image and rounds it outwards to whole pixels; null if nothing is left. */
export function clampRegion(image: { width: number; height: number }, region: Box): Box | null {
  const x1 = Math.max(0, Math.floor(region[0]));
  const y1 = Math.max(0, Math.floor(region[1]));
  const x2 = Math.min(image.width, Math.ceil(region[2]));
  const y2 = Math.min(image.height, Math.ceil(region[3]));
  if (x2 - x1 < 1 || y2 - y1 < 1) return null;
  return [x1, y1, x2, y2];
}
