import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLeaseHolders } from '../pipeline/lease/index.js';
import { createTestDatabase, startCameraWorker, waitFor, type WorkerProcess } from './helpers/camera-worker.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';
import { testRedisUrl } from './helpers/services.js';

/**
 * Scale-out with real camera workers: three workers/camera.ts processes share
 * six simulated cameras (the vtest footage on six RTSP mounts) through Redis
 * leases with the production timings (TTL 10 s). One is SIGKILLed: its leases
 * just stop being renewed. Every one of its cameras must be running again —
 * frames flowing in a surviving worker, not just a lease taken — within 15 s.
 */
const CAMERAS = ['sim-001', 'sim-002', 'sim-003', 'sim-004', 'sim-005', 'sim-006'];
const prefix = `pwtest:camscale:${randomUUID().slice(0, 8)}:`;
const queuePrefix = `pwtest-camscale-${randomUUID().slice(0, 8)}`;
const redis = new Redis(testRedisUrl());
let server: RtspServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const workers: WorkerProcess[] = [];
const orphans: number[] = [];

/** Cameras a worker runs now, from its own log ('camera started' / 'camera stopped'). */
function running(w: WorkerProcess): Set<string> {
  const held = new Set<string>();
  for (const l of w.logs) {
    if (l.msg === 'camera started' && l.camera) held.add(l.camera);
    if (l.msg === 'camera stopped' && l.camera) held.delete(l.camera);
  }
  return held;
}

beforeAll(async () => {
  server = await startRtspServer({ cams: CAMERAS.length });
  db = await createTestDatabase('camscale');
  for (const id of ['scale-a', 'scale-b', 'scale-c']) {
    workers.push(
      startCameraWorker(id, ['--site', 'test/fixtures/sites/sim-cameras.yaml', '--redis-prefix', prefix, '--queue-prefix', queuePrefix, '--health-every', '1'], {
        DATABASE_URL: db.url,
        REDIS_URL: testRedisUrl(),
        SIM_RTSP_BASE: `rtsp://127.0.0.1:${server.port}`,
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone: it died of the broken pipe, as it should
    }
  }
  await server?.stop();
  await db?.drop();
  const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`${queuePrefix}:*`))];
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('camera workers share cameras and take over a killed one', () => {
  it('all cameras of a SIGKILLed worker run again in the survivors within 15 s', async () => {
    const detail = () => workers.map((w) => `${w.id}: ${[...running(w)].join(',')} ${w.stderr()}`).join(' | ');
    // Balanced: every camera in exactly one worker, frames flowing everywhere.
    await waitFor(
      'every camera running exactly once',
      () => {
        const all = workers.flatMap((w) => [...running(w)]);
        return all.length === CAMERAS.length && new Set(all).size === CAMERAS.length && workers.every((w) => running(w).size > 0);
      },
      60_000,
      detail,
    );
    await waitFor('frames from every camera', () => CAMERAS.every((c) => workers.some((w) => w.logs.some((l) => l.msg === 'camera stream connected' && l.camera === c))), 30_000, detail);

    const victim = workers.reduce((a, b) => (running(b).size > running(a).size ? b : a));
    const survivors = workers.filter((w) => w !== victim);
    const taken = [...running(victim)];
    expect(taken.length).toBeGreaterThanOrEqual(2);
    // Its ffmpegs are its children; note them so none outlives the test.
    try {
      orphans.push(...execFileSync('pgrep', ['-P', String(victim.child.pid)]).toString().trim().split('\n').filter(Boolean).map(Number));
    } catch {
      // no children listed
    }
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;

    const resumed = new Map<string, number>();
    await waitFor(
      `cameras ${taken.join(', ')} running again in a survivor`,
      () => {
        for (const c of taken) {
          if (resumed.has(c)) continue;
          for (const w of survivors) {
            const hit = w.logs.find((l) => l.msg === 'camera stream connected' && l.camera === c && Date.parse(l.time) >= killedAt);
            if (hit) resumed.set(c, Date.parse(hit.time) - killedAt);
          }
        }
        return resumed.size === taken.length;
      },
      25_000,
      detail,
    );
    const worst = Math.max(...resumed.values());
    console.info(`takeover of ${taken.length} cameras after SIGKILL: ${[...resumed].map(([c, ms]) => `${c} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
    expect(worst, `takeover times ms: ${JSON.stringify([...resumed])}`).toBeLessThanOrEqual(15_000);

    // Exactly once afterwards: the leases in Redis name the survivors, each camera once…
    const holders = await readLeaseHolders(redis, prefix, CAMERAS);
    for (const c of CAMERAS) expect(survivors.map((w) => w.id)).toContain(holders.get(c)?.worker);
    const all = survivors.flatMap((w) => [...running(w)]);
    expect(all.sort()).toEqual(CAMERAS);
    // …and the store shows the taken-over cameras' health written by their new worker.
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      await waitFor(
        'health rows from the new holders',
        async () => {
          const r = await sql.query<{ camera: string }>(
            `SELECT DISTINCT camera FROM camera_health WHERE time > $1 AND metrics->>'worker' = ANY($2) AND (metrics->>'connected')::boolean`,
            [new Date(killedAt), survivors.map((w) => w.id)],
          );
          return taken.every((c) => r.rows.some((x) => x.camera === c));
        },
        10_000,
      );
    } finally {
      await sql.end();
    }
  }, 150_000);
});
