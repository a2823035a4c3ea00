/**
 * A synthetic but realistic port scenario for the demo site (config/site.demo.yaml,
 * berths D1 and D2), written as real `!AIVDM` sentences with NMEA 4.10 tag
 * blocks (`\s:station,c:time*hh\`): vessels approach through the channel, moor,
 * leave; one goes dark at its berth; one speeds in the channel; one sends a bad
 * IMO; one changes its name; one position jumps; one has an invalid MMSI; one
 * moors at a berth the schedule gives to someone else.
 *
 * The script (`facts`) says what happens and when, from the scenario's own
 * plan, so tests can check the ingest against it independently of the code
 * under test.
 *
 *   node --import tsx scripts/sim/ais-scenario.ts --out /tmp/port.nmea [--start 2026-11-27T00:00:00Z] [--bad-lines]
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { AisAnomalyOptions, Channel } from '../../pipeline/anomalies/index.js';
import type { BerthArea, LatLon } from '../../pipeline/berths/index.js';
import { encodePositionReport, encodeStaticVoyage, type StaticVoyageFields } from '../../pipeline/ais-ingest/encode.js';

/** The demo site's berths (config/site.demo.yaml). */
export const DEMO_BERTH_POLYGONS: Record<'D1' | 'D2', LatLon[]> = {
  D1: [[24.4515, 118.03], [24.4515, 118.034], [24.451, 118.034], [24.451, 118.03]],
  D2: [[24.4515, 118.0342], [24.4515, 118.0382], [24.451, 118.0382], [24.451, 118.0342]],
};
const D1_CENTRE: LatLon = [24.45125, 118.032];
const D2_CENTRE: LatLon = [24.45125, 118.0362];

/** The port's waters and its approach channel; config/site.demo.yaml's `ais:` section holds the same values (checked in test/ais-ingest.test.ts). */
export const DEMO_PORT_AREA: LatLon[] = [[24.4, 117.98], [24.48, 117.98], [24.48, 118.1], [24.4, 118.1]];
export const DEMO_CHANNEL: Channel = {
  id: 'main-channel',
  polygon: [[24.42, 118.0], [24.449, 118.0], [24.449, 118.06], [24.42, 118.06]],
  speed_limit_kn: 8,
};

export const DEMO_AIS_OPTIONS: { anomalies: AisAnomalyOptions; occupancy: { arrival_minutes: number; moored_speed_kn: number } } = {
  anomalies: { port_area: DEMO_PORT_AREA, channels: [DEMO_CHANNEL], dark_after_seconds: 900, jump_knots: 50, speeding_fixes: 2 },
  occupancy: { arrival_minutes: 10, moored_speed_kn: 0.5 },
};

export const VESSELS = {
  haiXing: { mmsi: 413000001, imo: 9074729, name: 'HAI XING', callsign: 'BQAA' },
  darkStar: { mmsi: 413000002, imo: 9321483, name: 'DARK STAR', callsign: 'BQAB' },
  fastCat: { mmsi: 413000003, imo: 9176187, name: 'FAST CAT', callsign: 'BQAC' },
  /** Assigned to D2 by the schedule, never comes. */
  noShow: { mmsi: 413000004, imo: 9247431, name: 'NO SHOW', callsign: 'BQAD' },
  badImo: { mmsi: 413000005, imo: 1234568, name: 'NO CHECK', callsign: 'BQAE' },
  renamed: { mmsi: 413000006, imo: 9305609, name: 'OCEAN PEARL', callsign: 'BQAF', renamedTo: 'OCEAN PEARL II' },
  jumper: { mmsi: 413000007, imo: 9187629, name: 'JUMPY', callsign: 'BQAG' },
  /** MID 100 is not allocated to any country. */
  badMmsi: { mmsi: 100000007, imo: 0, name: 'NOBODY', callsign: '' },
} as const;

export interface ScenarioOptions {
  /** Scenario start, Unix seconds (default 2026-11-27T00:00:00Z). */
  start?: number;
  station?: string;
  /** Insert corrupted lines (bad checksum, garbage, truncated) between the good ones. */
  badLines?: boolean;
}

