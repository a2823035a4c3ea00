import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../pipeline/log/index.js';
import {
  MIGRATIONS,
  MigrationError,
  eventsTable,
  detectionsTable,
  migrate,
  openStore,
  aisPositionsTable,
  storeStatus,
  formatStoreStatus,
  upsertVessels,
  startPolicyRunner,
  type Migration,
  type Store,
} from '../pipeline/store/index.js';
import { eventId } from '../pipeline/events/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { testTimescaleUrl } from './helpers/services.js';

const HYPERTABLES = ['ais_positions', 'camera_health', 'detections', 'events', 'risk_scores'];
const ALL_TABLES = ['ais_positions', 'alerts', 'audit_log', 'berth_visits', 'camera_health', 'detections', 'events', 'inspections', 'risk_scores', 'schema_migrations', 'vessels'];

/** A logger whose JSON lines are kept, to check what the store says about its target. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

async function tableNames(store: Store): Promise<string[]> {
  const rows = (await store.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows;
  return rows.map((r) => r.tablename as string);
}

const hour = (iso: string) => new Date(iso);
const APPLIED = MIGRATIONS.map((m) => ({ version: m.version, name: m.name }));

/** A few detections and events with hand-counted hourly totals, written through the bulk primitive. */
async function seed(store: Store) {
  const det = (i: number, camera: string, cls: string, time: string, score: number) =>
    detectionsTable.toRow({ id: eventId('seed-det', i), time: hour(time), camera, class: cls, score, box: [1, 2, 3, 4] });
  await store.insertRows('detections', detectionsTable.columns, [
    det(1, 'cam-01', 'person', '2026-01-01T10:05:00Z', 0.5),
    det(2, 'cam-01', 'person', '2026-01-01T10:55:00Z', 0.9),
    det(3, 'cam-01', 'truck', '2026-01-01T10:30:00Z', 0.7),
    det(4, 'cam-02', 'person', '2026-01-01T11:00:00Z', 0.6),
  ]);
  const ev = (i: number, kind: 'berth_arrival' | 'berth_departure' | 'unauthorized_access', time: string, extra: Record<string, unknown>) =>
    eventsTable.toRow({ id: eventId('seed-ev', i), time: hour(time), kind, phase: 'instant', ...extra });
  await store.insertRows('events', eventsTable.columns, [
    ev(1, 'berth_arrival', '2026-01-01T10:10:00Z', { berth: 'B01', mmsi: 412000001 }),
    ev(2, 'berth_arrival', '2026-01-01T10:20:00Z', { berth: 'B01', mmsi: 412000002 }),
    ev(3, 'unauthorized_access', '2026-01-01T10:40:00Z', { berth: 'B01', camera: 'cam-01', zone: 'quay' }),
    ev(4, 'berth_departure', '2026-01-01T12:00:00Z', { berth: 'B01', mmsi: 412000001 }),
    ev(5, 'unauthorized_access', '2026-01-01T10:45:00Z', { camera: 'cam-09' }), // no berth: not berth activity
  ]);
}

/**
 * AIS fixes at berths, hand-counted per berth, hour and vessel:
 * 412000001 lies at B01 from 10:05 to 11:40 (moving off at 11:40), 412000002
 * comes alongside B01 10:20–10:25, 412000003 is at B02 at 11:50, 412000004 at no berth.
 */
async function seedPositions(store: Store) {
  const fix = (i: number, mmsi: number, time: string, speed: number, berth: string | null) =>
    aisPositionsTable.toRow({ id: eventId('seed-ais', i), time: hour(time), mmsi, lat: 24.45, lon: 118.03, speed, msgType: 1, berth });
  await store.insertRows('ais_positions', aisPositionsTable.columns, [
    fix(1, 412000001, '2026-01-01T10:05:00Z', 0.1, 'B01'),
    fix(2, 412000001, '2026-01-01T10:35:00Z', 0.2, 'B01'),
    fix(3, 412000001, '2026-01-01T10:55:00Z', 0.0, 'B01'),
    fix(4, 412000001, '2026-01-01T11:10:00Z', 0.1, 'B01'),
    fix(5, 412000001, '2026-01-01T11:40:00Z', 3.0, 'B01'),
    fix(6, 412000002, '2026-01-01T10:20:00Z', 5.0, 'B01'),
    fix(7, 412000002, '2026-01-01T10:22:00Z', 4.0, 'B01'),
    fix(8, 412000002, '2026-01-01T10:25:00Z', 0.3, 'B01'),
    fix(9, 412000003, '2026-01-01T11:50:00Z', 0.0, 'B02'),
    fix(10, 412000004, '2026-01-01T10:10:00Z', 0.0, null),
  ]);
}

