/**
 * Issue 19's goal with real processes: `portwatch run` (a camera on the RTSP
 * simulator, an AIS feed over TCP, PostgreSQL, a private Redis) while its Redis
 * is killed for 30 s and restarted. The cameras keep watching, every event of
 * the run ends up in the store and on the queue exactly once, the outage costs
 * one warning and one info line, no unhandled error event is printed, and
 * SIGTERM ends the process within the 10 s deadline, during and after the outage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../pipeline/log/index.js';
import { EventQueue, OutboxRelay, eventJobId } from '../pipeline/queue/index.js';
import { RedisOutageTracker, connectRedis } from '../pipeline/redis/index.js';
import { openStore } from '../pipeline/store/index.js';
import { startPrivateRedis, type PrivateRedis } from '../scripts/demo/private-redis.js';
import { AisReplay } from '../scripts/sim/ais-replay.js';
import { portScenario } from '../scripts/sim/ais-scenario.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';
import { vtestSiteText } from './helpers/vtest-site.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, detail = () => ''): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} ${detail()}`);
    await sleep(200);
  }
}

interface Line {
  level: number;
  time: string;
  msg: string;
  [k: string]: unknown;
}

interface Run {
  child: ChildProcess;
  logs: Line[];
  raw: () => string;
  exited: Promise<{ code: number | null; at: number }>;
  frames(): number;
}

const dir = mkdtempSync(join(tmpdir(), 'pw-redis-outage-'));
let rtsp: RtspServer;
let replay: AisReplay;
let redisServer: PrivateRedis;

function site(): string {
  return `${vtestSiteText({ name: 'Outage port', cameraUrl: rtsp.url('/vtest'), aisPort: replay.port })}workers:
  camera: { stats_every_seconds: 1, health_every_seconds: 2, lease_ttl_seconds: 3 }
`;
}

function startRun(databaseUrl: string, queuePrefix: string): Run {
  const siteFile = join(dir, `site-${randomUUID().slice(0, 6)}.yaml`);
  writeFileSync(siteFile, site());
  const child = spawn(
    process.execPath,
    ['bin/portwatch.js', 'run', '--site', siteFile, '--data-dir', join(dir, 'data'), '--redis', redisServer.url, '--queue-prefix', queuePrefix, '--redis-prefix', `${queuePrefix}:`],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Line[] = [];
  let raw = '';
  createInterface({ input: child.stderr! }).on('line', (l) => {
    try {
      logs.push(JSON.parse(l) as Line);
    } catch {
      raw += `${l}\n`;
    }
  });
  child.stdout!.on('data', (d: Buffer) => (raw += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((r) => child.once('exit', (code) => r({ code, at: Date.now() })));
  return {
    child,
    logs,
    raw: () => raw,
    exited,
    frames: () => Math.max(0, ...logs.filter((l) => l.msg === 'stats' && typeof l.frames === 'number').map((l) => l.frames as number)),
  };
}

async function stopRun(run: Run): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  run.child.kill('SIGTERM');
  const hard = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
  const { code, at } = await run.exited;
  clearTimeout(hard);
  return { code, ms: at - t0 };
}

async function queueJobIds(prefix: string): Promise<Map<string, number>> {
  const q = new Queue('events', { connection: { url: redisServer.url }, prefix });
  try {
    const jobs = await q.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized']);
    const m = new Map<string, number>();
    for (const j of jobs) m.set(j.id!, (m.get(j.id!) ?? 0) + 1);
    return m;
  } finally {
    await q.close();
  }
}

async function storedJobIds(url: string): Promise<{ ids: string[]; times: Date[]; outbox: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ id: string; phase: 'start' | 'update' | 'end' | 'instant'; time: Date }>('SELECT id, phase, time FROM events');
    const o = await c.query<{ n: string }>('SELECT count(*) AS n FROM event_outbox');
    return { ids: r.rows.map((e) => eventJobId(e)), times: r.rows.map((e) => e.time), outbox: Number(o.rows[0]!.n) };
  } finally {
    await c.end();
  }
}

const redisLines = (logs: Line[], level: number) => logs.filter((l) => l.level === level && /redis/i.test(l.msg));
const detail = (run: Run) => () => `log tail: ${JSON.stringify(run.logs.slice(-6))} stderr: ${run.raw().slice(-1500)}`;

beforeAll(async () => {
  rtsp = await startRtspServer();
  replay = new AisReplay({ lines: portScenario({ badLines: false }).lines, tcpPort: 0, tcpHost: '127.0.0.1', loop: true, speed: 60 });
  await replay.start();
  redisServer = await startPrivateRedis(join(dir, 'redis'));
}, 60_000);

afterAll(async () => {
  await replay?.stop();
  await rtsp?.stop();
  await redisServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis killed for 30 s under portwatch run', () => {
  let db: TestDatabase;
  beforeAll(async () => void (db = await createTestDatabase('pw_outage')), 30_000);
  afterAll(async () => db?.drop());

  it('cameras keep watching, every event is stored and queued exactly once, one warning and one info line, SIGTERM within 10 s after', async () => {
    const prefix = `pwtest-outage-${randomUUID().slice(0, 8)}`;
    const run = startRun(db.url, prefix);
    try {
      const connected = await until('camera connected', () => run.logs.find((l) => l.msg === 'camera stream connected'), 90_000, detail(run));
      // The clip's people walk into the zone 17.8–24.5 s after it starts: the outage covers them.
      await until('8 s of footage', () => Date.now() > Date.parse(connected.time) + 8_000 && run.frames() > 0, 30_000, detail(run));
      await redisServer.kill();
      const killedAt = Date.now();
      await sleep(3_000);
      const framesEarly = run.frames();
      await sleep(27_000);
      const framesLate = run.frames();
      redisServer = await startPrivateRedis(join(dir, 'redis'), { port: redisServer.port });
      const backAt = Date.now();
      // Through the outage the camera kept being analysed (2 frames/s: ~54 in 27 s).
      expect(framesLate - framesEarly).toBeGreaterThanOrEqual(20);
      await until('Redis back reported', () => run.logs.some((l) => l.level === 30 && /^Redis back after/.test(l.msg)), 20_000, detail(run));
      await sleep(10_000);

      const stopped = await stopRun(run);
      expect(stopped.code, detail(run)()).toBe(0);
      expect(stopped.ms).toBeLessThan(10_000);

      const stored = await storedJobIds(db.url);
      const queued = await queueJobIds(prefix);
      // Events happened during the outage (else "nothing lost" would prove nothing)…
      expect(stored.times.filter((t) => t.getTime() > killedAt && t.getTime() < backAt).length).toBeGreaterThan(0);
      // …and every one is in the store and on the queue exactly once.
      expect(stored.outbox).toBe(0);
      expect(new Set(stored.ids).size).toBe(stored.ids.length);
      expect([...queued.keys()].sort()).toEqual([...stored.ids].sort());
      expect([...queued.values()].every((n) => n === 1)).toBe(true);
      expect(stored.ids.some((id) => id.endsWith('.start'))).toBe(true);

      const warnings = run.logs.filter((l) => l.level >= 40 && /redis/i.test(l.msg));
      expect(warnings.map((w) => w.msg)).toHaveLength(1);
      expect(warnings[0]!.msg).toMatch(/^Redis unreachable \(/);
      expect(redisLines(run.logs, 30).map((l) => l.msg)).toEqual([expect.stringMatching(/^Redis back after \d+\.\d s$/)]);
      expect(run.raw()).not.toMatch(/Unhandled error event/);
      // Camera health said nothing wrong about the camera.
      expect(run.logs.filter((l) => l.msg === 'camera lease lost; stopping the camera here')).toEqual([]);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  }, 300_000);
});

describe('SIGTERM while Redis is down', () => {
  let db: TestDatabase;
  beforeAll(async () => void (db = await createTestDatabase('pw_outage_stop')), 30_000);
  afterAll(async () => db?.drop());

  it('ends within 10 s; what was stored and not published stays in the outbox and reaches the queue once Redis is back', async () => {
    const prefix = `pwtest-outage-${randomUUID().slice(0, 8)}`;
    const run = startRun(db.url, prefix);
    try {
      await until('frames analysed', () => run.frames() > 0, 90_000, detail(run));
      await redisServer.kill();
      await until('outage noticed', () => run.logs.some((l) => l.level === 40 && /^Redis unreachable/.test(l.msg)), 20_000, detail(run));
      await sleep(4_000);
      const stopped = await stopRun(run);
      expect(stopped.ms).toBeLessThan(10_000);
      expect(stopped.code, detail(run)()).toBe(0);
      expect(run.raw()).not.toMatch(/Unhandled error event/);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    redisServer = await startPrivateRedis(join(dir, 'redis'), { port: redisServer.port });
    const before = await storedJobIds(db.url);
    // Whatever was left is published by the next relay on this database, once.
    const logger = silentLogger();
    const store = await openStore({ databaseUrl: db.url, logger });
    const outages = new RedisOutageTracker();
    const redis = connectRedis({ url: redisServer.url, logger, name: 'q', outages });
    const queue = new EventQueue({ connection: redis, logger, prefix });
    const relay = new OutboxRelay({ store, queue, logger, outages, everyMs: 50 }).start();
    try {
      await until('outbox drained', async () => (await storedJobIds(db.url)).outbox === 0, 20_000);
    } finally {
      await relay.stop();
      await queue.close();
      redis.disconnect();
      await store.close();
    }
    const after = await storedJobIds(db.url);
    const queued = await queueJobIds(prefix);
    expect(after.ids.length).toBe(before.ids.length);
    expect([...queued.keys()].sort()).toEqual([...after.ids].sort());
  }, 240_000);
});

describe('Redis down at start', () => {
  let db: TestDatabase;
  beforeAll(async () => void (db = await createTestDatabase('pw_outage_start')), 30_000);
  afterAll(async () => db?.drop());

  it('the process starts and handles SIGTERM; the cameras start once Redis is up', async () => {
    const prefix = `pwtest-outage-${randomUUID().slice(0, 8)}`;
    await redisServer.kill();
    const run = startRun(db.url, prefix);
    try {
      await until('started without Redis', () => run.logs.find((l) => /^started: /.test(l.msg)), 90_000, detail(run));
      await until('AIS ingesting', () => run.logs.some((l) => l.msg === 'AIS ingest stats' && (l.lines as number) > 0), 30_000, detail(run));
      expect(run.frames()).toBe(0);
      redisServer = await startPrivateRedis(join(dir, 'redis'), { port: redisServer.port });
      await until('frames analysed once Redis is up', () => run.frames() > 0, 60_000, detail(run));
      const stopped = await stopRun(run);
      expect(stopped.ms).toBeLessThan(10_000);
      expect(stopped.code, detail(run)()).toBe(0);
      expect(run.raw()).not.toMatch(/Unhandled error event/);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  }, 240_000);
});