export interface ScenarioFacts {
  start: Date;
  end: Date;
  /** Each berth visit as planned: arrival = first still fix at the berth, departure = first fix after leaving. */
  visits: Array<{ mmsi: number; berth: 'D1' | 'D2'; arrived_at: Date; departed_at: Date | null }>;
  /** The dark vessel's last fix. */
  darkLastSeen: Date;
  /** The position jump (the false fix). */
  jumpAt: Date;
  /** When the renamed vessel first reports its new name. */
  renamedAt: Date;
  /** First and last time the speeder is inside the channel above the limit. */
  speeding: { from: Date; to: Date };
  /** Good lines (each sentence of a two-sentence message counts), and the corrupted lines inserted. */
  goodLines: number;
  badLines: number;
  /** AIS messages the good lines make (a type 5 is two lines, one message). */
  messages: number;
  positionReports: number;
  staticReports: number;
}

export interface Scenario {
  lines: string[];
  facts: ScenarioFacts;
  berths: BerthArea[];
  options: typeof DEMO_AIS_OPTIONS;
}

type Leg =
  | { kind: 'sail'; to: LatLon; knots: number; every?: number }
  /** `minutes: 'end'`: until the scenario ends (vessels still in port at the end keep reporting, so none looks dark). */
  | { kind: 'stay'; minutes: number | 'end'; status: number; every?: number }
  | { kind: 'silent'; minutes: number }
  | { kind: 'spoof'; at: LatLon };

interface Msg {
  time: number;
  order: number;
  lines: string[];
  position: boolean;
}

const M_PER_DEG_LAT = 111_195;
const KNOT = 1852 / 3600;

function metres(a: LatLon, b: LatLon): number {
  const dy = (b[0] - a[0]) * M_PER_DEG_LAT;
  const dx = (b[1] - a[1]) * M_PER_DEG_LAT * Math.cos(((a[0] + b[0]) / 2) * (Math.PI / 180));
  return Math.hypot(dx, dy);
}

function bearing(a: LatLon, b: LatLon): number {
  const dy = b[0] - a[0];
  const dx = (b[1] - a[1]) * Math.cos(a[0] * (Math.PI / 180));
  return ((Math.atan2(dx, dy) * 180) / Math.PI + 360) % 360;
}

function inside(p: LatLon, poly: readonly LatLon[]): boolean {
  const lats = poly.map((q) => q[0]);
  const lons = poly.map((q) => q[1]);
  return p[0] >= Math.min(...lats) && p[0] <= Math.max(...lats) && p[1] >= Math.min(...lons) && p[1] <= Math.max(...lons);
}

