import { eventId, type PortEvent } from '../events/index.js';
import { distanceMetres, impliedKnots, type LatLon } from '../berths/geo.js';
import { pointInPolygon } from '../geometry/index.js';
import type { VesselPosition } from '../berths/occupancy.js';
import { checkMmsi, isValidImo } from './identity.js';

/** A navigation channel with its speed limit. */
export interface Channel {
  id: string;
  polygon: LatLon[];
  speed_limit_kn: number;
}

/** Static and voyage data (AIS types 5 and 24) as far as identity goes. */
export interface VesselIdentity {
  mmsi: number;
  time: Date;
  imo?: number | null;
  shipname?: string | null;
  callsign?: string | null;
}

export interface AisAnomalyOptions {
  /** The port's waters; a vessel last seen inside them and silent longer than `dark_after_seconds` has gone dark. */
  port_area?: LatLon[];
  dark_after_seconds?: number;
  /** Above this implied speed between two fixes, one of them is false. */
  jump_knots?: number;
  /** Jumps shorter than this are GPS noise whatever the implied speed (fixes a second apart). */
  jump_min_metres?: number;
  channels?: Channel[];
  /** Consecutive fixes over the limit before speeding is raised (one fast fix is noise). */
  speeding_fixes?: number;
}

interface Seen {
  time: Date;
  at: LatLon;
  inPort: boolean;
  dark: { since: Date; id: string } | null;
  speeding: { channel: string; fixes: number; id: string | null; max: number } | null;
  name: string | null;
  imo: number | null;
  callsign: string | null;
  mmsiReported: boolean;
  imoReported: number | null;
}

/**
 * Watches the AIS picture for what an inspection officer wants to know about:
 * vessels that go dark in port, impossible position jumps, speeding in a
 * channel, invalid identities and identity changes. Pure and clock-free: the
 * caller passes fixes in and calls `sweep(now)` for silence.
 */
export class AisAnomalyDetector {
  private readonly vessels = new Map<number, Seen>();
  private readonly darkMs: number;
  private readonly jumpKnots: number;
  private readonly jumpMinMetres: number;
  private readonly speedingFixes: number;

  constructor(private readonly options: AisAnomalyOptions = {}) {
    this.darkMs = (options.dark_after_seconds ?? 1800) * 1000;
    this.jumpKnots = options.jump_knots ?? 50;
    this.jumpMinMetres = options.jump_min_metres ?? 200;
    this.speedingFixes = options.speeding_fixes ?? 2;
  }

  observePosition(fix: VesselPosition): PortEvent[] {
    const events: PortEvent[] = [];
    const at: LatLon = [fix.lat, fix.lon];
    let s = this.vessels.get(fix.mmsi);
    if (!s) {
      s = this.newSeen(fix.time, at);
      this.vessels.set(fix.mmsi, s);
    } else if (fix.time.getTime() < s.time.getTime()) {
      return events; // an older fix relayed late by another station says nothing new
    }

    if (!s.mmsiReported) {
      s.mmsiReported = true;
      const check = checkMmsi(fix.mmsi);
      if (check.kind === 'invalid') {
        events.push(this.instant('ais_invalid_identity', fix.mmsi, fix.time, { field: 'mmsi', value: fix.mmsi, reason: check.reason }));
      }
    }

    if (s.dark) {
      events.push({
        id: s.dark.id,
        time: fix.time,
        kind: 'ais_dark',
        phase: 'end',
        mmsi: fix.mmsi,
        details: { silent_seconds: Math.round((fix.time.getTime() - s.dark.since.getTime()) / 1000), lat: fix.lat, lon: fix.lon },
      });
      s.dark = null;
    } else if (s.time.getTime() !== fix.time.getTime() || s.at[0] !== at[0] || s.at[1] !== at[1]) {
      const metres = distanceMetres(s.at, at);
      const knots = impliedKnots(s.at, s.time, at, fix.time);
      if (metres >= this.jumpMinMetres && knots > this.jumpKnots) {
        events.push(
          this.instant('ais_position_jump', fix.mmsi, fix.time, {
            from: s.at,
            to: at,
            distance_m: Math.round(metres),
            implied_knots: Number.isFinite(knots) ? Math.round(knots * 10) / 10 : null,
            seconds: (fix.time.getTime() - s.time.getTime()) / 1000,
          }),
        );
      }
    }

    events.push(...this.checkSpeeding(s, fix, at));
    s.time = fix.time;
    s.at = at;
    s.inPort = this.options.port_area ? pointInPolygon(at, this.options.port_area) : true;
    return events;
  }

