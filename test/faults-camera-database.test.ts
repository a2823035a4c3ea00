import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivatePostgres, type PrivatePostgres } from '../scripts/test-services/private-postgres.js';
import { createTestDatabase, startCameraWorker, waitFor, type LogLine, type WorkerProcess } from './helpers/camera-worker.js';
import type { TestDatabase } from './helpers/pg-database.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

/**
 * The database stopped for 30 s under a running camera worker process (the
 * real workers/camera.ts on the vtest footage, a private PostgreSQL cluster of
 * this file's own). The outage starts at clip time ~12 s, before the first
 * person walks into vtest-cam's restricted zone (17.8 s, test/camera-worker.test.ts):
 * that event cannot be stored, so the camera waits for it (the writer retrying)
 * while its ingest drops frames, counted as backpressure; the health rows are
 * held by their writer (bounded). Once the database is back everything
 * handed over is stored, each start has its end, and the camera was never
 * reported offline for frames it dropped itself.
 */
const OUTAGE_MS = 30_000;

describe('database stopped for 30 s under a running camera worker', () => {
  let cluster: PrivatePostgres;
  let db: TestDatabase;
  let sim: RtspServer;
  let worker: WorkerProcess;
  const snapshots = mkdtempSync(join(tmpdir(), 'pw-fault-camdb-'));

  beforeAll(async () => {
    [cluster, sim] = await Promise.all([startPrivatePostgres({ name: 'faults-camdb' }), startRtspServer()]);
    db = await createTestDatabase('pw_fault_camdb', cluster.url);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    if (cluster && !cluster.running()) await cluster.start().catch(() => {});
    await db?.drop().catch(() => {});
    await Promise.all([cluster?.stop(), sim?.stop()]);
    rmSync(snapshots, { recursive: true, force: true });
  });

  const query = async <T extends pg.QueryResultRow>(text: string) => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return (await c.query<T>(text)).rows;
    } finally {
      await c.end();
    }
  };

  it('retries, drops frames as backpressure (counted), then stores every event handed over, complete', async () => {
    worker = startCameraWorker('camdb-1', ['--site', 'test/fixtures/sites/vtest.yaml', '--snapshots', snapshots, '--health-every', '3', '--stats-every', '1'], {
      DATABASE_URL: db.url,
      VTEST_RTSP_URL: sim.url('/vtest'),
      FROZEN_RTSP_URL: sim.url('/frozen'),
      BLACK_RTSP_URL: sim.url('/black'),
    });
    const detail = () => `worker log tail: ${JSON.stringify(worker.logs.filter((l) => l.msg !== 'stats').slice(-12))} stderr: ${worker.stderr()}`;
    const stats = () => worker.logs.filter((l) => l.msg === 'stats') as Array<LogLine & Record<string, any>>;
    const connected = await waitFor('vtest-cam connected', () => worker.logs.find((l) => l.msg === 'camera stream connected' && l.camera === 'vtest-cam'), 60_000, detail);
    // Health rows stored before the outage: the database works.
    await waitFor('health rows stored', async () => (await query<{ n: number }>(`SELECT count(*)::int AS n FROM camera_health`))[0]!.n > 0, 30_000, detail);
    await waitFor('clip time 12 s', () => Date.now() > Date.parse(connected.time) + 12_000, 30_000);

    cluster.pause();
    const outageStarted = Date.now();
    while (Date.now() - outageStarted < OUTAGE_MS) {
      await new Promise((r) => setTimeout(r, 1000));
      expect(worker.child.exitCode, `the worker died during the outage: ${detail()}`).toBeNull();
    }
    const inOutage = stats().filter((l) => Date.parse(l.time) >= outageStarted);
    await cluster.start();

    // During the outage: frames dropped while the camera waited on its event, counted; rows held, bounded.
    expect(inOutage.length, detail()).toBeGreaterThan(10);
    const last = inOutage.at(-1)!;
    expect(last.backpressureDrops, JSON.stringify(last)).toBeGreaterThan(20);
    expect(last.sinkWaitMs).toBeGreaterThan(10_000);
    expect(Math.max(...inOutage.map((l) => l.held.camera_health))).toBeGreaterThan(0);
    expect(Math.max(...inOutage.map((l) => l.held.camera_health))).toBeLessThanOrEqual(10_000);
    expect(worker.logs.some((l) => l.level >= 40 && /retry|retrying|failed/i.test(String(l.msg)) && Date.parse(l.time) >= outageStarted), detail()).toBe(true);
    expect(last.stored).toBeLessThan(last.events);

    // Back: everything handed over is stored.
    await waitFor('every event handed over stored', () => {
      const s = stats().at(-1);
      return s && Date.parse(s.time) > Date.now() - 5000 && s.stored === s.events && s.held.camera_health === 0;
    }, 60_000, detail);
    worker.child.kill('SIGTERM');
    expect(await worker.exited, detail()).toBe(0);
    const final = worker.logs.find((l) => l.msg === 'camera worker stopped') as LogLine & Record<string, any>;
    expect(final, detail()).toBeDefined();
    expect(final.abandoned, JSON.stringify(worker.logs.filter((l) => l.level >= 40 && Date.parse(l.time) > outageStarted + OUTAGE_MS).slice(-10))).toBe(0);
    expect(final.stored).toBe(final.events);
    expect(final.healthRowsDropped).toBe(0);

    const events = await query<{ id: string; kind: string; phase: string; camera: string; details: Record<string, any> }>(`SELECT id, kind, phase, camera, details FROM events ORDER BY time`);
    expect(events.length).toBe(final.events);
    // The event the camera waited on (the first person's crossing or entry, 17.8 s) is there.
    expect(events.filter((e) => e.camera === 'vtest-cam' && !e.kind.startsWith('camera_')).length, JSON.stringify(events.map((e) => [e.kind, e.phase, e.camera]))).toBeGreaterThan(0);
    // Complete: every start has its end (shutdown ends what was still open).
    const starts = events.filter((e) => e.phase === 'start');
    const ends = events.filter((e) => e.phase === 'end');
    const key = (e: (typeof events)[number]) => `${e.kind}/${e.camera}/${e.kind.startsWith('camera_') ? e.details.since : ''}`;
    expect(starts.map(key).sort()).toEqual(ends.map(key).sort());
    // Frames dropped for the store never made the camera look offline.
    expect(events.filter((e) => e.camera === 'vtest-cam' && e.kind === 'camera_offline')).toEqual([]);
    // Health rows of the outage, held and written afterwards.
    const during = await query<{ n: number }>(`SELECT count(*)::int AS n FROM camera_health WHERE camera = 'vtest-cam' AND time BETWEEN to_timestamp(${outageStarted / 1000}) AND to_timestamp(${(outageStarted + OUTAGE_MS) / 1000})`);
    expect(during[0]!.n).toBeGreaterThanOrEqual(OUTAGE_MS / 3000 - 2);
  }, 240_000);
});
