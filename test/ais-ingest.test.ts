import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAisLines, type AisRecord } from '../pipeline/ais/index.js';
import {
  AisIngest,
  berthOccupancyHourly,
  encodePositionReport,
  encodeStaticVoyage,
  parseAisIngestSettings,
  aisStageOptions,
  mergeAisSettings,
  parseEta,
  readPosition,
  type AisIngestOptions,
} from '../pipeline/ais-ingest/index.js';
import type { AisMessage } from '../pipeline/ais/index.js';
import { loadSiteConfig } from '../pipeline/config/index.js';
import { pointInPolygon } from '../pipeline/berths/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { EventQueue } from '../pipeline/queue/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { portScenario, VESSELS, type Scenario } from '../scripts/sim/ais-scenario.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { testRedisUrl } from './helpers/services.js';

const logger = silentLogger();
const fixture = (p: string) => fileURLToPath(new URL(`./fixtures/ais/${p}`, import.meta.url));
const POSITION_TYPES = new Set([1, 2, 3, 18, 19, 27]);

/** Feed lines through the ingest as a feed would (awaiting its backpressure), then flush. */
async function ingestLines(ingest: AisIngest, lines: readonly string[], feed: string, received: (n: number) => Date): Promise<void> {
  let n = 0;
  for (const line of lines) {
    n++;
    const r = ingest.handleLine(line, { feed, received: received(n), line_number: n });
    if (r) await r;
  }
  ingest.finishFeed(feed);
  await ingest.flush();
}

const count = async (store: Store, sql: string, params: unknown[] = []) => Number((await store.query<{ n: number }>(sql, params)).rows[0]!.n);