async function expectOccupancy(store: Store) {
  const rows = (await store.query(`SELECT bucket, berth, mmsi, fixes, moored_fixes, first_seen, last_seen FROM berth_occupancy_hourly ORDER BY bucket, berth, mmsi`)).rows;
  const t = (v: unknown) => new Date(v as string).toISOString().slice(11, 16);
  expect(rows.map((r) => [t(r.bucket), r.berth, r.mmsi, Number(r.fixes), Number(r.moored_fixes), t(r.first_seen), t(r.last_seen)])).toEqual([
    ['10:00', 'B01', 412000001, 3, 3, '10:05', '10:55'],
    ['10:00', 'B01', 412000002, 3, 1, '10:20', '10:25'],
    ['11:00', 'B01', 412000001, 2, 1, '11:10', '11:40'],
    ['11:00', 'B02', 412000003, 1, 1, '11:50', '11:50'],
  ]);
  const totals = (await store.query(`SELECT bucket, berth, vessels, vessels_moored, fixes, vessel_hours FROM berth_occupancy_hourly_totals ORDER BY bucket, berth`)).rows;
  // 10:00 B01: 412000001 from 10:05 to the hour's end (it is still there at 11:10) = 55 min, 412000002 10:20–10:25 = 5 min.
  // 11:00 B01: 412000001 from the hour's start (there before) to its last fix 11:40 = 40 min.
  expect(totals.map((r) => [t(r.bucket), r.berth, r.vessels, r.vessels_moored, r.fixes, Number(r.vessel_hours).toFixed(4)])).toEqual([
    ['10:00', 'B01', 2, 1, 6, '1.0000'],
    ['11:00', 'B01', 1, 1, 2, (40 / 60).toFixed(4)],
    ['11:00', 'B02', 1, 1, 1, '0.0000'],
  ]);
}

async function expectRollups(store: Store) {
  const det = (
    await store.query(
      `SELECT bucket, camera, class, detections, max_score FROM detections_hourly ORDER BY bucket, camera, class`,
    )
  ).rows.map((r) => [new Date(r.bucket).toISOString(), r.camera, r.class, Number(r.detections), Number(r.max_score).toFixed(2)]);
  expect(det).toEqual([
    ['2026-01-01T10:00:00.000Z', 'cam-01', 'person', 2, '0.90'],
    ['2026-01-01T10:00:00.000Z', 'cam-01', 'truck', 1, '0.70'],
    ['2026-01-01T11:00:00.000Z', 'cam-02', 'person', 1, '0.60'],
  ]);
  const berth = (
    await store.query(`SELECT bucket, berth, arrivals, departures, camera_events, events, vessels FROM berth_activity_hourly ORDER BY bucket`)
  ).rows.map((r) => [new Date(r.bucket).toISOString(), r.berth, Number(r.arrivals), Number(r.departures), Number(r.camera_events), Number(r.events), Number(r.vessels)]);
  expect(berth).toEqual([
    ['2026-01-01T10:00:00.000Z', 'B01', 2, 0, 1, 3, 2],
    ['2026-01-01T12:00:00.000Z', 'B01', 0, 1, 0, 1, 1],
  ]);
}

/** A throwaway store on one of the two TimescaleDB targets. */
interface OpenedStore {
  store: Store;
  close(): Promise<void>;
}

type Opener = (logger: ReturnType<typeof createLogger>) => Promise<OpenedStore>;

const openEmbedded: Opener = async (logger) => {
  const store = await openStore({ dataDir: 'memory://', logger });
  return { store, close: () => store.close() };
};

/** A fresh database on the TimescaleDB server of the test setup (TSDB_TEST_URL). */
const openTimescaleServer: Opener = async (logger) => {
  const db = await createTestDatabase('pw_store_tsdb', testTimescaleUrl()!);
  const store = await openStore({ databaseUrl: db.url, logger });
  return {
    store,
    async close() {
      await store.close();
      await db.drop();
    },
  };
};

