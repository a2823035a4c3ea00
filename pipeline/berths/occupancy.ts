import { eventId, type PortEvent } from '../events/index.js';
import { pointInPolygon } from '../geometry/index.js';
import type { LatLon } from './geo.js';

/** One position fix of one vessel, the part of an AIS position report occupancy needs. */
export interface VesselPosition {
  mmsi: number;
  time: Date;
  lat: number;
  lon: number;
  /** Speed over ground in knots; null when the report says "not available". */
  speed: number | null;
  course?: number | null;
  station?: string | null;
  /** The berth the fix lies in when the caller already looked it up with `berthAt` (null: none); absent: looked up here. */
  berth?: string | null;
}

/** Who is expected at a berth and when (from the port's berth schedule). */
export interface BerthAssignment {
  mmsi: number;
  from: Date;
  to: Date;
}

export interface BerthArea {
  id: string;
  name?: string;
  polygon: LatLon[];
  schedule?: BerthAssignment[];
}

/** A row of `berth_visits`: written on arrival, updated on departure. */
export interface BerthVisit {
  id: string;
  berth: string;
  mmsi: number;
  arrived_at: Date;
  departed_at: Date | null;
}

export interface BerthOccupancyOptions {
  /** A vessel slower than this (knots) inside a berth is lying there. */
  moored_speed_kn?: number;
  /** How long it must lie there before it counts as an arrival. */
  arrival_minutes?: number;
  /** Consecutive fixes outside its berth before a moored vessel has departed (one stray fix is GPS noise). */
  departure_fixes?: number;
}

export interface OccupancyUpdate {
  events: PortEvent[];
  /** Visits to insert or update (same id on both). */
  visits: BerthVisit[];
}

interface VesselState {
  lastTime: number;
  candidate: { berth: string; since: Date } | null;
  moored: { visit: BerthVisit; outsideFixes: number; firstOutside: Date | null } | null;
}

/**
 * Berth occupancy from AIS fixes. Arrival: inside a berth polygon below
 * `moored_speed_kn` for `arrival_minutes` (the arrival time is when it first
 * lay still, not when we became sure). Departure: `departure_fixes` fixes in a
 * row outside the berth. A moored vessel that falls silent stays moored —
 * ships at berth report rarely, and going dark is the anomaly detector's call.
 */
export class BerthOccupancy {
  private readonly mooredSpeed: number;
  private readonly arrivalMs: number;
  private readonly departureFixes: number;
  private readonly vessels = new Map<number, VesselState>();
  private readonly byId: Map<string, BerthArea>;
  /** Fixes that arrived older than the vessel's latest one (feeds from several stations interleave). */
  outOfOrderFixes = 0;

  constructor(
    private readonly berths: readonly BerthArea[],
    options: BerthOccupancyOptions = {},
  ) {
    this.mooredSpeed = options.moored_speed_kn ?? 0.5;
    this.arrivalMs = (options.arrival_minutes ?? 10) * 60_000;
    this.departureFixes = options.departure_fixes ?? 2;
    this.byId = new Map(berths.map((b) => [b.id, b]));
  }

  berthAt(lat: number, lon: number): BerthArea | undefined {
    return this.berths.find((b) => pointInPolygon([lat, lon], b.polygon));
  }

  /** Vessels lying at each berth now: berth id → visits. */
  occupancy(): Map<string, BerthVisit[]> {
    const out = new Map<string, BerthVisit[]>();
    for (const s of this.vessels.values()) {
      if (!s.moored) continue;
      const list = out.get(s.moored.visit.berth) ?? [];
      list.push(s.moored.visit);
      out.set(s.moored.visit.berth, list);
    }
    return out;
  }

  /**
   * Re-seed vessels still moored after a restart, from the open visits in the
   * store: each becomes moored at its berth under its own visit (same id), so
   * its next fixes at the berth are not a second arrival and its departure
   * closes that visit. Visits with a departure, at a berth this instance does
   * not know, or of a vessel already tracked are skipped; for a vessel listed
   * twice the latest arrival wins (an older one was left open by a lost
   * departure). Returns the number of vessels restored.
   */
  restore(visits: readonly BerthVisit[]): number {
    const latest = new Map<number, BerthVisit>();
    for (const v of visits) {
      if (v.departed_at !== null) continue;
      if (!this.byId.has(v.berth)) continue;
      const prev = latest.get(v.mmsi);
      if (!prev || v.arrived_at.getTime() > prev.arrived_at.getTime()) latest.set(v.mmsi, v);
    }
    let restored = 0;
    for (const v of latest.values()) {
      if (this.vessels.has(v.mmsi)) continue;
      this.vessels.set(v.mmsi, {
        // Fixes from before the arrival are history the visit already covers.
        lastTime: v.arrived_at.getTime(),
        candidate: null,
        moored: { visit: { ...v, departed_at: null }, outsideFixes: 0, firstOutside: null },
      });
      restored++;
    }
    return restored;
  }