describe('encoder (checked against the decoder and gpsdecode)', () => {
  const lines = [
    ...encodePositionReport({ mmsi: 413000001, lat: 24.45125, lon: 118.032, speed: 0.3, course: 271.5, heading: 270, status: 5, second: 12 }, { station: 's1', time: 1795000000 }),
    ...encodePositionReport({ mmsi: 413000002, lat: -33.5, lon: -70.25, speed: null, course: null, heading: null }),
    ...encodeStaticVoyage(
      { mmsi: 413000001, imo: 9074729, callsign: 'BQAA', shipname: 'HAI XING', shiptype: 70, to_bow: 150, to_stern: 40, to_port: 15, to_starboard: 15, draught: 9.8, destination: 'XIAMEN', eta: { month: 11, day: 27, hour: 10, minute: 30 } },
      { station: 's1', time: 1795000000, sequence: 3 },
    ),
  ];

  it('writes sentences our decoder reads back field by field', () => {
    const { records, stats } = decodeAisLines(lines);
    expect(stats.rejected).toBe(0);
    const [a, b, c] = records.map((r) => (r as AisRecord).message);
    expect(a).toMatchObject({ type: 1, mmsi: 413000001, lat: 24.45125, lon: 118.032, speed: 0.3, course: 271.5, heading: 270, status: 5, second: 12 });
    expect((records[0] as AisRecord).tagBlock?.time).toBe(1795000000);
    expect(b).toMatchObject({ type: 1, mmsi: 413000002, lat: -33.5, lon: -70.25, speed: 'n/a', course: 360, heading: 511 });
    expect(c).toMatchObject({ type: 5, imo: 9074729, callsign: 'BQAA', shipname: 'HAI XING', to_bow: 150, draught: 9.8, destination: 'XIAMEN', eta: '11-27T10:30Z' });
  });

  it('writes sentences gpsdecode (gpsd-clients) decodes to the same values', () => {
    const plain = lines.map((l) => l.replace(/^\\[^\\]*\\/, ''));
    const r = spawnSync('gpsdecode', ['-j'], { input: `${plain.join('\n')}\n`, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatchObject({ type: 1, mmsi: 413000001, status: 5, speed: 0.3, lon: 118.032, lat: 24.45125, course: 271.5, heading: 270, second: 12 });
    expect(out[1]).toMatchObject({ type: 1, mmsi: 413000002, lon: -70.25, lat: -33.5, heading: 511 });
    expect(out[2]).toMatchObject({ type: 5, mmsi: 413000001, imo: 9074729, callsign: 'BQAA', shipname: 'HAI XING', shiptype: 70, to_bow: 150, to_stern: 40, draught: 9.8, destination: 'XIAMEN' });
  });
});

describe('position fields with gpsd semantics', () => {
  const msg = (fields: Record<string, unknown>): AisMessage => ({ class: 'AIS', type: 1, repeat: 0, mmsi: 413000001, scaled: true, ...fields });

  it('turns "not available" markers into nulls', () => {
    const p = readPosition(msg({ lat: 91, lon: 181, speed: 'n/a', course: 360, heading: 511, status: 15 }));
    expect(p).toMatchObject({ lat: null, lon: null, speed: null, course: null, heading: null, status: 15, invalidPosition: false });
  });
  it('keeps "fast" as 102.2 kn and flags out-of-range positions', () => {
    expect(readPosition(msg({ lat: 95.5, lon: 10, speed: 'fast', course: 12.3, heading: 7 }))).toMatchObject({ lat: null, lon: null, speed: 102.2, course: 12.3, heading: 7, invalidPosition: true });
  });
  it('reads type 27 markers (speed 63, course 511)', () => {
    const p = readPosition(msg({ type: 27, lat: 91, lon: 181, speed: 63, course: 511, status: 0 }));
    expect(p).toMatchObject({ lat: null, speed: null, course: null, status: 0 });
    expect(readPosition(msg({ type: 27, lat: 24.5, lon: 118, speed: 12, course: 90 }))).toMatchObject({ lat: 24.5, speed: 12, course: 90 });
  });
  it('reads an ETA without a year as the next such moment', () => {
    expect(parseEta('11-27T10:30Z', new Date('2026-11-01T00:00:00Z'))?.toISOString()).toBe('2026-11-27T10:30:00.000Z');
    expect(parseEta('01-03T06:00Z', new Date('2026-12-30T00:00:00Z'))?.toISOString()).toBe('2027-01-03T06:00:00.000Z');
    expect(parseEta('00-00T24:60Z', new Date())).toBeNull();
  });
  it("the demo site carries the scenario's AIS settings and berth schedule", () => {
    const site = loadSiteConfig(fileURLToPath(new URL('../config/site.demo.yaml', import.meta.url)), { env: {} });
    const o = aisStageOptions(site.ais);
    const s = portScenario();
    expect(o.anomalies.port_area).toEqual(s.options.anomalies.port_area);
    expect(o.anomalies.channels).toEqual(s.options.anomalies.channels);
    expect(o.anomalies.dark_after_seconds).toBe(s.options.anomalies.dark_after_seconds);
    expect(o.anomalies.speeding_fixes).toBe(s.options.anomalies.speeding_fixes);
    expect(o.occupancy.arrival_minutes).toBe(s.options.occupancy.arrival_minutes);
    expect(o.occupancy.moored_speed_kn).toBe(s.options.occupancy.moored_speed_kn);
    // The scenario's schedule (HAI XING at D1, NO SHOW at D2), with slots covering its own day.
    for (const b of s.berths) {
      const mine = site.berths.find((x) => x.id === b.id)!;
      expect(mine.polygon).toEqual(b.polygon);
      expect(mine.schedule.map((a) => a.mmsi)).toEqual((b.schedule ?? []).map((a) => a.mmsi));
      for (const a of mine.schedule) expect(a.from.getTime() <= s.facts.start.getTime() && a.to.getTime() >= s.facts.end.getTime()).toBe(true);
    }
  });
  it('merges --ais-options over the site section field by field', () => {
    const merged = mergeAisSettings({ anomalies: { dark_after_seconds: 900, jump_knots: 50 }, occupancy: { arrival_minutes: 10 } }, { anomalies: { dark_after_seconds: 60 }, occupancy: undefined });
    expect(merged).toEqual({ anomalies: { dark_after_seconds: 60, jump_knots: 50 }, occupancy: { arrival_minutes: 10 } });
  });
  it('validates the AIS settings file and names the bad field', () => {
    expect(() => parseAisIngestSettings({ anomalies: { dark_after_seconds: -1 } }, 'ais.yaml')).toThrow(/ais\.yaml: anomalies\.dark_after_seconds/);
    expect(parseAisIngestSettings({ occupancy: { arrival_minutes: 5 } }).occupancy.arrival_minutes).toBe(5);
  });
});

const targets = ['embedded', 'postgres'] as const;

describe.each(targets)('ingest into the %s store', (target) => {
  let store: Store;
  let db: TestDatabase | null = null;
  let scenario: Scenario;
  const options = (): AisIngestOptions => ({ store, logger, berths: scenario.berths, anomalies: scenario.options.anomalies, occupancy: scenario.options.occupancy, dataSweepMs: 5000 });

  beforeAll(async () => {
    if (target === 'postgres') {
      db = await createTestDatabase('pw_ais_ingest');
      store = await openStore({ databaseUrl: db.url, logger });
    } else {
      store = await openStore({ dataDir: 'memory://', logger });
    }
    await migrate(store, { logger });
    scenario = portScenario({ badLines: true });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('stores the port scenario: positions, vessels, berth visits, events; bad lines counted, good ones kept', async () => {
    // Each stored event is announced (the spine's relay publishes it at once), only once committed.
    const announced: number[] = [];
    const ingest = new AisIngest({
      ...options(),
      onEventStored: () => void store.query<{ n: number }>('SELECT count(*)::int AS n FROM events').then((r) => announced.push(Number(r.rows[0]!.n))),
    });
    await ingestLines(ingest, scenario.lines, 'scenario', () => new Date('2000-01-01T00:00:00Z'));
    const stats = await ingest.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(announced.length).toBe(stats.writers.events.written);
    expect(announced.length).toBeGreaterThan(0);
    expect(Math.min(...announced)).toBeGreaterThan(0);
    const f = scenario.facts;

    expect(stats.lines).toBe(f.goodLines + f.badLines);
    expect(stats.rejected).toBe(f.badLines);
    expect(stats.messages).toBe(f.messages);
    expect(stats.positions).toBe(f.positionReports);
    expect(stats.static_reports).toBe(f.staticReports);
    expect(stats.record_errors).toBe(0);
    expect(await count(store, 'SELECT count(*) AS n FROM ais_positions')).toBe(f.positionReports);
    // Receive times come from the tag blocks, not from the (fixed, wrong) feed time.
    expect(await count(store, `SELECT count(*) AS n FROM ais_positions WHERE time < '2026-01-01'`)).toBe(0);
    expect(await count(store, `SELECT count(*) AS n FROM ais_positions WHERE station = 'demo'`)).toBe(f.positionReports);

    const vessels = (await store.query<{ mmsi: number; name: string | null; imo: number | null; last_seen: Date }>('SELECT mmsi, name, imo, last_seen FROM vessels ORDER BY mmsi')).rows;
    const byMmsi = new Map(vessels.map((v) => [v.mmsi, v]));
    expect(byMmsi.get(VESSELS.haiXing.mmsi)).toMatchObject({ name: VESSELS.haiXing.name, imo: VESSELS.haiXing.imo });
    expect(byMmsi.get(VESSELS.renamed.mmsi)?.name).toBe(VESSELS.renamed.renamedTo);
    expect(byMmsi.get(VESSELS.badMmsi.mmsi)?.name).toBeNull(); // positions only: a row with last_seen, no static data
    expect(new Date(byMmsi.get(VESSELS.darkStar.mmsi)!.last_seen).getTime()).toBe(f.darkLastSeen.getTime());
    expect(vessels).toHaveLength(7);

    const visits = (await store.query<{ berth: string; mmsi: number; arrived_at: Date; departed_at: Date | null }>('SELECT berth, mmsi, arrived_at, departed_at FROM berth_visits ORDER BY mmsi')).rows;
    expect(visits.map((v) => ({ berth: v.berth, mmsi: v.mmsi, arrived_at: new Date(v.arrived_at).toISOString(), departed_at: v.departed_at ? new Date(v.departed_at).toISOString() : null }))).toEqual(
      f.visits.map((v) => ({ berth: v.berth, mmsi: v.mmsi, arrived_at: v.arrived_at.toISOString(), departed_at: v.departed_at?.toISOString() ?? null })),
    );

    type Ev = { kind: string; phase: string; time: Date; mmsi: number; berth: string | null; details: Record<string, unknown> };
    const events = (await store.query<Ev>('SELECT kind, phase, time, mmsi, berth, details FROM events ORDER BY time')).rows;
    const find = (kind: string, mmsi: number, phase?: string) => events.filter((e) => e.kind === kind && e.mmsi === mmsi && (!phase || e.phase === phase));
    const t = (e: Ev | undefined) => new Date(e!.time).getTime();

    const hx = f.visits[0]!;
    expect(t(find('berth_arrival', hx.mmsi)[0])).toBe(hx.arrived_at.getTime());
    expect(t(find('berth_departure', hx.mmsi)[0])).toBe(hx.departed_at!.getTime());
    expect(find('berth_arrival', VESSELS.darkStar.mmsi)).toHaveLength(1);
    // DARK STAR moored at D2, which the schedule gives to NO SHOW; HAI XING is where it should be.
    const unassigned = find('ais_unassigned_berth', VESSELS.darkStar.mmsi);
    expect(unassigned).toHaveLength(1);
    expect(unassigned[0]).toMatchObject({ berth: 'D2', details: { berth_assigned_to: [VESSELS.noShow.mmsi] } });
    expect(find('ais_unassigned_berth', VESSELS.haiXing.mmsi)).toHaveLength(0);

    const dark = find('ais_dark', VESSELS.darkStar.mmsi, 'start');
    expect(dark).toHaveLength(1);
    expect(dark[0]!.details.last_seen).toBe(f.darkLastSeen.toISOString());
    expect(t(dark[0])).toBe(f.darkLastSeen.getTime() + 900_000);
    expect(events.filter((e) => e.kind === 'ais_dark')).toHaveLength(1); // nobody else in port fell silent

    const jumps = find('ais_position_jump', VESSELS.jumper.mmsi);
    expect(jumps.length).toBeGreaterThanOrEqual(1);
    expect(t(jumps[0])).toBe(f.jumpAt.getTime());
    expect(events.filter((e) => e.kind === 'ais_position_jump' && e.mmsi !== VESSELS.jumper.mmsi)).toHaveLength(0);

    const speeding = find('ais_speeding', VESSELS.fastCat.mmsi, 'start');
    expect(speeding).toHaveLength(1);
    expect(speeding[0]!.details).toMatchObject({ channel: 'main-channel', limit_kn: 8, speed_kn: 14 });
    // Raised on the second fix over the limit inside the channel (fixes every 15 s).
    expect(t(speeding[0])).toBeGreaterThanOrEqual(f.speeding.from.getTime());
    expect(t(speeding[0])).toBeLessThanOrEqual(f.speeding.from.getTime() + 31_000);
    expect(events.filter((e) => e.kind === 'ais_speeding' && e.mmsi !== VESSELS.fastCat.mmsi)).toHaveLength(0);

    expect(find('ais_invalid_identity', VESSELS.badImo.mmsi)[0]?.details).toMatchObject({ field: 'imo', value: VESSELS.badImo.imo });
    expect(find('ais_invalid_identity', VESSELS.badMmsi.mmsi)[0]?.details).toMatchObject({ field: 'mmsi' });
    const renamed = find('ais_identity_change', VESSELS.renamed.mmsi);
    expect(renamed).toHaveLength(1);
    expect(renamed[0]!.details).toMatchObject({ field: 'shipname', from: VESSELS.renamed.name, to: VESSELS.renamed.renamedTo });
    expect(t(renamed[0])).toBe(f.renamedAt.getTime());
    expect(stats.events_total).toBe(events.length);

    // Occupancy per berth per hour: HAI XING's visit spread over the hours it covers.
    const hours = await berthOccupancyHourly(store, f.start, f.end, f.end);
    const d1 = hours.filter((h) => h.berth === 'D1');
    const expectedHours = (hx.departed_at!.getTime() - hx.arrived_at.getTime()) / 3_600_000;
    expect(d1.reduce((s, h) => s + h.vessel_hours, 0)).toBeCloseTo(expectedHours, 6);
    expect(d1.reduce((s, h) => s + h.arrivals, 0)).toBe(1);

    // Each fix carries the berth it lies in; counted independently from the decoded lines and the polygons.
    const expectedAtBerth: Record<string, number> = {};
    for (const r of decodeAisLines(scenario.lines).records) {
      if (r.kind !== 'ais' || !POSITION_TYPES.has(r.message.type)) continue;
      const p: [number, number] = [Number(r.message.lat), Number(r.message.lon)];
      const b = scenario.berths.find((x) => pointInPolygon(p, x.polygon));
      if (b) expectedAtBerth[b.id] = (expectedAtBerth[b.id] ?? 0) + 1;
    }
    expect(Object.keys(expectedAtBerth).sort()).toEqual(['D1', 'D2']);
    const atBerth = (await store.query<{ berth: string; n: number }>('SELECT berth, count(*) AS n FROM ais_positions WHERE berth IS NOT NULL GROUP BY berth ORDER BY berth')).rows;
    expect(Object.fromEntries(atBerth.map((r) => [r.berth, Number(r.n)]))).toEqual(expectedAtBerth);
    // …and the hourly occupancy aggregate (continuous aggregate or view) sums to the same fixes.
    const hourly = (await store.query<{ berth: string; n: number; vessels: number }>('SELECT berth, sum(fixes)::int AS n, max(vessels)::int AS vessels FROM berth_occupancy_hourly_totals GROUP BY berth ORDER BY berth')).rows;
    expect(hourly).toEqual([
      { berth: 'D1', n: expectedAtBerth.D1, vessels: 1 },
      { berth: 'D2', n: expectedAtBerth.D2, vessels: 1 },
    ]);
  }, 120_000);

  it('re-ingesting the same lines adds no rows (deterministic ids)', async () => {
    const before = {
      positions: await count(store, 'SELECT count(*) AS n FROM ais_positions'),
      events: await count(store, 'SELECT count(*) AS n FROM events'),
      visits: await count(store, 'SELECT count(*) AS n FROM berth_visits'),
      vessels: await count(store, 'SELECT count(*) AS n FROM vessels'),
    };
    expect(before.positions).toBeGreaterThan(0);
    const ingest = new AisIngest(options());
    await ingestLines(ingest, scenario.lines, 'scenario', () => new Date());
    const stats = await ingest.close();
    expect(stats.writers.ais_positions.rejected).toBe(0);
    expect(stats.writers.events.rejected).toBe(0);
    expect(await count(store, 'SELECT count(*) AS n FROM ais_positions')).toBe(before.positions);
    expect(await count(store, 'SELECT count(*) AS n FROM events')).toBe(before.events);
    expect(await count(store, 'SELECT count(*) AS n FROM berth_visits')).toBe(before.visits);
    expect(await count(store, 'SELECT count(*) AS n FROM vessels')).toBe(before.vessels);
  }, 120_000);

  it('stores every vessel position report of real corpora (as many rows as the decoder finds)', async () => {
    const files = ['pyais/nmea_data_sample.txt', 'libais/test.aivdm', 'gpsd/ais-nmea.log'];
    for (const [i, file] of files.entries()) {
      const lines = readFileSync(fixture(file), 'latin1').split('\n');
      // Independent count: the decoder alone, position-report types of vessels.
      const decoded = decodeAisLines(lines, { source: `corpus-${i}` }).records.filter((r): r is AisRecord => r.kind === 'ais');
      const expected = decoded.filter((r) => POSITION_TYPES.has(r.message.type));
      const withoutFix = expected.filter((r) => r.message.lat === 91 || r.message.lon === 181);
      const feed = `corpus-${i}`;
      const before = await count(store, 'SELECT count(*) AS n FROM ais_positions');
      const ingest = new AisIngest({ store, logger });
      const base = Date.parse('2030-01-01T00:00:00Z') + i * 86_400_000;
      // One distinct receive time per line: every report is its own row (timestamps in the files win where present).
      await ingestLines(ingest, lines, feed, (n) => new Date(base + n * 1000));
      const stats = await ingest.close();
      expect(stats.messages).toBe(decoded.length);
      expect(stats.positions).toBe(expected.length);
      expect(stats.positions_without_fix).toBe(withoutFix.length);
      expect(stats.writers.ais_positions.rejected).toBe(0);
      expect(stats.record_errors).toBe(0);
      expect(await count(store, 'SELECT count(*) AS n FROM ais_positions') - before).toBe(expected.length);
      expect(stats.writers.ais_positions.written).toBe(expected.length);
    }
  }, 120_000);

  it('a restarted ingest picks up the vessels still moored: the departure updates the open visit, no second arrival', async () => {
    const start = Date.UTC(2027, 0, 1) / 1000;
    const sc = portScenario({ start });
    const cut = start + 3600; // HAI XING and DARK STAR are moored, HAI XING leaves at about 1 h 19 min
    const before = sc.lines.filter((l) => Number(/c:(\d+)/.exec(l)![1]) < cut);
    const after = sc.lines.slice(before.length);
    const opts = { store, logger, berths: sc.berths, anomalies: sc.options.anomalies, occupancy: sc.options.occupancy };
    const first = new AisIngest(opts);
    await ingestLines(first, before, 'scenario', () => new Date());
    await first.close();
    const window = [sc.facts.start, new Date((start + 4 * 3600) * 1000)];
    const visitsIn = () => store.query<{ mmsi: number; arrived_at: Date; departed_at: Date | null }>('SELECT mmsi, arrived_at, departed_at FROM berth_visits WHERE arrived_at >= $1 AND arrived_at < $2 ORDER BY mmsi', window);
    expect((await visitsIn()).rows.map((v) => v.departed_at)).toEqual([null, null]);

    const second = new AisIngest(opts);
    expect(await second.restoreOpenVisits()).toBeGreaterThanOrEqual(2);
    await ingestLines(second, after, 'scenario', () => new Date());
    const stats = await second.close();
    expect(stats.events.berth_arrival ?? 0).toBe(0);
    const visits = (await visitsIn()).rows;
    expect(visits).toHaveLength(2);
    const hx = sc.facts.visits[0]!;
    expect(new Date(visits[0]!.arrived_at).getTime()).toBe(hx.arrived_at.getTime());
    expect(new Date(visits[0]!.departed_at!).getTime()).toBe(hx.departed_at!.getTime());
    expect(visits[1]!.departed_at).toBeNull();
  }, 120_000);

  it('keeps going through random bytes and broken records', async () => {
    const ingest = new AisIngest({ store, logger });
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const good = scenario.lines.slice(0, 200);
    const lines: string[] = [];
    const cuts: string[] = [];
    for (const l of good) {
      lines.push(l);
      const noise = Array.from({ length: Math.floor(rnd() * 80) }, () => String.fromCharCode(Math.floor(rnd() * 256))).join('');
      const cut = l.slice(0, Math.floor(rnd() * l.length));
      lines.push(noise, cut);
      cuts.push(cut);
    }
    // A position with a latitude outside the globe (not the 91 marker): stored without a position, counted.
    lines.push(...encodePositionReport({ mmsi: 413009999, lat: 95, lon: 10, speed: 3, course: 10, heading: 10 }, { station: 'x', time: 1795000000 }));
    await expect(ingestLines(ingest, lines, 'noise', () => new Date('2031-01-01T00:00:00Z'))).resolves.toBeUndefined();
    const stats = await ingest.close();
    expect(stats.record_errors).toBe(0);
    expect(stats.invalid_positions).toBe(1);
    expect(stats.rejected).toBeGreaterThan(0);
    expect(stats.lines).toBe(lines.length);
    const positions = (ls: string[]): number => decodeAisLines(ls).records.filter((r) => r.kind === 'ais' && POSITION_TYPES.has(r.message.type)).length;
    // A line cut right after its fill-bit field still holds the whole payload and is decoded (docs/ais.md, "Damaged lines").
    expect(stats.positions).toBe(positions(good) + positions(cuts) + 1);
    const bad = (await store.query<{ lat: number | null }>('SELECT lat FROM ais_positions WHERE mmsi = 413009999')).rows;
    expect(bad).toEqual([{ lat: null }]);
  }, 120_000);
});

describe('events to the queue (Redis)', () => {
  const prefix = `pw-test-ais-${process.pid}-${Date.now()}`;
  let redis: Redis;
  let store: Store;
  let db: TestDatabase;
  let queue: EventQueue;

  beforeAll(async () => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    db = await createTestDatabase('pw_ais_queue');
    store = await openStore({ databaseUrl: db.url, logger });
    await migrate(store, { logger });
    queue = new EventQueue({ connection: redis, logger, prefix });
  }, 60_000);

  afterAll(async () => {
    await queue?.queue.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await store?.close();
    await db?.drop();
  });

  it('publishes every event once, by its deterministic id', async () => {
    const scenario = portScenario();
    const run = async () => {
      const ingest = new AisIngest({ store, logger, berths: scenario.berths, anomalies: scenario.options.anomalies, occupancy: scenario.options.occupancy, publisher: queue });
      await ingestLines(ingest, scenario.lines, 'scenario', () => new Date());
      return ingest.close();
    };
    const first = await run();
    expect(first.events_total).toBeGreaterThan(5);
    expect(first.published).toBe(first.events_total);
    expect(first.publish_failed).toBe(0);
    const counts = await queue.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed');
    const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(jobs).toBe(first.events_total);
    const second = await run();
    expect(second.published).toBe(second.events_total);
    const again = Object.values(await queue.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed')).reduce((a, b) => a + b, 0);
    expect(again).toBe(jobs);
  }, 60_000);
});