const TIMESCALE_TARGETS = [
  { label: 'embedded (PGlite + TimescaleDB)', kind: 'embedded', open: openEmbedded, available: true },
  { label: 'TimescaleDB server (PostgreSQL 15)', kind: 'timescaledb', open: openTimescaleServer, available: testTimescaleUrl() !== null },
] as const;

/** The materialised rows of a continuous aggregate (not the real-time union). */
async function materialisedCount(store: Store, view: string): Promise<number> {
  const m = (
    await store.query(`SELECT materialization_hypertable_schema AS s, materialization_hypertable_name AS t FROM timescaledb_information.continuous_aggregates WHERE view_name = $1`, [view])
  ).rows[0]!;
  return (await store.query(`SELECT count(*) AS n FROM ${m.s}.${m.t}`)).rows[0]!.n as number;
}


/**
 * Refreshes a continuous aggregate now. TimescaleDB's own refresh job may be
 * running on it (the migration schedules one that starts at once), and a
 * second refresh is refused while it does: wait for it and try again.
 */
async function refreshAggregate(store: Store, view: string): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      await store.query(`CALL refresh_continuous_aggregate('${view}', NULL, NULL)`);
      return;
    } catch (err) {
      if (!/concurrent refresh/.test((err as Error).message) || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

for (const target of TIMESCALE_TARGETS) describe.skipIf(!target.available)(`store migrations, ${target.label}`, () => {
  let store: Store;
  let opened: OpenedStore;
  const captured = capturingLogger();

  beforeAll(async () => {
    opened = await target.open(captured.logger);
    store = opened.store;
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('says which target it picked', () => {
    expect(store.kind).toBe(target.kind);
    expect(store.timescaledbVersion).toMatch(/^2\.\d+/);
    const line = captured.lines.find((l) => l.target === target.kind);
    expect(line?.msg).toMatch(new RegExp(`store target: ${target.kind}`));
  });

  it('creates the tables, hypertables, continuous aggregates and policies', async () => {
    const result = await migrate(store, { logger: silentLogger() });
    expect(result.applied).toEqual(APPLIED);
    // Later migrations add tables of their own (and test them).
    expect(await tableNames(store)).toEqual(expect.arrayContaining(ALL_TABLES));

    const hyper = (await store.query(`SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_schema = 'public' ORDER BY 1`)).rows;
    expect(hyper.map((h) => h.hypertable_name)).toEqual(expect.arrayContaining(HYPERTABLES));
    expect(hyper.every((h) => h.compression_enabled === true)).toBe(true);

    // Chunk intervals from the default settings.
    const chunks = (
      await store.query(
        `SELECT hypertable_name AS t, time_interval = CASE hypertable_name WHEN 'detections' THEN interval '1 hour' WHEN 'risk_scores' THEN interval '7 days' ELSE interval '1 day' END AS ok
           FROM timescaledb_information.dimensions WHERE hypertable_name = ANY($1)`,
        [HYPERTABLES],
      )
    ).rows;
    expect(chunks).toHaveLength(HYPERTABLES.length);
    expect(chunks.filter((c) => !c.ok)).toEqual([]);

    const caggs = (await store.query(`SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates ORDER BY 1`)).rows;
    expect(caggs).toEqual([
      { view_name: 'berth_activity_hourly', materialized_only: false },
      { view_name: 'berth_occupancy_hourly', materialized_only: false },
      { view_name: 'detections_hourly', materialized_only: false },
    ]);

    const jobs = (
      await store.query(
        `SELECT proc_name, coalesce(c.view_name, j.hypertable_name) AS target, config
           FROM timescaledb_information.jobs j
           LEFT JOIN timescaledb_information.continuous_aggregates c ON c.materialization_hypertable_name = j.hypertable_name
          WHERE proc_name IN ('policy_compression', 'policy_retention', 'policy_refresh_continuous_aggregate')`,
      )
    ).rows;
    const has = (proc: string, target: string) => jobs.find((j) => j.proc_name === proc && j.target === target);
    for (const t of HYPERTABLES) {
      expect(has('policy_compression', t), `compression policy on ${t}`).toBeTruthy();
      expect(has('policy_retention', t), `retention policy on ${t}`).toBeTruthy();
    }
    expect(has('policy_retention', 'detections')!.config.drop_after).toBe('30 days');
    expect(has('policy_refresh_continuous_aggregate', 'detections_hourly')).toBeTruthy();
    expect(has('policy_refresh_continuous_aggregate', 'berth_activity_hourly')).toBeTruthy();
    expect(has('policy_refresh_continuous_aggregate', 'berth_occupancy_hourly')).toBeTruthy();
  });

  it('is idempotent: a second run applies nothing and changes no setting', async () => {
    const jobsBefore = (await store.query(`SELECT job_id FROM timescaledb_information.jobs ORDER BY 1`)).rows;
    const result = await migrate(store, { logger: silentLogger() });
    expect(result).toEqual({ applied: [], settingsChanged: [] });
    expect((await store.query(`SELECT version, name, length(checksum) AS n FROM schema_migrations ORDER BY version`)).rows).toEqual(APPLIED.map((m) => ({ ...m, n: 64 })));
    expect((await store.query(`SELECT job_id FROM timescaledb_information.jobs ORDER BY 1`)).rows).toEqual(jobsBefore);
  });

  it('updates policies and chunk intervals when the settings change, and only those', async () => {
    const result = await migrate(store, {
      logger: silentLogger(),
      settings: { retain_for: { events: '1 year' }, compress_after: { ais_positions: 'never' }, chunk_interval: { camera_health: '12 hours' } },
    });
    expect(result.applied).toEqual([]);
    expect(result.settingsChanged).toHaveLength(3);
    const retention = (
      await store.query(`SELECT config->>'drop_after' AS d FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'events'`)
    ).rows;
    expect(retention).toEqual([{ d: '1 year' }]);
    const aisCompression = await store.query(`SELECT 1 FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression' AND hypertable_name = 'ais_positions'`);
    expect(aisCompression.rowCount).toBe(0);
    const chunk = (await store.query(`SELECT time_interval = interval '12 hours' AS ok FROM timescaledb_information.dimensions WHERE hypertable_name = 'camera_health'`)).rows;
    expect(chunk).toEqual([{ ok: true }]);
    // The same settings again: nothing to do.
    const again = await migrate(store, {
      logger: silentLogger(),
      settings: { retain_for: { events: '1 year' }, compress_after: { ais_positions: 'never' }, chunk_interval: { camera_health: '12 hours' } },
    });
    expect(again.settingsChanged).toEqual([]);
  });

  it('refuses to run when an applied migration was changed', async () => {
    const edited: Migration[] = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, steps: [...m.steps, { sql: 'SELECT 1' }] } : m));
    await expect(migrate(store, { logger: silentLogger(), migrations: edited })).rejects.toThrow(MigrationError);
    await expect(migrate(store, { logger: silentLogger(), migrations: edited })).rejects.toThrow(/migration 1 \(initial schema\) was changed after it was applied/);
  });

  it('computes the hourly rollups (continuous aggregates, real-time and refreshed)', async () => {
    await seed(store);
    await seedPositions(store);
    await expectRollups(store); // real-time part: nothing materialised yet
    await expectOccupancy(store);
    // Each CALL on its own: a refresh cannot run inside a (multi-statement) transaction block.
    await refreshAggregate(store, 'detections_hourly');
    await refreshAggregate(store, 'berth_activity_hourly');
    await refreshAggregate(store, 'berth_occupancy_hourly');
    // The refresh really materialised the buckets (not only the real-time union answering).
    for (const [view, buckets] of [['detections_hourly', 3], ['berth_activity_hourly', 2], ['berth_occupancy_hourly', 4]] as const) {
      const m = (
        await store.query(`SELECT materialization_hypertable_schema AS s, materialization_hypertable_name AS t FROM timescaledb_information.continuous_aggregates WHERE view_name = $1`, [view])
      ).rows[0]!;
      expect((await store.query(`SELECT count(*) AS n FROM ${m.s}.${m.t}`)).rows[0]!.n, view).toBe(buckets);
    }
    await expectRollups(store);
    await expectOccupancy(store);
  });

  if (target.kind === 'embedded') it('runs the due policies itself, since PGlite has no background scheduler', async () => {
    const det = (
      await store.query(`SELECT materialization_hypertable_schema AS s, materialization_hypertable_name AS t FROM timescaledb_information.continuous_aggregates WHERE view_name = 'detections_hourly'`)
    ).rows[0]!;
    const materialised = async () => (await store.query(`SELECT count(*) AS n FROM ${det.s}.${det.t}`)).rows[0]!.n as number;
    const before = await materialised();
    // A detection two hours ago: inside the refresh window (3 days .. 1 hour ago).
    await store.insertRows('detections', detectionsTable.columns, [
      detectionsTable.toRow({ id: eventId('recent'), time: new Date(Date.now() - 2 * 3600_000), camera: 'cam-03', class: 'boat', score: 0.8, box: [0, 0, 1, 1] }),
    ]);
    const oldRaw = async () => (await store.query(`SELECT count(*) AS n FROM detections WHERE time < '2026-02-01'`)).rows[0]!.n as number;
    expect(await oldRaw()).toBe(4);
    const runner = startPolicyRunner(store, silentLogger(), { checkEveryMs: 3_600_000 });
    try {
      const ran = await runner.runDue();
      const procs = (await store.query(`SELECT job_id, proc_name FROM timescaledb_information.jobs WHERE job_id = ANY($1)`, [ran])).rows.map((r) => r.proc_name);
      expect(procs).toContain('policy_refresh_continuous_aggregate');
      expect(procs).toContain('policy_retention');
      expect(procs).toContain('policy_compression');
      expect(await materialised()).toBe(before + 1); // refresh picked up the new bucket
      expect(await oldRaw()).toBe(0); // retention (30 days on detections) dropped the January chunk
      expect(await runner.runDue()).toEqual([]); // nothing is due again right away
    } finally {
      runner.stop();
    }
  });

  if (target.kind === 'timescaledb') it("TimescaleDB's own scheduler runs the policies: refresh, compression, retention", async () => {
    const before = await materialisedCount(store, 'detections_hourly');
    // Two hours ago: inside the refresh window (3 days .. 1 hour ago). Two days ago: past
    // compress_after (1 day) and inside the refresh window too. January: past retention (30 days).
    await store.insertRows('detections', detectionsTable.columns, [
      detectionsTable.toRow({ id: eventId('recent'), time: new Date(Date.now() - 2 * 3600_000), camera: 'cam-03', class: 'boat', score: 0.8, box: [0, 0, 1, 1] }),
      detectionsTable.toRow({ id: eventId('two-days'), time: new Date(Date.now() - 48 * 3600_000), camera: 'cam-04', class: 'boat', score: 0.7, box: [0, 0, 1, 1] }),
    ]);
    const oldRaw = async () => (await store.query(`SELECT count(*) AS n FROM detections WHERE time < '2026-02-01'`)).rows[0]!.n as number;
    expect(await oldRaw()).toBe(4);
    const compressedChunks = async () =>
      (await store.query(`SELECT count(*) AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'detections' AND is_compressed`)).rows[0]!.n as number;
    expect(await compressedChunks()).toBe(0);
    const jobs = (
      await store.query(
        `SELECT j.job_id, j.proc_name FROM timescaledb_information.jobs j
           LEFT JOIN timescaledb_information.continuous_aggregates c ON c.materialization_hypertable_name = j.hypertable_name
          WHERE (j.hypertable_name = 'detections' AND j.proc_name IN ('policy_compression', 'policy_retention'))
             OR ('detections_hourly' IN (c.view_name, j.hypertable_name) AND j.proc_name = 'policy_refresh_continuous_aggregate')`,
      )
    ).rows as Array<{ job_id: number; proc_name: string }>;
    expect(jobs.map((j) => j.proc_name).sort()).toEqual(['policy_compression', 'policy_refresh_continuous_aggregate', 'policy_retention']);
    // Not CALL run_job: the server's background scheduler must pick each one up by
    // itself. One policy at a time: retention and compression on the same chunks at
    // once can fail one of them, and the scheduler then retries only after a backoff.
    // What is awaited is the work itself, not the run counters: a policy may already be
    // running on the empty table when next_start is moved, and on Debian's PostgreSQL 15.20
    // TimescaleDB 2.28.3 commits a job's work and then records the run as failed (docs/store.md).
    const work: Array<[string, () => Promise<boolean>]> = [
      ['policy_refresh_continuous_aggregate', async () => (await materialisedCount(store, 'detections_hourly')) === before + 2],
      ['policy_retention', async () => (await oldRaw()) === 0],
      ['policy_compression', async () => (await compressedChunks()) > 0],
    ];
    for (const [proc, done] of work) {
      const job = jobs.find((j) => j.proc_name === proc)!;
      await store.query(`SELECT alter_job($1, next_start => now())`, [job.job_id]);
      const deadline = Date.now() + 60_000;
      while (!(await done())) {
        if (Date.now() > deadline) {
          const stats = (await store.query(`SELECT total_runs, last_run_status, job_status, next_start FROM timescaledb_information.job_stats WHERE job_id = $1`, [job.job_id])).rows;
          const errors = (await store.query(`SELECT start_time, sqlerrcode, err_message FROM timescaledb_information.job_errors WHERE job_id = $1 ORDER BY start_time DESC LIMIT 3`, [job.job_id])).rows;
          throw new Error(`the scheduler did not do ${proc}'s work within 60 s: old rows ${await oldRaw()}, compressed chunks ${await compressedChunks()}, hourly buckets ${await materialisedCount(store, 'detections_hourly')} (before ${before}); job_stats ${JSON.stringify(stats)}; job_errors ${JSON.stringify(errors)}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(await oldRaw()).toBe(0); // retention dropped the January chunk
    expect(await compressedChunks()).toBeGreaterThan(0); // compression took the two-day-old chunk
    expect((await store.query(`SELECT count(*) AS n FROM detections WHERE camera = 'cam-04'`)).rows[0]!.n).toBe(1); // still readable
    expect(await materialisedCount(store, 'detections_hourly')).toBe(before + 2); // the refresh materialised both new hours
  }, 200_000);

  it('upserts vessels by MMSI without erasing known fields', async () => {
    await upsertVessels(store, [
      { mmsi: 412000001, name: 'MV EXAMPLE', imo: 9123456, seenAt: new Date('2026-01-01T10:00:00Z') },
      { mmsi: 412000001, destination: 'CNNGB', seenAt: new Date('2026-01-01T09:00:00Z') },
    ]);
    await upsertVessels(store, [{ mmsi: 412000001, name: null, callsign: 'BXYZ', seenAt: new Date('2026-01-01T12:00:00Z') }]);
    const v = (await store.query(`SELECT mmsi, imo, name, callsign, destination, first_seen, last_seen FROM vessels`)).rows;
    expect(v).toEqual([
      {
        mmsi: 412000001,
        imo: 9123456,
        name: 'MV EXAMPLE',
        callsign: 'BXYZ',
        destination: 'CNNGB',
        first_seen: new Date('2026-01-01T09:00:00Z'),
        last_seen: new Date('2026-01-01T12:00:00Z'),
      },
    ]);
  });

  it('reports status: hypertables with chunk intervals, aggregates, policies', async () => {
    const s = await storeStatus(store);
    expect(s.kind).toBe(target.kind);
    expect(s.migrations.applied.map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(s.migrations.pending).toEqual([]);
    expect(s.timeSeries.filter((t) => t.hypertable).map((t) => t.table)).toEqual(expect.arrayContaining(HYPERTABLES));
    expect(s.timeSeries.find((t) => t.table === 'detections')?.chunkInterval).toBe('01:00:00');
    expect(s.aggregates.length).toBeGreaterThanOrEqual(3);
    expect(s.aggregates.filter((a) => a.kind !== 'continuous aggregate')).toEqual([]);
    expect(s.policies.filter((p) => p.policy === 'retention' && HYPERTABLES.includes(p.table))).toHaveLength(5);
    const text = formatStoreStatus(s);
    expect(text).toMatch(new RegExp(`^target: +${target.kind}`, 'm'));
    expect(text).toMatch(/timescaledb: +2\./);
    expect(text).toMatch(/events +retention +drop after 1 year/);
  });
});

for (const target of TIMESCALE_TARGETS) describe.skipIf(!target.available)(`migration 2 over a database at migration 1 (${target.kind})`, () => {
  it('adds ais_positions.berth although chunks are compressed; old rows read as at no berth', async () => {
    const opened = await target.open(silentLogger());
    const store = opened.store;
    try {
      await migrate(store, { logger: silentLogger(), migrations: MIGRATIONS.slice(0, 1) });
      await store.query(`INSERT INTO ais_positions (id, time, mmsi, lat, lon, speed, msg_type) VALUES ($1, '2026-01-01T10:00:00Z', 412000001, 24.45, 118.03, 0.1, 1)`, [eventId('old-fix')]);
      const compressed = (await store.query(`SELECT compress_chunk(c) AS c FROM show_chunks('ais_positions') c`)).rows;
      expect(compressed).toHaveLength(1);
      const result = await migrate(store, { logger: silentLogger(), migrations: MIGRATIONS.slice(0, 2) });
      expect(result.applied).toEqual([APPLIED[1]]);
      expect((await store.query(`SELECT mmsi, berth FROM ais_positions`)).rows).toEqual([{ mmsi: 412000001, berth: null }]);
      await seedPositions(store);
      await refreshAggregate(store, 'berth_occupancy_hourly');
      await expectOccupancy(store);
    } finally {
      await opened.close();
    }
  }, 60_000);
});

describe('store migrations, PostgreSQL 15 without TimescaleDB (fallback)', () => {
  let db: TestDatabase;
  let store: Store;
  const captured = capturingLogger();

  beforeAll(async () => {
    db = await createTestDatabase('pw_store_mig');
    store = await openStore({ databaseUrl: db.url, logger: captured.logger });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('picks the fallback and warns what is lost', () => {
    expect(store.kind).toBe('postgres');
    expect(store.timescaledbVersion).toBeNull();
    const warning = captured.lines.find((l) => l.level === 40);
    expect(warning?.msg).toMatch(/without TimescaleDB/);
    expect(warning?.msg).toMatch(/compression/);
    expect(warning?.msg).toMatch(/retention/);
    expect(warning?.msg).toMatch(/incremental aggregates/);
    // The password never reaches the log.
    expect(JSON.stringify(captured.lines)).not.toMatch(/postgres:\/\//);
  });

  it('creates the same tables, BRIN time indexes and plain views; a second run is a no-op', async () => {
    const first = await migrate(store, { logger: silentLogger() });
    expect(first.applied).toEqual(APPLIED);
    expect(first.settingsChanged).toEqual([]);
    // Later migrations add tables of their own (and test them).
    expect(await tableNames(store)).toEqual(expect.arrayContaining(ALL_TABLES));
    const brin = (await store.query(`SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING brin (%time%)' ORDER BY 1`)).rows;
    expect(brin.map((r) => r.tablename)).toEqual(expect.arrayContaining(HYPERTABLES));
    const views = (await store.query(`SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1`)).rows;
    expect(views.map((v) => v.viewname)).toEqual(expect.arrayContaining(['berth_activity_hourly', 'berth_occupancy_hourly', 'berth_occupancy_hourly_totals', 'detections_hourly']));
    expect(await migrate(store, { logger: silentLogger() })).toEqual({ applied: [], settingsChanged: [] });
    expect((await store.query(`SELECT count(*) AS n FROM schema_migrations`)).rows).toEqual([{ n: MIGRATIONS.length }]);
  });

  it('computes the same rollups as the continuous aggregates', async () => {
    await seed(store);
    await seedPositions(store);
    await expectRollups(store);
    await expectOccupancy(store);
  });

  it('reports status without hypertables or policies', async () => {
    const s = await storeStatus(store);
    expect(s.kind).toBe('postgres');
    expect(s.timeSeries.every((t) => !t.hypertable && t.timeIndex?.endsWith('_time_brin'))).toBe(true);
    expect(s.aggregates.length).toBeGreaterThanOrEqual(3);
    expect(s.aggregates.filter((a) => a.kind !== 'view')).toEqual([]);
    expect(s.policies).toEqual([]);
    expect(formatStoreStatus(s)).toMatch(/timescaledb: +not installed \(fallback: .*compression/);
  });
});

describe('migrations started by several workers at once (PostgreSQL 15)', () => {
  it('all succeed, and each migration is applied exactly once', async () => {
    const db = await createTestDatabase('pw_store_race');
    const stores: Store[] = [];
    try {
      for (let i = 0; i < 4; i++) stores.push(await openStore({ databaseUrl: db.url, logger: silentLogger() }));
      const results = await Promise.allSettled(stores.map((s) => migrate(s, { logger: silentLogger() })));
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
      const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.applied.map((a) => a.version) : []));
      expect(applied.sort()).toEqual(MIGRATIONS.map((m) => m.version).sort());
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await db.drop();
    }
  });
});