  observeIdentity(id: VesselIdentity): PortEvent[] {
    const events: PortEvent[] = [];
    let s = this.vessels.get(id.mmsi);
    if (!s) {
      // Static data before any position: remember identity, but the vessel is not "in port" yet.
      s = this.newSeen(id.time, [Number.NaN, Number.NaN]);
      s.inPort = false;
      this.vessels.set(id.mmsi, s);
    }
    const name = normaliseText(id.shipname);
    const callsign = normaliseText(id.callsign);
    const imo = id.imo && id.imo > 0 ? id.imo : null;

    if (imo !== null && !isValidImo(imo) && s.imoReported !== imo) {
      s.imoReported = imo;
      events.push(this.instant('ais_invalid_identity', id.mmsi, id.time, { field: 'imo', value: imo, reason: 'IMO check digit does not match' }));
    }
    for (const [field, before, after] of [
      ['shipname', s.name, name],
      ['imo', s.imo, imo],
      ['callsign', s.callsign, callsign],
    ] as const) {
      if (before !== null && after !== null && before !== after) {
        events.push(this.instant('ais_identity_change', id.mmsi, id.time, { field, from: before, to: after }));
      }
    }
    s.name = name ?? s.name;
    s.imo = imo ?? s.imo;
    s.callsign = callsign ?? s.callsign;
    return events;
  }

  /** Raises `ais_dark` for vessels in port silent longer than the threshold. Call it every few seconds. */
  sweep(now: Date): PortEvent[] {
    const events: PortEvent[] = [];
    for (const [mmsi, s] of this.vessels) {
      if (s.dark || !s.inPort || Number.isNaN(s.at[0])) continue;
      if (now.getTime() - s.time.getTime() < this.darkMs) continue;
      const since = s.time;
      const id = eventId('ais_dark', mmsi, since.toISOString());
      s.dark = { since, id };
      events.push({
        id,
        time: new Date(since.getTime() + this.darkMs),
        kind: 'ais_dark',
        phase: 'start',
        mmsi,
        details: { last_seen: since.toISOString(), lat: s.at[0], lon: s.at[1], threshold_seconds: this.darkMs / 1000 },
      });
    }
    return events;
  }

  private checkSpeeding(s: Seen, fix: VesselPosition, at: LatLon): PortEvent[] {
    const channel = (this.options.channels ?? []).find((c) => pointInPolygon(at, c.polygon));
    const over = channel && fix.speed !== null && fix.speed > channel.speed_limit_kn;
    if (!over) {
      const ended = s.speeding?.id
        ? [
            {
              id: s.speeding.id,
              time: fix.time,
              kind: 'ais_speeding' as const,
              phase: 'end' as const,
              mmsi: fix.mmsi,
              details: { channel: s.speeding.channel, max_speed_kn: s.speeding.max },
            },
          ]
        : [];
      s.speeding = null;
      return ended;
    }
    if (!s.speeding || s.speeding.channel !== channel.id) s.speeding = { channel: channel.id, fixes: 0, id: null, max: 0 };
    s.speeding.fixes++;
    s.speeding.max = Math.max(s.speeding.max, fix.speed!);
    if (s.speeding.id || s.speeding.fixes < this.speedingFixes) return [];
    s.speeding.id = eventId('ais_speeding', fix.mmsi, channel.id, fix.time.toISOString());
    return [
      {
        id: s.speeding.id,
        time: fix.time,
        kind: 'ais_speeding',
        phase: 'start',
        mmsi: fix.mmsi,
        details: { channel: channel.id, speed_kn: fix.speed, limit_kn: channel.speed_limit_kn, lat: fix.lat, lon: fix.lon },
      },
    ];
  }

  private newSeen(time: Date, at: LatLon): Seen {
    return { time, at, inPort: true, dark: null, speeding: null, name: null, imo: null, callsign: null, mmsiReported: false, imoReported: null };
  }

  private instant(kind: PortEvent['kind'], mmsi: number, time: Date, details: Record<string, unknown>): PortEvent {
    return { id: eventId(kind, mmsi, time.toISOString(), JSON.stringify(details)), time, kind, phase: 'instant', mmsi, details };
  }
}

/** AIS pads text with '@' and spaces; an empty result means "not available". */
function normaliseText(s: string | null | undefined): string | null {
  if (!s) return null;
  const t = s.replace(/@+$/g, '').replace(/\s+/g, ' ').trim().toUpperCase();
  return t.length > 0 ? t : null;
}
