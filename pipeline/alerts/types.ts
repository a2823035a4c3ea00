import type { EventKind } from '../events/index.js';
import type { Severity } from '../config/schema.js';

/**
 * Alert states (ISA-18.2 / OPC UA A&C): an operator acknowledges, then resolves
 * or calls a false alarm; `dispatched` when the dispatch route drew an
 * inspection. Whether the condition is still there is `active`, separate from
 * all of these: an acknowledged alert can still be active, an open one cleared.
 */
export const ALERT_STATES = ['open', 'acknowledged', 'dispatched', 'resolved', 'false_alarm'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** Priority 1 (most urgent) to 5, from the rule's severity; escalation lowers the number. */
export const SEVERITY_PRIORITY: Record<Severity, number> = { critical: 1, high: 2, medium: 3, low: 4, info: 5 };

/** The kind of the alert that stands for a flood of one rule on one camera (or vessel). */
export const FLOOD_KIND = 'alert_flood';

/** One object of an alert: one tracked person, one vessel episode, one camera fault. */
export interface AlertObject {
  /** The event (for camera health: the fault episode's start event when seen, else its end). */
  event: string;
  kind: EventKind;
  track: number | null;
  class: string | null;
  /** Best score seen over the event's phases. */
  score: number | null;
  /** Snapshot of the best-scored phase that had one. */
  snapshot: string | null;
  first: Date;
  last: Date;
  /** The event has not ended yet. */
  active: boolean;
}

/**
 * What the events make of an alert: everything except what operators do to it
 * (state, acknowledgement, shelving), which the store keeps. A pure function of
 * the set of events seen, whatever their order or repetition.
 */
export interface DerivedAlert {
  /** Deterministic: rule, group (camera and zone, vessel, or camera) and the earliest event of the incident. */
  id: string;
  rule: string;
  /** The earliest event's kind (`alert_flood` for a flood alert). */
  kind: string;
  kinds: string[];
  severity: Severity;
  priority: number;
  camera: string | null;
  zone: string | null;
  berth: string | null;
  mmsi: number | null;
  /** The operator view the alert belongs to (flood is counted per view). */
  view: string;
  objects: AlertObject[];
  first: Date;
  last: Date;
  /** Some event of the incident has not ended (OPC UA: active; false: cleared). */
  active: boolean;
  /** When the last event ended, while not active. */
  cleared_at: Date | null;
  procedure: string[];
  routes: string[];
  /** Set on an alert that is part of a flood: the flood alert's id. Such an alert is stored but not announced. */
  flood: string | null;
  /** Set on a flood alert: how many alerts it stands for. */
  flood_count: number | null;
  /** Set when a late earlier event joined this incident to another: the alert that now holds it. */
  merged_into: string | null;
}

/** One change the engine made: the alert after it, and when (the time of the event or tick that made it). */
export interface AlertChange {
  alert: DerivedAlert;
  t: Date;
  /** First time this id is seen. */
  created: boolean;
  /** The event phase that made the change (`<event id>.<phase>[.<ms>]`, its queue job id); absent for clock ticks. Answers "why was this created". */
  cause?: string;
}
