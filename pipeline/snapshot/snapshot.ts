import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Box, PortEvent } from '../events/types.js';
import type { Point } from '../zones/types.js';
import { assertFrame, colourFor, drawBox, drawPolygon, type Rgb, type RgbImage } from './draw.js';
import type { JpegEncoder } from './jpeg-encoder.js';

export interface SnapshotBox {
  box: Box;
  /** Default: a stable colour per `key`, else red. */
  colour?: Rgb;
  /** Track id or class used to pick a stable colour. */
  key?: string | number;
}

export interface SnapshotOverlay {
  boxes?: SnapshotBox[];
  /** Zone polygons and tripwire lines, normalised 0..1. */
  zones?: Array<{ polygon: readonly Point[]; colour?: Rgb; closed?: boolean }>;
  /** Size of the image the boxes' pixels refer to, when it differs from the frame's (detector input vs snapshot frame). */
  sourceSize?: { width: number; height: number };
  /** Box outline width in pixels (default 2, 3 on frames wider than 1280). */
  thickness?: number;
}

export const HIGHLIGHT: Rgb = [255, 0, 0];
const ZONE_COLOUR: Rgb = [255, 200, 0];

/** A copy of the frame with the overlay drawn: zones first, boxes over them. */
export function renderSnapshot(frame: RgbImage, overlay: SnapshotOverlay = {}): RgbImage {
  assertFrame(frame);
  const out: RgbImage = { width: frame.width, height: frame.height, data: new Uint8Array(frame.data) };
  const thickness = overlay.thickness ?? (frame.width > 1280 ? 3 : 2);
  for (const z of overlay.zones ?? []) drawPolygon(out, z.polygon, z.colour ?? ZONE_COLOUR, 1, z.closed ?? true);
  const sx = overlay.sourceSize ? frame.width / overlay.sourceSize.width : 1;
  const sy = overlay.sourceSize ? frame.height / overlay.sourceSize.height : 1;
  for (const b of overlay.boxes ?? []) {
    const box: Box = [b.box[0] * sx, b.box[1] * sy, b.box[2] * sx, b.box[3] * sy];
    drawBox(out, box, b.colour ?? (b.key !== undefined ? colourFor(b.key) : HIGHLIGHT), thickness);
  }
  return out;
}

/**
 * Where an event's snapshot lives, relative to the snapshot root:
 * `<camera>/<first two hex digits of the id>/<event id>.jpg`. It depends on
 * the event id only, so every row of one event (start, better-snapshot
 * update) points at the same file, and a later, better picture replaces it.
 */
export function snapshotPath(event: Pick<PortEvent, 'id' | 'camera'>): string {
  // Camera ids come from config: keep them one harmless path segment.
  const camera = (event.camera ?? 'unknown').replace(/[^A-Za-z0-9._-]/g, '_').replace(/\.{2,}/g, '_').replace(/^\./, '_') || 'unknown';
  const id = event.id.replace(/[^A-Za-z0-9-]/g, '_');
  return path.posix.join(camera, id.slice(0, 2), `${id}.jpg`);
}

export interface WriteSnapshotOptions {
  /** Directory all snapshots live under. */
  root: string;
  event: Pick<PortEvent, 'id' | 'camera' | 'bbox'>;
  frame: RgbImage;
  /** Extra boxes and zones; the event's own box is drawn in red on top. */
  overlay?: SnapshotOverlay;
  /** JPEG quality 1–100; default 80. */
  quality?: number;
  /** Encodes the picture (one per process or command, shared by its cameras). */
  encoder: JpegEncoder;
}

/**
 * Draws, encodes and writes an event's snapshot; returns the path relative
 * to `root` (what `PortEvent.snapshot` stores). A reader never sees half a
 * JPEG: the first picture of an event is written to a new file (nobody knows
 * its path until the event that names it is published, after this returns),
 * and a later one replaces it through a temporary file and a rename. The
 * first picture is on the way of every alarm, so it takes the fewest file
 * operations: one creation, the folder made only when it is missing.
 */
export async function writeSnapshot(options: WriteSnapshotOptions): Promise<string> {
  const { root, event, frame, overlay = {} } = options;
  const boxes = [...(overlay.boxes ?? [])];
  if (event.bbox) boxes.push({ box: event.bbox, colour: HIGHLIGHT });
  const image = renderSnapshot(frame, { ...overlay, boxes });
  const bytes = await options.encoder.encode(image, options.quality ?? 80);
  const rel = snapshotPath(event);
  const full = path.join(root, rel);
  try {
    await createFile(full, bytes);
    return rel;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const tmp = `${full}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, full);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  return rel;
}

/** Writes a file that must not exist yet (EEXIST if it does), making its folder when missing. */
async function createFile(full: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeExclusive(full, bytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(path.dirname(full), { recursive: true });
    await writeExclusive(full, bytes);
  }
}

async function writeExclusive(full: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(full, bytes, { flag: 'wx' });
  } catch (err) {
    // A full disk leaves an empty or partial file: take it away, or every failed event adds
    // one (an inode each) to the folder that is already in trouble. (EEXIST: not ours to take.)
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOENT') await rm(full, { force: true }).catch(() => {});
    throw err;
  }
}
