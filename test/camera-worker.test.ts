import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';
import { createTestDatabase, startCameraWorker, waitFor, type WorkerProcess } from './helpers/camera-worker.js';
import { testRedisUrl } from './helpers/services.js';

/**
 * The camera worker end to end, every part real: the GStreamer RTSP server
 * serving the vtest footage (and a frozen and a black mount), one
 * workers/camera.ts process with its ffmpegs, NanoDet on onnxruntime, Redis
 * leases, the BullMQ `events` queue, PostgreSQL.
 *
 * Ground truth for vtest-cam's restricted zone (x < 0.28 on the footpath), read
 * off the footage by eye (see test/analyze.test.ts): people walk in at about
 * 17.8 s (L), 20.1 s (K) and 24.5 s (M) from the clip start; nobody else
 * before 30.5 s. The server starts the clip when the first client connects, so
 * the worker's first frame is within about 1.5 s of clip time 0.
 */
const ENTRIES = [17.8, 20.1, 24.5];

let server: RtspServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: pg.Client;
let worker: WorkerProcess;
const prefix = `pwtest:camw:${randomUUID().slice(0, 8)}:`;
const queuePrefix = `pwtest-camw-${randomUUID().slice(0, 8)}`;
const snapshots = mkdtempSync(join(tmpdir(), 'pw-camw-'));
const redis = new Redis(testRedisUrl());

interface EventRow {
  id: string;
  time: Date;
  kind: string;
  phase: string;
  camera: string;
  zone: string | null;
  track: number | null;
  snapshot: string | null;
  details: Record<string, unknown>;
}
const events = async (where = 'true', params: unknown[] = []) =>
  (await sql.query<EventRow>(`SELECT id, time, kind, phase, camera, zone, track, snapshot, details FROM events WHERE ${where} ORDER BY time, kind`, params)).rows;
const firstLog = (msg: string, camera: string) => worker.logs.find((l) => l.msg === msg && l.camera === camera);
const detail = () => `worker log tail: ${JSON.stringify(worker.logs.slice(-8))} stderr: ${worker.stderr()}`;

beforeAll(async () => {
  server = await startRtspServer();
  db = await createTestDatabase('camw');
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  worker = startCameraWorker(
    'camw-1',
    [
      '--site', 'test/fixtures/sites/vtest.yaml',
      '--redis-prefix', prefix,
      '--queue-prefix', queuePrefix,
      '--lease-ttl-ms', '3000',
      '--snapshots', snapshots,
      '--health-every', '1',
      '--stats-every', '5',
      '--backoff-cap-ms', '1500',
      // Short windows so the test sees faults in seconds, not the production half-minute.
      '--health-thresholds', JSON.stringify({ offlineAfterS: 8, frozenAfterS: 4, confirmS: 1, learnFrames: 4 }),
    ],
    {
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      VTEST_RTSP_URL: server.url('/vtest'),
      FROZEN_RTSP_URL: server.url('/frozen'),
      BLACK_RTSP_URL: server.url('/black'),
    },
  );
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await server?.stop();
  await sql?.end();
  await db?.drop();
  const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`${queuePrefix}:*`))];
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  rmSync(snapshots, { recursive: true, force: true });
});