  update(fix: VesselPosition): OccupancyUpdate {
    const out: OccupancyUpdate = { events: [], visits: [] };
    const t = fix.time.getTime();
    let s = this.vessels.get(fix.mmsi);
    if (!s) {
      s = { lastTime: -Infinity, candidate: null, moored: null };
      this.vessels.set(fix.mmsi, s);
    }
    if (t < s.lastTime) {
      this.outOfOrderFixes++;
      return out;
    }
    s.lastTime = t;
    const berth = fix.berth === undefined ? this.berthAt(fix.lat, fix.lon) : fix.berth === null ? undefined : this.byId.get(fix.berth);

    if (s.moored) {
      if (berth?.id === s.moored.visit.berth) {
        s.moored.outsideFixes = 0;
        s.moored.firstOutside = null;
        return out;
      }
      s.moored.outsideFixes++;
      s.moored.firstOutside ??= fix.time;
      if (s.moored.outsideFixes < this.departureFixes) return out;
      const visit = { ...s.moored.visit, departed_at: s.moored.firstOutside };
      s.moored = null;
      out.visits.push(visit);
      out.events.push(this.event('berth_departure', visit, visit.departed_at!, fix));
    }

    const still = fix.speed !== null && fix.speed < this.mooredSpeed;
    if (!berth || !still) {
      s.candidate = null;
      return out;
    }
    if (s.candidate?.berth !== berth.id) s.candidate = { berth: berth.id, since: fix.time };
    if (t - s.candidate.since.getTime() < this.arrivalMs) return out;

    const arrived = s.candidate.since;
    const visit: BerthVisit = {
      id: eventId('berth_visit', berth.id, fix.mmsi, arrived.toISOString()),
      berth: berth.id,
      mmsi: fix.mmsi,
      arrived_at: arrived,
      departed_at: null,
    };
    s.candidate = null;
    s.moored = { visit, outsideFixes: 0, firstOutside: null };
    out.visits.push(visit);
    out.events.push(this.event('berth_arrival', visit, arrived, fix));
    const unassigned = this.checkAssignment(berth, fix.mmsi, arrived, fix);
    if (unassigned) out.events.push(unassigned);
    return out;
  }

  /**
   * When the berth has a schedule, a vessel arriving outside its own slot —
   * or at a berth the schedule gives to someone else — is flagged.
   */
  private checkAssignment(berth: BerthArea, mmsi: number, at: Date, fix: VesselPosition): PortEvent | null {
    const mine = this.berths.flatMap((b) => (b.schedule ?? []).filter((a) => a.mmsi === mmsi).map((a) => ({ berth: b.id, ...a })));
    const current = (berth.schedule ?? []).filter((a) => a.from.getTime() <= at.getTime() && at.getTime() <= a.to.getTime());
    if (!berth.schedule?.length && mine.length === 0) return null; // no schedule known: nothing to compare with
    const ok = current.some((a) => a.mmsi === mmsi);
    if (ok) return null;
    const assigned = mine.find((a) => a.from.getTime() <= at.getTime() && at.getTime() <= a.to.getTime());
    return {
      id: eventId('ais_unassigned_berth', berth.id, mmsi, at.toISOString()),
      time: at,
      kind: 'ais_unassigned_berth',
      phase: 'instant',
      berth: berth.id,
      mmsi,
      details: {
        assigned_berth: assigned?.berth ?? null,
        berth_assigned_to: current.map((a) => a.mmsi),
        lat: fix.lat,
        lon: fix.lon,
      },
    };
  }

  private event(kind: 'berth_arrival' | 'berth_departure', visit: BerthVisit, time: Date, fix: VesselPosition): PortEvent {
    return {
      id: eventId(kind, visit.berth, visit.mmsi, time.toISOString()),
      time,
      kind,
      phase: 'instant',
      berth: visit.berth,
      mmsi: visit.mmsi,
      details: {
        visit: visit.id,
        arrived_at: visit.arrived_at.toISOString(),
        ...(visit.departed_at ? { departed_at: visit.departed_at.toISOString() } : {}),
        lat: fix.lat,
        lon: fix.lon,
      },
    };
  }
}
