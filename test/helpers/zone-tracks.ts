import type { Box } from '../../pipeline/events/types.js';
import { HISTOGRAM_BINS, type Track, type TrackState } from '../../pipeline/track/index.js';

/** Monday 2026-01-05 10:00 in Shanghai: inside day schedules, outside night ones. */
export const T0 = Date.UTC(2026, 0, 5, 2, 0, 0);
export const at = (seconds: number) => T0 + Math.round(seconds * 1000);
export const FRAME = { width: 1000, height: 500 };

/** A box whose bottom-centre sits at the given normalised point on FRAME. */
export function boxAt(nx: number, ny: number, w = 40, h = 100): Box {
  const x = nx * FRAME.width;
  const y = ny * FRAME.height;
  return [x - w / 2, y - h, x + w / 2, y];
}

/** A confirmed, observed track as the tracker would hand it to the zone engine. */
export function track(id: number, cls: string, box: Box, time: number, opts: { state?: TrackState; observed?: boolean; score?: number; appearance?: number[]; leaving?: boolean } = {}): Track {
  return {
    id,
    class: cls,
    score: opts.score ?? 0.8,
    box,
    detectionBox: box,
    velocity: { x: 0, y: 0 },
    hits: 10,
    age: 1,
    state: opts.state ?? 'confirmed',
    observed: opts.observed ?? true,
    firstSeen: T0,
    lastSeen: time,
    ...(opts.appearance ? { appearance: opts.appearance } : {}),
    ...(opts.leaving ? { leaving: true } : {}),
  };
}

/** A colour histogram (`HISTOGRAM_BINS` bins, see `colourHistogram`) with all its weight in the given bins: stand-ins for clothes. */
export function colours(...bins: number[]): number[] {
  const h = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const b of bins) h[b] = 1 / bins.length;
  return h;
}
