import type { Box, PortEvent } from '../events/types.js';
import type { Detection } from '../detect/types.js';

/**
 * How one kind of record becomes one row of one append-only table: the writer's
 * view of a table. Every record carries a deterministic `id` (see `eventId`), so
 * a record delivered twice is stored once.
 */
export interface TableSpec<T> {
  table: string;
  columns: readonly string[];
  /** Values in `columns` order; JSON columns as strings (see copy-text.ts for why). */
  toRow(record: T): unknown[];
  id(record: T): string;
}

const json = (v: unknown, empty: '{}' | '[]' = '{}') => (v === undefined || v === null ? empty : JSON.stringify(v));
const box = (b: Box | null | undefined) => (b ? [b[0], b[1], b[2], b[3]] : null);

export const eventsTable: TableSpec<PortEvent> = {
  table: 'events',
  columns: ['id', 'time', 'kind', 'phase', 'camera', 'zone', 'track', 'class', 'score', 'bbox', 'snapshot', 'berth', 'mmsi', 'details'],
  toRow: (e) => [
    e.id,
    e.time,
    e.kind,
    e.phase,
    e.camera ?? null,
    e.zone ?? null,
    e.track ?? null,
    e.class ?? null,
    e.score ?? null,
    box(e.bbox),
    e.snapshot ?? null,
    e.berth ?? null,
    e.mmsi ?? null,
    json(e.details),
  ],
  id: (e) => e.id,
};

/** One detector output on one camera frame, as stored. */
export interface DetectionRecord extends Detection {
  id: string;
  time: Date;
  camera: string;
  frameId?: number | null;
  track?: number | null;
}

export const detectionsTable: TableSpec<DetectionRecord> = {
  table: 'detections',
  columns: ['id', 'time', 'camera', 'frame_id', 'class', 'score', 'bbox', 'track'],
  toRow: (d) => [d.id, d.time, d.camera, d.frameId ?? null, d.class, d.score, box(d.box), d.track ?? null],
  id: (d) => d.id,
};

/** One AIS position report (types 1-3, 18, 19, 27), scaled as gpsd does: degrees, knots, degrees. */
export interface AisPositionRecord {
  id: string;
  time: Date;
  mmsi: number;
  lat: number | null;
  lon: number | null;
  speed?: number | null;
  course?: number | null;
  heading?: number | null;
  status?: number | null;
  station?: string | null;
  msgType: number;
  /** The berth whose polygon the fix lies in (feeds berth_occupancy_hourly), else null. */
  berth?: string | null;
}

export const aisPositionsTable: TableSpec<AisPositionRecord> = {
  table: 'ais_positions',
  columns: ['id', 'time', 'mmsi', 'lat', 'lon', 'speed', 'course', 'heading', 'status', 'station', 'msg_type', 'berth'],
  toRow: (p) => [p.id, p.time, p.mmsi, p.lat, p.lon, p.speed ?? null, p.course ?? null, p.heading ?? null, p.status ?? null, p.station ?? null, p.msgType, p.berth ?? null],
  id: (p) => p.id,
};

export interface CameraHealthRecord {
  id: string;
  time: Date;
  camera: string;
  state: string;
  reason?: string | null;
  metrics?: Record<string, unknown>;
}

export const cameraHealthTable: TableSpec<CameraHealthRecord> = {
  table: 'camera_health',
  columns: ['id', 'time', 'camera', 'state', 'reason', 'metrics'],
  toRow: (h) => [h.id, h.time, h.camera, h.state, h.reason ?? null, json(h.metrics)],
  id: (h) => h.id,
};

export interface RiskScoreRecord {
  id: string;
  time: Date;
  mmsi: number;
  imo?: number | null;
  score: number;
  level: string;
  model?: string | null;
  factors?: unknown[] | Record<string, unknown>;
}

export const riskScoresTable: TableSpec<RiskScoreRecord> = {
  table: 'risk_scores',
  columns: ['id', 'time', 'mmsi', 'imo', 'score', 'level', 'model', 'factors'],
  toRow: (r) => [r.id, r.time, r.mmsi, r.imo ?? null, r.score, r.level, r.model ?? null, json(r.factors, '[]')],
  id: (r) => r.id,
};
