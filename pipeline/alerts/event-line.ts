import { z } from 'zod';
import { EVENT_KINDS } from '../config/schema.js';
import type { PortEvent } from '../events/index.js';

/**
 * One line of an event stream as `portwatch analyze` prints it (times as `t`,
 * seconds from the clip start) or as stored/queued (times as `time`, ISO 8601).
 */
const eventLineSchema = z.looseObject({
  id: z.string('id: missing or not a string').min(1, 'id: empty'),
  kind: z.enum(EVENT_KINDS, { error: `kind: not an event kind (one of ${EVENT_KINDS.join(', ')})` }),
  phase: z.enum(['start', 'update', 'end', 'instant'], { error: 'phase: one of start, update, end, instant' }),
  time: z.string().optional(),
  t: z.number('t: seconds from the clip start, a number').finite().min(0, 't: cannot be negative').optional(),
  camera: z.string().nullish(),
  zone: z.string().nullish(),
  track: z.number('track: a number or null').int('track: a whole number').nullish(),
  class: z.string().nullish(),
  score: z.number('score: a number or null').min(0, 'score: 0 to 1').max(1, 'score: 0 to 1').nullish(),
  bbox: z.array(z.number()).length(4).nullish(),
  snapshot: z.string().nullish(),
  berth: z.string().nullish(),
  mmsi: z.number('mmsi: a number or null').int('mmsi: a whole number').nullish(),
  details: z.record(z.string(), z.unknown()).nullish(),
});

export type EventLine = { event: PortEvent; relative: boolean } | { error: string };

/**
 * Parses one line into an event, or says what is wrong with it (`field: reason`).
 * A relative line (`t`) is placed at `origin` + t seconds.
 */
export function parseEventLine(text: string, origin: Date): EventLine {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON (${(err as Error).message})` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { error: 'not a JSON object' };
  const r = eventLineSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const msg = issue.message.includes(':') ? issue.message : `${issue.path.join('.') || '(line)'}: ${issue.message}`;
    return { error: msg };
  }
  const v = r.data;
  let time: Date;
  let relative = false;
  if (v.time !== undefined) {
    time = new Date(v.time);
    if (Number.isNaN(time.getTime())) return { error: 'time: not an ISO 8601 date-time' };
  } else if (v.t !== undefined) {
    time = new Date(origin.getTime() + Math.round(v.t * 1000));
    relative = true;
  } else return { error: 'time: missing (give time as ISO 8601, or t in seconds as analyze prints)' };
  const event: PortEvent = {
    id: v.id,
    time,
    kind: v.kind,
    phase: v.phase,
    camera: v.camera ?? null,
    zone: v.zone ?? null,
    track: v.track ?? null,
    class: v.class ?? null,
    score: v.score ?? null,
    bbox: (v.bbox as PortEvent['bbox']) ?? null,
    snapshot: v.snapshot ?? null,
    berth: v.berth ?? null,
    mmsi: v.mmsi ?? null,
    details: (v.details as Record<string, unknown> | null) ?? {},
  };
  return { event, relative };
}