describe('camera worker over a real RTSP server', () => {
  it('raises unauthorized_access once per person who walks into the restricted zone, at the times seen in the footage', async () => {
    const connected = await waitFor('vtest-cam connected', () => firstLog('camera stream connected', 'vtest-cam'), 40_000, detail);
    const t0 = Date.parse(connected.time);
    // Clip time 29 s (≈ 27.5–29 s of stream): L, K and M are in, the fourth person is not yet.
    const until = new Date(t0 + 29_000);
    await waitFor('29 s of footage', () => Date.now() > until.getTime() + 3000, 60_000);
    const starts = await events(`kind = 'unauthorized_access' AND phase = 'start' AND time < $1`, [until]);
    expect(starts.map((s) => [s.camera, s.zone])).toEqual([
      ['vtest-cam', 'west-path'],
      ['vtest-cam', 'west-path'],
      ['vtest-cam', 'west-path'],
    ]);
    expect(new Set(starts.map((s) => s.track)).size).toBe(3);
    starts.forEach((s, i) => {
      const t = (s.time.getTime() - t0) / 1000;
      // Starts lag entries by the zone's inertia and dwell (1–2 s); the stream may begin up to ~1.5 s into the clip.
      expect(t, `start ${i} at ${t} s`).toBeGreaterThanOrEqual(ENTRIES[i]! - 2.5);
      expect(t, `start ${i} at ${t} s`).toBeLessThanOrEqual(ENTRIES[i]! + 3.5);
      expect(s.details).toMatchObject({ worker: 'camw-1', zone_kind: 'restricted' });
      expect(typeof s.details.leaseEpoch).toBe('number');
      expect(s.snapshot && existsSync(join(snapshots, s.snapshot))).toBe(true);
    });
    // Each event is also a job on the BullMQ `events` queue, keyed by event id and phase.
    const queue = new Queue('events', { connection: redis, prefix: queuePrefix });
    try {
      for (const s of starts) {
        const job = await queue.getJob(`${s.id}.start`);
        expect(job?.name).toBe('unauthorized_access');
        expect(job?.data).toMatchObject({ id: s.id, kind: 'unauthorized_access', camera: 'vtest-cam', zone: 'west-path', track: s.track });
      }
    } finally {
      await queue.close();
    }
    // Nothing of the kind from the frozen and black cameras (they have no zones), and detections were stored.
    expect(await events(`camera <> 'vtest-cam' AND kind NOT LIKE 'camera_%'`)).toEqual([]);
    const det = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM detections WHERE camera = 'vtest-cam' AND class = 'person'`);
    expect(det.rows[0]!.n).toBeGreaterThan(10);
  }, 120_000);

  it('detects the frozen stream and the black (covered) camera, and not the live one', async () => {
    await waitFor('camera_frozen', async () => (await events(`kind = 'camera_frozen' AND phase = 'start'`)).length > 0, 30_000, detail);
    await waitFor('camera_blackout', async () => (await events(`kind = 'camera_blackout' AND phase = 'start'`)).length > 0, 30_000, detail);
    const faults = await events(`kind LIKE 'camera_%'`);
    // The frozen and black cameras (1 frame/s, GOP 1 s in the site file) are received by the worker and decoded on demand; vtest-cam (2 frames/s) by one ffmpeg.
    expect(['vtest-cam', 'frozen-cam', 'black-cam'].map((c) => firstLog('camera stream connected', c)?.onDemand)).toEqual([false, true, true]);
    expect(faults.filter((e) => e.kind === 'camera_frozen').map((e) => e.camera)).toEqual(['frozen-cam']);
    expect(faults.filter((e) => e.kind === 'camera_blackout').map((e) => e.camera)).toEqual(['black-cam']);
    expect(faults.filter((e) => e.camera === 'vtest-cam')).toEqual([]);
    const health = await sql.query<{ camera: string; state: string }>(`SELECT DISTINCT ON (camera) camera, state FROM camera_health ORDER BY camera, time DESC`);
    expect(Object.fromEntries(health.rows.map((r) => [r.camera, r.state]))).toEqual({ 'vtest-cam': 'ok', 'frozen-cam': 'frozen', 'black-cam': 'blackout' });
  }, 60_000);

  it('stopping the RTSP server raises camera_offline (refused); restarting it recovers', async () => {
    const port = server.port;
    const mark = new Date();
    await server.stop();
    const offline = () => events(`kind = 'camera_offline' AND phase = 'start' AND time > $1`, [mark]);
    await waitFor('camera_offline for all three cameras', async () => (await offline()).length >= 3, 20_000, detail);
    const off = await offline();
    expect(off.map((e) => e.camera).sort()).toEqual(['black-cam', 'frozen-cam', 'vtest-cam']);
    await waitFor('a refused health row', async () => (await sql.query(`SELECT 1 FROM camera_health WHERE camera = 'vtest-cam' AND time > $1 AND state = 'offline' AND reason = 'refused'`, [mark])).rowCount! > 0, 15_000, detail);

    server = await startRtspServer({ port });
    await waitFor('camera_offline end for vtest-cam', async () => (await events(`kind = 'camera_offline' AND phase = 'end' AND camera = 'vtest-cam'`)).length > 0, 30_000, detail);
    const [start] = off.filter((e) => e.camera === 'vtest-cam');
    const [end] = await events(`kind = 'camera_offline' AND phase = 'end' AND camera = 'vtest-cam'`);
    expect(end!.details.since).toBe(start!.details.since);
    expect(end!.time.getTime()).toBeGreaterThan(start!.time.getTime());
    await waitFor('vtest-cam ok again', async () => (await sql.query(`SELECT 1 FROM camera_health WHERE camera = 'vtest-cam' AND time > $1 AND state = 'ok'`, [end!.time])).rowCount! > 0, 15_000, detail);
  }, 90_000);

  it('on SIGTERM ends the open events, flushes and exits 0', async () => {
    await worker.stop();
    expect(await worker.exited).toBe(0);
    const rows = await events(`kind = 'unauthorized_access'`);
    const starts = rows.filter((r) => r.phase === 'start');
    const ends = rows.filter((r) => r.phase === 'end');
    expect(starts.length).toBeGreaterThanOrEqual(3);
    // Every event that started has ended (left, track lost or shutdown): nothing is left open.
    expect(new Set(ends.map((e) => e.id))).toEqual(new Set(starts.map((s) => s.id)));
    expect(await redis.keys(`${prefix}lease:camera:*`)).toEqual([]);
  }, 60_000);
});
