/**
 * Evidence clips made by the camera worker: the real workers/camera.ts on the
 * RTSP simulator's vtest (on-demand decoding, the H.264 received in the
 * process), the restricted zone over the west footpath. A person walks in →
 * an unauthorized_access event → once its post-roll has passed, a clip of the
 * camera's own H.264 (copied, not re-encoded) from the pre-roll before the
 * person came in to the post-roll after the event ended, recorded in
 * event_clips. ffprobe sees H.264 in MP4 with that duration; the alert the
 * rules make of the stored events returns the clip, and the API serves it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEngine, applyAlertChanges, getAlert } from '../pipeline/alerts/index.js';
import { checkSiteConfigText } from '../pipeline/config/index.js';
import type { PortEvent } from '../pipeline/events/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { startTestApi, type TestApi } from './helpers/api-server.js';
import { createTestDatabase, startCameraWorker, waitFor, type WorkerProcess } from './helpers/camera-worker.js';
import type { TestDatabase } from './helpers/pg-database.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';
import { vtestSiteText } from './helpers/vtest-site.js';

const PRE_S = 3;
const POST_S = 2;

interface ClipRow {
  event: string;
  camera: string;
  path: string;
  from_at: Date;
  to_at: Date;
  duration_s: number;
  truncated: boolean;
}

describe('evidence clips from the camera worker', () => {
  let db: TestDatabase;
  let sim: RtspServer;
  let worker: WorkerProcess;
  let store: Store;
  let api: TestApi | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pw-clips-worker-'));
  const dataDir = join(dir, 'data');

  beforeAll(async () => {
    [db, sim] = await Promise.all([createTestDatabase('pw_clips_worker'), startRtspServer()]);
    store = await openStore({ databaseUrl: db.url, logger: silentLogger() });
    await migrate(store, { logger: silentLogger() });
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await store?.close();
    await db?.drop().catch(() => {});
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one H.264 MP4 per zone event, pre-roll to post-roll, that the alert and the API return', async () => {
    // One frame a second from vtest's 1 s GOP: the stream is received in the worker and keyframes decoded on
    // demand (the port's default), so its H.264 passes through the process and can be kept.
    const vtest = vtestSiteText({ name: 'clips', cameraUrl: sim.url('/vtest') });
    expect(vtest).toContain('detect: { fps: 2,');
    const siteText = `${vtest.replace('detect: { fps: 2,', 'detect: { fps: 1, keyframe_interval: 1,')}alerts:
  clips: { pre_roll_seconds: ${PRE_S}, post_roll_seconds: ${POST_S}, retain_days: 7 }
  routes:
    - { id: board, kind: board }
  rules:
    - { id: intrusion, kinds: [unauthorized_access], zones: [west-path], severity: high, routes: [board], cooldown_seconds: 0 }
`;
    const siteFile = join(dir, 'site.yaml');
    writeFileSync(siteFile, siteText);
    const site = checkSiteConfigText(siteText, { file: siteFile, base_dir: process.cwd() }).config!;
    expect(site).toBeDefined();

    worker = startCameraWorker('clips-1', ['--site', siteFile, '--data-dir', dataDir, '--stats-every', '2'], { DATABASE_URL: db.url });
    const detail = () => `worker log tail: ${JSON.stringify(worker.logs.filter((l) => l.msg !== 'stats').slice(-12))} stderr: ${worker.stderr()}`;

    const connected = await waitFor('vtest-cam connected', () => worker.logs.find((l) => l.msg === 'camera stream connected' && l.camera === 'vtest-cam'), 60_000, detail);
    expect(connected.onDemand).toBe(true);

    // The first zone event whose end and post-roll have passed gets its clip.
    const clip = await waitFor(
      'a clip in event_clips for an ended unauthorized_access event',
      async () => {
        const r = await store.query<ClipRow>(`SELECT c.* FROM event_clips c JOIN events e ON e.id = c.event AND e.phase = 'end' WHERE e.kind = 'unauthorized_access' ORDER BY c.from_at LIMIT 1`);
        return r.rows[0];
      },
      120_000,
      detail,
    );
    expect(worker.child.exitCode, detail()).toBeNull();
    expect(clip.camera).toBe('vtest-cam');
    expect(clip.truncated).toBe(false);
    expect(clip.path).toMatch(/^clips\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.mp4$/);
    expect(clip.path).toContain(clip.event);

    // The event's span, as stored: from the person coming in (the start, less its dwell in the zone) to its end.
    const phases = (await store.query<{ phase: string; time: Date; details: Record<string, unknown> }>(`SELECT phase, time, details FROM events WHERE id = $1 ORDER BY time`, [clip.event])).rows;
    const start = phases.find((p) => p.phase === 'start')!;
    const end = phases.find((p) => p.phase === 'end')!;
    expect(start.details.dwell_seconds).toBeGreaterThan(0);
    const enteredMs = new Date(start.time).getTime() - Number(start.details.dwell_seconds) * 1000;
    const eventS = (new Date(end.time).getTime() - enteredMs) / 1000;
    expect(eventS).toBeGreaterThan(0);

    // ffprobe: H.264 in MP4, as long as the event plus both rolls (the clip starts on the keyframe
    // at or before the pre-roll: up to one GOP, 1 s, more; arrival jitter on a busy machine: a little less).
    const file = join(dataDir, clip.path);
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type:format=format_name,duration', '-of', 'json', file]).toString()) as {
      streams: Array<{ codec_name: string; codec_type: string }>;
      format: { format_name: string; duration: string };
    };
    expect(probe.streams.map((s) => [s.codec_type, s.codec_name])).toEqual([['video', 'h264']]);
    expect(probe.format.format_name).toContain('mp4');
    const duration = Number(probe.format.duration);
    const expected = eventS + PRE_S + POST_S;
    expect(duration, `clip ${duration} s, event ${eventS} s + ${PRE_S} + ${POST_S}`).toBeGreaterThan(expected - 0.6);
    expect(duration, `clip ${duration} s, event ${eventS} s + ${PRE_S} + ${POST_S}`).toBeLessThan(expected + 2);
    expect(Math.abs(clip.duration_s - duration)).toBeLessThan(0.5);
    // The clip starts on the keyframe at or before the pre-roll ahead of the person coming in.
    expect(new Date(clip.from_at).getTime()).toBeLessThanOrEqual(enteredMs - PRE_S * 1000);
    expect(new Date(clip.from_at).getTime()).toBeGreaterThan(enteredMs - PRE_S * 1000 - 1500);

    // The alert the rules make of the stored events returns the clip of its first event that has one.
    const events = (await store.query<PortEvent & { time: Date }>(`SELECT id, time, kind, phase, camera, zone, track, class, score, bbox, snapshot, berth, mmsi, details FROM events WHERE camera = 'vtest-cam' ORDER BY time`)).rows;
    const engine = new AlertEngine({ site });
    const changes = events.flatMap((e) => engine.ingest({ ...e, time: new Date(e.time) }));
    await applyAlertChanges(store, changes);
    const alertId = changes.find((c) => c.alert.objects.some((o) => o.event === clip.event))?.alert.id;
    expect(alertId, JSON.stringify(changes.map((c) => c.alert.objects.map((o) => o.event)))).toBeDefined();
    const alert = await getAlert(store, alertId!);
    expect(alert?.clip).toBe(clip.path);

    // GET /api/alerts/:id names the clip, and /clip serves the file from the data folder.
    api = await startTestApi({ store, dataDir });
    const headers = { authorization: `Bearer ${api.tokens.operator}` };
    const res = await api.api.app.inject({ url: `/api/alerts/${alertId}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().clip).toBe(`/api/alerts/${alertId}/clip`);
    const video = await api.api.app.inject({ url: `/api/alerts/${alertId}/clip`, headers });
    expect(video.statusCode).toBe(200);
    expect(video.headers['content-type']).toBe('video/mp4');
    expect(video.rawPayload.length).toBe(statSync(file).size);

    // Counted in the worker's stats.
    await waitFor('clips counted in the stats', () => worker.logs.some((l) => l.msg === 'stats' && (l.clips as { written: number } | null)?.written! >= 1), 10_000, detail);
    worker.child.kill('SIGTERM');
    expect(await worker.exited, detail()).toBe(0);
  }, 240_000);
});
