import type { EventPhase, PortEvent } from '../events/index.js';

const PHASES: ReadonlySet<string> = new Set<EventPhase>(['start', 'update', 'end', 'instant']);

/**
 * The BullMQ job id of an event: its deterministic id plus phase, so a
 * re-delivered event (replay after a crash, a retried write) is refused by
 * BullMQ as a duplicate instead of becoming a second job. Updates carry their
 * time too: one event has many updates, and each is a distinct job, while the
 * same update re-delivered still collapses. BullMQ forbids ':' in custom ids.
 */
export function eventJobId(event: Pick<PortEvent, 'id' | 'phase' | 'time'>): string {
  const base = `${event.id}.${event.phase}`;
  return event.phase === 'update' ? `${base}.${event.time.getTime()}` : base;
}

/** Why an event cannot be queued, or null when it can. */
export function eventProblem(event: PortEvent): string | null {
  if (typeof event.id !== 'string' || event.id.length === 0) return 'id: missing';
  if (event.id.includes(':')) return `id: "${event.id}" contains ':', which BullMQ job ids cannot hold`;
  if (!(event.time instanceof Date) || Number.isNaN(event.time.getTime())) return 'time: not a valid Date';
  if (!PHASES.has(event.phase)) return `phase: "${String(event.phase)}" is not one of start, update, end, instant`;
  if (typeof event.kind !== 'string' || event.kind.length === 0) return 'kind: missing';
  return null;
}

/**
 * Job data back into a PortEvent. JSON turned `time` into an ISO string; it
 * becomes a Date again. Anything that cannot be an event throws an Error
 * naming the field, so the consumer fails the job at once instead of retrying it.
 */
export function reviveEvent(data: unknown): PortEvent {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('event job data is not an object');
  const raw = data as Record<string, unknown>;
  if (typeof raw.id !== 'string' || raw.id.length === 0) throw new Error('event job data: id missing or not a string');
  const t = raw.time;
  const time = typeof t === 'string' || typeof t === 'number' ? new Date(t) : null;
  if (!time || Number.isNaN(time.getTime())) throw new Error(`event ${raw.id}: time ${JSON.stringify(t)} is not a date`);
  if (typeof raw.kind !== 'string' || raw.kind.length === 0) throw new Error(`event ${raw.id}: kind missing`);
  if (typeof raw.phase !== 'string' || !PHASES.has(raw.phase)) throw new Error(`event ${raw.id}: phase ${JSON.stringify(raw.phase)} is not one of start, update, end, instant`);
  return { ...(raw as unknown as PortEvent), time };
}
