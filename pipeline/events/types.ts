/**
 * The event every stage emits: one row in the `events` hypertable, one job on
 * the BullMQ `events` queue. A camera event follows one tracked object through
 * one rule (start → update… → end); an AIS event follows one vessel through one
 * anomaly or berth visit; a health event follows one camera through one fault.
 */
export type EventKind =
  | 'unauthorized_access'
  | 'cargo_movement'
  | 'line_crossing'
  | 'loitering'
  | 'camera_offline'
  | 'camera_frozen'
  | 'camera_covered'
  | 'camera_blackout'
  | 'camera_defocused'
  | 'camera_moved'
  | 'berth_arrival'
  | 'berth_departure'
  | 'ais_dark'
  | 'ais_position_jump'
  | 'ais_speeding'
  | 'ais_invalid_identity'
  | 'ais_identity_change'
  | 'ais_unassigned_berth';

export type EventPhase = 'start' | 'update' | 'end' | 'instant';

/** A box in source-image pixels: [x1, y1, x2, y2]. */
export type Box = [number, number, number, number];

export interface PortEvent {
  /** Deterministic (see `eventId`): a re-delivered event has the same id and never duplicates. */
  id: string;
  time: Date;
  kind: EventKind;
  phase: EventPhase;
  camera?: string | null;
  zone?: string | null;
  track?: number | null;
  class?: string | null;
  score?: number | null;
  bbox?: Box | null;
  snapshot?: string | null;
  berth?: string | null;
  mmsi?: number | null;
  /** Anything else the stage knows (direction, dwell seconds, speed, reason…). */
  details?: Record<string, unknown>;
}

/** Where events go besides the store: the BullMQ `events` queue (`EventQueue` fits), or anything with `publish`. */
export interface EventPublisher {
  publish(event: PortEvent): Promise<unknown>;
}
