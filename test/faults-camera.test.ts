import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultyCameraServer, type FaultyCameraServer } from '../scripts/sim/rtsp-faulty-camera.js';
import { createTestDatabase, startCameraWorker, waitFor, type WorkerProcess } from './helpers/camera-worker.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

/**
 * Cameras that send garbage, under one real camera worker process beside a
 * good camera: a session whose RTP packets carry random bytes, a stream whose
 * resolution changes mid-stream (a new SPS: 640×480, then 320×240, alternating
 * every 6 s), and one whose TCP connection is cut in the middle of an RTP
 * packet every 3 s (scripts/sim/rtsp-faulty-camera.ts serves all three). Each
 * is reported in `camera_health` with a reason, nothing crashes, and the good
 * camera (the GStreamer simulator's vtest footage) is analysed throughout.
 */
const HEALTH_EVERY_S = 3;

interface HealthRow {
  time: Date;
  camera: string;
  state: string;
  reason: string | null;
  metrics: Record<string, any>;
}

describe('cameras that send garbage', () => {
  let faulty: FaultyCameraServer;
  let sim: RtspServer;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: pg.Client;
  let worker: WorkerProcess;
  const dir = mkdtempSync(join(tmpdir(), 'pw-fault-cam-'));

  beforeAll(async () => {
    [faulty, sim, db] = await Promise.all([startFaultyCameraServer({ segmentS: 6, cutAfterS: 3 }), startRtspServer(), createTestDatabase('pw_fault_cam')]);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await sql?.end();
    await Promise.all([faulty?.stop(), sim?.stop(), db?.drop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const health = async (camera: string) =>
    (await sql.query<HealthRow>(`SELECT time, camera, state, reason, metrics FROM camera_health WHERE camera = $1 ORDER BY time`, [camera])).rows;

  it('reports each fault with its reason, keeps running, and the good camera keeps being analysed', async () => {
    const site = join(dir, 'site.yaml');
    writeFileSync(
      site,
      `site: { name: Faulty cameras, timezone: Asia/Shanghai }
defaults:
  detect: { fps: 2, width: 640, height: 480, model: nanodet-int8, stream: main }
workers:
  camera:
    health_every_seconds: ${HEALTH_EVERY_S}
    stats_every_seconds: 3
    health: { offline_after_s: 6 }
cameras:
  - id: vtest-cam
    kind: yard
    streams: { main: ${sim.url('/vtest')} }
    zones:
      - { id: west-path, name: West path, kind: restricted, polygon: [[0.0, 0.33], [0.28, 0.33], [0.28, 0.50], [0.0, 0.50]], classes: [person], min_dwell_seconds: 1 }
  - id: garbage-cam
    kind: yard
    streams: { main: ${faulty.url('garbage')} }
  - id: resize-cam
    kind: yard
    streams: { main: ${faulty.url('resize')} }
    zones:
      - { id: square, name: Square, kind: restricted, polygon: [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]], classes: [person] }
  - id: cut-cam
    kind: yard
    streams: { main: ${faulty.url('cut')} }
  # One frame a second from the 1 s GOP: received here, keyframes decoded on demand (the port's default).
  - id: garbage-od-cam
    kind: yard
    streams: { main: ${faulty.url('garbage')} }
    detect: { fps: 1, keyframe_interval: 1 }
  - id: resize-od-cam
    kind: yard
    streams: { main: ${faulty.url('resize')} }
    detect: { fps: 1, keyframe_interval: 1 }
`,
    );
    worker = startCameraWorker('fault-cam-1', ['--site', site], { DATABASE_URL: db.url });
    const detail = () => `worker log tail: ${JSON.stringify(worker.logs.filter((l) => l.msg !== 'stats').slice(-12))} stderr: ${worker.stderr()}`;
    const alive = () => {
      expect(worker.child.exitCode, `the worker died: ${detail()}`).toBeNull();
      return true;
    };
    const started = await waitFor('vtest-cam connected', () => alive() && worker.logs.find((l) => l.msg === 'camera stream connected' && l.camera === 'vtest-cam'), 60_000, detail);

    // Random bytes: reported undecodable, then offline, the reason on the health rows.
    const garbage = await waitFor(
      'garbage-cam offline with reason codec',
      async () => alive() && (await health('garbage-cam')).find((r) => r.state === 'offline' && r.reason === 'codec'),
      45_000,
      detail,
    );
    expect(garbage.metrics.connected).toBe(false);
    expect(worker.logs.some((l) => l.camera === 'garbage-cam' && l.msg === 'camera stream cannot be decoded')).toBe(true);
    const offline = await sql.query(`SELECT details FROM events WHERE camera = 'garbage-cam' AND kind = 'camera_offline' AND phase = 'start'`);
    expect(offline.rows.length, detail()).toBe(1);

    // The same on demand: the session is up, its keyframes cannot be decoded.
    await waitFor(
      'garbage-od-cam offline with reason codec',
      async () => alive() && (await health('garbage-od-cam')).find((r) => r.state === 'offline' && r.reason === 'codec'),
      45_000,
      detail,
    );
    expect(worker.logs.some((l) => l.camera === 'garbage-od-cam' && l.msg === 'camera stream cannot be decoded' && l.onDemand !== false)).toBe(true);

    // Cut mid-packet: each drop counted with why (the camera closed it), then reconnected.
    const cut = await waitFor(
      'cut-cam drops on its health rows',
      async () => alive() && (await health('cut-cam')).find((r) => r.metrics.stream_drops > 0),
      45_000,
      detail,
    );
    expect(cut.metrics.last_drop_reason).toBe('ended');
    await waitFor('cut-cam reconnected after a cut', () => worker.logs.filter((l) => l.camera === 'cut-cam' && l.msg === 'camera stream connected').length >= 2, 30_000, detail);
    const ended = worker.logs.filter((l) => l.camera === 'cut-cam' && l.msg === 'camera stream ended');
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.every((l) => l.reason === 'ended'), JSON.stringify(ended)).toBe(true);

    // New resolution: reported (log, health rows), and frames keep coming at the detect size.
    const change = await waitFor('resize-cam resolution change', () => alive() && worker.logs.find((l) => l.camera === 'resize-cam' && l.msg === 'camera stream resolution changed'), 45_000, detail);
    expect(change).toMatchObject({ from: '640x480', to: '320x240' });
    const changedAt = Date.parse(change.time);
    const afterChange = await waitFor(
      'resize-cam health rows after the change',
      async () => alive() && (await health('resize-cam')).filter((r) => r.time.getTime() > changedAt + 1000 && r.metrics.size_changes >= 1).slice(1)[0],
      30_000,
      detail,
    );
    expect(afterChange.metrics.fps).toBeGreaterThan(0);
    expect(afterChange.metrics.connected).toBe(true);
    expect(['320x240', '640x480']).toContain(afterChange.metrics.source_size);
    expect(afterChange.state).not.toBe('offline');

    // On demand, the keyframe decoder tells the size the same way.
    const odChange = await waitFor('resize-od-cam resolution change', () => alive() && worker.logs.find((l) => l.camera === 'resize-od-cam' && l.msg === 'camera stream resolution changed'), 45_000, detail);
    expect(odChange).toMatchObject({ from: '640x480', to: '320x240' });
    // Pictures after the change (a quiet camera on demand decodes a keyframe every 4 s, so not every row has one).
    await waitFor(
      'resize-od-cam pictures after the change',
      async () => alive() && (await health('resize-od-cam')).find((r) => r.time.getTime() > Date.parse(odChange.time) + HEALTH_EVERY_S * 1000 && r.metrics.size_changes >= 1 && r.metrics.fps > 0),
      30_000,
      detail,
    );

    // And back to the first size; by then the faults have run beside the good camera for 25 s.
    await waitFor('resize-cam back to 640x480', () => alive() && worker.logs.find((l) => l.camera === 'resize-cam' && l.msg === 'camera stream resolution changed' && l.to === '640x480'), 30_000, detail);
    await waitFor('25 s of faults', () => alive() && Date.now() > Date.parse(started.time) + 25_000, 30_000);
    await waitFor('a last vtest-cam health row', async () => (await health('vtest-cam')).at(-1)!.time.getTime() > Date.parse(started.time) + 24_000, 15_000, detail);

    // The good camera, analysed all along: a health row every few seconds, each with frames.
    const good = (await health('vtest-cam')).filter((r) => r.time.getTime() > Date.parse(started.time) + HEALTH_EVERY_S * 1000);
    expect(good.length, detail()).toBeGreaterThan(5);
    expect(good.filter((r) => !(r.metrics.fps > 0) || r.state === 'offline' || !r.metrics.connected), JSON.stringify(good)).toEqual([]);
    const gaps = good.slice(1).map((r, i) => r.time.getTime() - good[i]!.time.getTime());
    expect(Math.max(...gaps)).toBeLessThan(HEALTH_EVERY_S * 1000 * 2 + 2000);
    expect(good.at(-1)!.time.getTime()).toBeGreaterThan(changedAt);
    expect(faulty.stats().cut.cuts).toBeGreaterThan(0);

    worker.child.kill('SIGTERM');
    expect(await worker.exited, detail()).toBe(0);
  }, 150_000);
});
