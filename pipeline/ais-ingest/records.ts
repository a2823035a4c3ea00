import type { AisMessage } from '../ais/index.js';
import type { VesselIdentity } from '../anomalies/index.js';
import type { AisPositionRecord, VesselRecord } from '../store/index.js';

/** AIS message types that report a vessel's own position (base stations, aids to navigation and SAR aircraft are not vessels). */
export const VESSEL_POSITION_TYPES: ReadonlySet<number> = new Set([1, 2, 3, 18, 19, 27]);
/** Types carrying static data: 5 (Class A), 19 (Class B extended), 24 (Class B static). */
export const VESSEL_STATIC_TYPES: ReadonlySet<number> = new Set([5, 19, 24]);

/** A position report read with gpsd's "not available" markers turned into nulls. */
export interface PositionFix {
  mmsi: number;
  msgType: number;
  /** Null when the report says "not available" (gpsd 91) or the value is out of range. */
  lat: number | null;
  lon: number | null;
  /** Knots; null when not available. "fast" (≥ 102.2 kn) is kept as 102.2. */
  speed: number | null;
  course: number | null;
  heading: number | null;
  status: number | null;
  /** True when lat/lon were present but out of range (not the "not available" marker): counted as bad. */
  invalidPosition: boolean;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Read a scaled gpsd-style position message. gpsd's markers: lat 91 / lon 181
 * (not available), speed "n/a" (1023) or "fast" (1022 = 102.2 kn or more),
 * course 360 (3600 raw), heading 511. Type 27 has its own: speed 63 and
 * course 511 mean not available.
 */
export function readPosition(m: AisMessage): PositionFix {
  const t = m.type;
  let lat = num(m.lat);
  let lon = num(m.lon);
  let invalid = false;
  if (lat === 91 || lon === 181) {
    lat = null;
    lon = null;
  } else if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
    invalid = lat !== null || lon !== null;
    lat = null;
    lon = null;
  }
  let speed: number | null;
  if (m.speed === 'fast') speed = 102.2;
  else speed = num(m.speed);
  let course = num(m.course);
  let heading = num(m.heading);
  if (t === 27) {
    if (speed === 63) speed = null;
    if (course === 511) course = null;
  } else if (course !== null && course >= 360) course = null;
  if (heading !== null && heading >= 360) heading = null;
  const status = t === 1 || t === 2 || t === 3 || t === 27 ? num(m.status) : null;
  return { mmsi: m.mmsi, msgType: t, lat, lon, speed, course, heading, status, invalidPosition: invalid };
}

/** AIS text: '@' padding and surrounding blanks removed; empty means not available. */
export function aisText(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.replace(/@.*$/s, '').trim();
  return t.length > 0 ? t : null;
}

const positive = (v: unknown): number | null => {
  const n = num(v);
  return n !== null && n > 0 ? n : null;
};

/** The ETA field "MM-DDTHH:MMZ" has no year: the next such moment on or after the report, or null when not available. */
export function parseEta(eta: unknown, seenAt: Date): Date | null {
  if (typeof eta !== 'string') return null;
  const m = /^(\d{2})-(\d{2})T(\d{2}):(\d{2})Z$/.exec(eta);
  if (!m) return null;
  const [month, day, hour, minute] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  const year = seenAt.getUTCFullYear();
  let d = new Date(Date.UTC(year, month - 1, day, hour, minute));
  // An ETA a few months behind the report is next year's (reports near New Year).
  if (d.getTime() < seenAt.getTime() - 90 * 86_400_000) d = new Date(Date.UTC(year + 1, month - 1, day, hour, minute));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The `vessels` row a static message fills (only what it knows), and the identity the anomaly detector checks. */
export function readStatic(m: AisMessage, seenAt: Date): { vessel: VesselRecord; identity: VesselIdentity } {
  const name = aisText(m.shipname);
  const callsign = aisText(m.callsign);
  const imo = m.type === 5 ? positive(m.imo) : null;
  const bow = num(m.to_bow) ?? 0;
  const stern = num(m.to_stern) ?? 0;
  const port = num(m.to_port) ?? 0;
  const starboard = num(m.to_starboard) ?? 0;
  const vessel: VesselRecord = {
    mmsi: m.mmsi,
    seenAt,
    name,
    callsign,
    imo,
    shipType: positive(m.shiptype),
    length: bow + stern > 0 ? bow + stern : null,
    beam: port + starboard > 0 ? port + starboard : null,
  };
  if (m.type === 5) {
    vessel.draught = positive(m.draught);
    vessel.destination = aisText(m.destination);
    vessel.eta = parseEta(m.eta, seenAt);
  }
  const identity: VesselIdentity = { mmsi: m.mmsi, time: seenAt, imo, shipname: name, callsign };
  return { vessel, identity };
}