export function portScenario(options: ScenarioOptions = {}): Scenario {
  const start = options.start ?? Date.UTC(2026, 10, 27, 0, 0, 0) / 1000;
  const station = options.station ?? 'demo';
  const end = start + 3 * 3600;
  const msgs: Msg[] = [];
  let order = 0;
  let seq = 0;
  const add = (time: number, lines: string[], position: boolean) => msgs.push({ time: Math.round(time), order: order++, lines, position });

  const position = (mmsi: number, time: number, at: LatLon, speed: number, course: number, status: number) =>
    add(time, encodePositionReport({ mmsi, lat: at[0], lon: at[1], speed, course, heading: Math.round(course) % 360, status, second: Math.round(time) % 60 }, { station, time: Math.round(time), channel: 'A' }), true);
  const statics = (v: { mmsi: number; imo: number; name: string; callsign: string }, time: number, extra: Partial<StaticVoyageFields> = {}) =>
    add(
      time,
      encodeStaticVoyage(
        { mmsi: v.mmsi, imo: v.imo, callsign: v.callsign, shipname: v.name, shiptype: 70, to_bow: 120, to_stern: 30, to_port: 12, to_starboard: 12, draught: 8.5, destination: 'XIAMEN', ...extra },
        { station, time: Math.round(time), channel: 'B', sequence: seq++ % 10 },
      ),
      false,
    );

  /** Runs a vessel's legs from `t0`; returns the time and place where it ends. */
  const run = (mmsi: number, from: LatLon, t0: number, legs: Leg[]): { t: number; at: LatLon; firsts: number[] } => {
    let t = t0;
    let at = from;
    const firsts: number[] = [];
    for (const leg of legs) {
      if (leg.kind === 'sail') {
        const every = leg.every ?? 30;
        const dist = metres(at, leg.to);
        const seconds = dist / (leg.knots * KNOT);
        const course = bearing(at, leg.to);
        const steps = Math.max(1, Math.ceil(seconds / every));
        const origin = at;
        firsts.push(t + every);
        for (let i = 1; i <= steps; i++) {
          const f = Math.min(1, (i * every) / seconds);
          const p: LatLon = [origin[0] + (leg.to[0] - origin[0]) * f, origin[1] + (leg.to[1] - origin[1]) * f];
          position(mmsi, t + Math.min(i * every, seconds), p, leg.knots, course, 0);
        }
        t += seconds;
        at = leg.to;
      } else if (leg.kind === 'stay') {
        const every = leg.every ?? 180;
        const seconds = leg.minutes === 'end' ? end - t : leg.minutes * 60;
        firsts.push(t + 10);
        for (let s = 10; s <= seconds; s += every) position(mmsi, t + s, at, 0.1, 0, leg.status);
        t += seconds;
      } else if (leg.kind === 'silent') {
        firsts.push(t);
        t += leg.minutes * 60;
      } else {
        firsts.push(t + 30);
        position(mmsi, t + 30, leg.at, 0.1, 0, 1);
        t += 30;
      }
    }
    return { t, at, firsts };
  };

  const sea = (lon: number): LatLon => [24.38, lon];
  const channelMouth = (lon: number): LatLon => [24.449, lon];

  // HAI XING: in through the channel at 7 kn, moors at D1 (its scheduled berth) for 40 min, leaves.
  const hx = VESSELS.haiXing;
  statics(hx, start + 5);
  const hxRun = run(hx.mmsi, sea(118.032), start, [
    { kind: 'sail', to: channelMouth(118.032), knots: 7 },
    { kind: 'sail', to: D1_CENTRE, knots: 3, every: 20 },
    { kind: 'stay', minutes: 40, status: 5, every: 120 },
    { kind: 'sail', to: [24.44, 118.032], knots: 6 },
    { kind: 'sail', to: sea(118.032), knots: 7 },
  ]);
  statics(hx, start + 45 * 60);

  // DARK STAR: moors at D2 (scheduled for NO SHOW), then falls silent at its berth.
  const ds = VESSELS.darkStar;
  statics(ds, start + 65);
  const dsRun = run(ds.mmsi, sea(118.036), start + 60, [
    { kind: 'sail', to: channelMouth(118.036), knots: 7.5 },
    { kind: 'sail', to: D2_CENTRE, knots: 3, every: 20 },
    { kind: 'stay', minutes: 24, status: 5, every: 120 },
  ]);

  // FAST CAT: runs up the channel at 14 kn (limit 8) and back out.
  const fc = VESSELS.fastCat;
  statics(fc, start + 300);
  const fcT0 = start + 10 * 60;
  const fcRun = run(fc.mmsi, sea(118.02), fcT0, [
    { kind: 'sail', to: [24.445, 118.02], knots: 14, every: 15 },
    { kind: 'sail', to: sea(118.02), knots: 14, every: 15 },
  ]);

  // NO CHECK: bad IMO check digit, sails in and anchors.
  const bi = VESSELS.badImo;
  statics(bi, start + 120);
  run(bi.mmsi, [24.47, 117.99], start + 100, [
    { kind: 'sail', to: [24.47, 118.06], knots: 6 },
    { kind: 'stay', minutes: 'end', status: 1 },
  ]);

  // OCEAN PEARL: at anchor; renames itself an hour in.
  const rn = VESSELS.renamed;
  statics(rn, start + 30);
  const renamedAt = start + 60 * 60;
  statics({ ...rn, name: rn.renamedTo }, renamedAt);
  run(rn.mmsi, [24.46, 118.07], start + 20, [{ kind: 'stay', minutes: 'end', status: 1 }]);

  // JUMPY: at anchor; one false fix 35 km away, then back.
  const jp = VESSELS.jumper;
  statics(jp, start + 40);
  const jpRun = run(jp.mmsi, [24.465, 118.075], start + 25, [
    { kind: 'stay', minutes: 60, status: 1 },
    { kind: 'spoof', at: [24.7, 118.3] },
    { kind: 'stay', minutes: 'end', status: 1 },
  ]);

  // NOBODY: invalid MMSI, at anchor.
  const bm = VESSELS.badMmsi;
  run(bm.mmsi, [24.455, 118.085], start + 50, [{ kind: 'stay', minutes: 'end', status: 1 }]);

  msgs.sort((a, b) => a.time - b.time || a.order - b.order);
  const lines: string[] = [];
  let bad = 0;
  let goodLines = 0;
  msgs.forEach((m, i) => {
    for (const l of m.lines) {
      lines.push(l);
      goodLines++;
    }
    if (options.badLines && i % 97 === 50) {
      const victim = m.lines[0]!;
      // A flipped payload character (checksum no longer matches), a line of noise, a truncated sentence.
      const k = victim.indexOf(',A,') + 4;
      lines.push(victim.slice(0, k) + (victim[k] === '0' ? '1' : '0') + victim.slice(k + 1));
      lines.push('\u0000\u00ff#$%garbage that is not NMEA');
      lines.push(victim.slice(0, victim.length - 12));
      bad += 3;
    }
  });

  const at = (s: number) => new Date(s * 1000);
  const stayStart = (r: { firsts: number[] }, legIndex: number) => at(Math.round(r.firsts[legIndex]!));
  // Leaving a berth: the first fix of the next leg.
  const hxDeparture = at(Math.round(hxRun.firsts[3]!));
  // Speeding: inside the channel (lat ≥ 24.42) above the limit on the way in and out.
  const fcIn = fcT0 + metres(sea(118.02), [24.42, 118.02]) / (14 * KNOT);
  const fcOut = fcRun.t - metres([24.42, 118.02], sea(118.02)) / (14 * KNOT);
  const lastTime = msgs[msgs.length - 1]!.time;
  // DARK STAR's last fix: the last stay fix at D2.
  const dsStay = dsRun.firsts[2]!;
  let dsLast = dsStay;
  while (dsLast + 120 <= dsRun.t) dsLast += 120;

  return {
    lines,
    berths: [
      { id: 'D1', name: 'Demo berth 1', polygon: DEMO_BERTH_POLYGONS.D1, schedule: [{ mmsi: hx.mmsi, from: at(start), to: at(start + 4 * 3600) }] },
      { id: 'D2', name: 'Demo berth 2', polygon: DEMO_BERTH_POLYGONS.D2, schedule: [{ mmsi: VESSELS.noShow.mmsi, from: at(start), to: at(start + 4 * 3600) }] },
    ],
    options: DEMO_AIS_OPTIONS,
    facts: {
      start: at(start),
      end: at(lastTime),
      visits: [
        { mmsi: hx.mmsi, berth: 'D1', arrived_at: stayStart(hxRun, 2), departed_at: hxDeparture },
        { mmsi: ds.mmsi, berth: 'D2', arrived_at: stayStart(dsRun, 2), departed_at: null },
      ],
      darkLastSeen: at(Math.round(dsLast)),
      jumpAt: at(Math.round(jpRun.firsts[1]!)),
      renamedAt: at(renamedAt),
      speeding: { from: at(fcIn), to: at(fcOut) },
      goodLines,
      badLines: bad,
      messages: msgs.length,
      positionReports: msgs.filter((m) => m.position).length,
      staticReports: msgs.filter((m) => !m.position).length,
    },
  };
}

/** True when `p` lies in a demo berth (the scenario's own check, not the occupancy stage's). */
export function inDemoBerth(p: LatLon): 'D1' | 'D2' | null {
  if (inside(p, DEMO_BERTH_POLYGONS.D1)) return 'D1';
  if (inside(p, DEMO_BERTH_POLYGONS.D2)) return 'D2';
  return null;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = arg('out');
  const startArg = arg('start');
  const s = portScenario({
    ...(startArg ? { start: Math.floor(new Date(startArg).getTime() / 1000) } : {}),
    badLines: process.argv.includes('--bad-lines'),
  });
  const text = `${s.lines.join('\n')}\n`;
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  process.stderr.write(`${s.lines.length} lines, ${s.facts.messages} messages, ${s.facts.start.toISOString()} → ${s.facts.end.toISOString()}\n`);
}
