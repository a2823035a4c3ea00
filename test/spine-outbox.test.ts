/**
 * The event spine with real processes and real services: an event is on the
 * queue only if it is stored, and every stored event reaches the queue exactly
 * once in effect, even when the producer is killed between storing and
 * publishing, or Redis is down for a while.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventSink } from '../pipeline/events/event-sink.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { EventQueue, OutboxRelay, eventJobId } from '../pipeline/queue/index.js';
import { RedisOutageTracker, connectRedis } from '../pipeline/redis/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { startPrivateRedis, type PrivateRedis } from '../scripts/demo/private-redis.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const logger = silentLogger();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

let db: TestDatabase;
let redisServer: PrivateRedis;
const redisDir = mkdtempSync(join(tmpdir(), 'pw-spine-redis-'));

beforeAll(async () => {
  db = await createTestDatabase('pw_spine');
  redisServer = await startPrivateRedis(redisDir);
}, 60_000);

afterAll(async () => {
  await redisServer?.stop();
  await db?.drop();
  rmSync(redisDir, { recursive: true, force: true });
});

/** Every job id on the queue, with how many jobs carry it. */
async function jobIds(prefix: string): Promise<Map<string, number>> {
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

async function storedIds(store: Store, camera: string): Promise<string[]> {
  const r = await store.query<{ id: string; phase: string }>('SELECT id, phase FROM events WHERE camera = $1', [camera]);
  return r.rows.map((row) => `${row.id}.${row.phase}`);
}

describe('event spine', () => {
  /** Runs the emitter until it has stored `n` events, then SIGKILLs it; returns what it said it stored and published. */
  async function emitAndKill(redisUrl: string, prefix: string, n: number) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/spine-emitter.ts', db.url, redisUrl, prefix, randomUUID()], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const stored: string[] = [];
    const published: string[] = [];
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('stored ')) stored.push(l.slice(7));
      if (l.startsWith('published ')) published.push(l.slice(10));
    });
    const exited = new Promise((r) => child.once('exit', r));
    await until(`the producer storing events`, () => stored.length >= n, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${stderr}`);
    });
    child.kill('SIGKILL');
    await exited;
    return { stored, published };
  }

  const outboxSize = async (store: Store) => Number((await store.query<{ n: string }>('SELECT count(*) AS n FROM event_outbox')).rows[0]!.n);

  it('producers killed between storing and publishing lose nothing: the next relay publishes the rest, each once', async () => {
    const prefix = `pwtest-spine-${randomUUID()}`;
    // One killed at a random moment while Redis is up (some published, maybe some not),
    // one killed while it cannot reach Redis (stored, certainly not published).
    const live = await emitAndKill(redisServer.url, prefix, 200);
    const cut = await emitAndKill('redis://127.0.0.1:9/0', prefix, 100);
    expect(live.published.length).toBeGreaterThan(0);
    expect(cut.published).toEqual([]);

    const store = await openStore({ databaseUrl: db.url, logger });
    try {
      const inStore = await storedIds(store, 'cam-spine');
      const pending = await outboxSize(store);
      const before = await jobIds(prefix);
      expect(pending).toBeGreaterThanOrEqual(100);
      // Never published unless stored; every acknowledged event is stored.
      for (const id of before.keys()) expect(inStore).toContain(id);
      for (const id of [...live.stored, ...cut.stored]) expect(inStore).toContain(`${id}.start`);
      for (const id of cut.stored) expect(before.has(`${id}.start`)).toBe(false);

      // A new process (here: a relay) publishes what the dead ones left.
      const outages = new RedisOutageTracker();
      const redis = connectRedis({ url: redisServer.url, logger, name: 'q', outages });
      const queue = new EventQueue({ connection: redis, logger, prefix });
      const relay = new OutboxRelay({ store, queue, logger, outages, everyMs: 20 }).start();
      await until('outbox empty', async () => (await outboxSize(store)) === 0);
      await relay.stop();
      await queue.close();
      redis.disconnect();
      const after = await jobIds(prefix);
      expect([...after.keys()].sort()).toEqual([...inStore].sort());
      expect([...after.values()].every((n) => n === 1)).toBe(true);
      expect(relay.stats().published).toBe(pending);
    } finally {
      await store.close();
    }
  }, 180_000);

  it('Redis down: events are stored, none is lost, and all are published once when it returns; a refused row is never published', async () => {
    const prefix = `pwtest-spine-${randomUUID()}`;
    const store = await openStore({ databaseUrl: db.url, logger });
    await migrate(store, { logger });
    const outages = new RedisOutageTracker();
    const redis = connectRedis({ url: redisServer.url, logger, name: 'events-queue', outages });
    const queue = new EventQueue({ connection: redis, logger, prefix });
    const sink = createEventSink({ store, logger, queue, outages, relayEveryMs: 50 });
    const published: PortEvent[] = [];
    sink.onPublished((e) => published.push(e));
    const camera = `cam-${randomUUID().slice(0, 8)}`;
    const ev = (i: number, over: Partial<PortEvent> = {}): PortEvent => ({
      id: eventId(camera, i),
      time: new Date(Date.parse('2026-12-02T00:00:00Z') + i * 1000),
      kind: 'cargo_movement',
      phase: 'instant',
      camera,
      zone: 'yard',
      bbox: [1, 2, 3, 4],
      details: { i },
      ...over,
    });
    try {
      for (let i = 0; i < 10; i++) expect((await sink.emit(ev(i))).ok).toBe(true);
      await until('first ten published', () => published.length === 10);

      await redisServer.kill();
      await until('outage seen', () => !outages.up);
      const during = await Promise.all(Array.from({ length: 40 }, (_, k) => sink.emit(ev(10 + k))));
      expect(during.every((r) => r.ok)).toBe(true);
      // A row the database refuses (score above 1 breaks nothing here; a phase it does not know does).
      const bad = await sink.emit(ev(99, { phase: 'sideways' as PortEvent['phase'] }));
      expect(bad.ok).toBe(false);
      await sleep(1_500);
      expect(published.length).toBe(10);
      expect(sink.stats().pending).toBeGreaterThan(0);

      redisServer = await startPrivateRedis(redisDir, { port: redisServer.port });
      await until('backlog published', () => published.length === 50, 30_000);
      await sleep(500);
      const jobs = await jobIds(prefix);
      const inStore = await storedIds(store, camera);
      expect(inStore).toHaveLength(50);
      expect([...jobs.keys()].sort()).toEqual(inStore.sort());
      expect(jobs.has(eventJobId(ev(99)))).toBe(false);
      expect(published.map((e) => e.id).sort()).toEqual(Array.from({ length: 50 }, (_, i) => ev(i).id).sort());
      // What the queue carries is the stored event, not a lookalike.
      const first = published.find((e) => e.id === ev(0).id)!;
      expect(first).toMatchObject({ kind: 'cargo_movement', phase: 'instant', camera, zone: 'yard', bbox: [1, 2, 3, 4], details: { i: 0 } });
      expect(first.time.getTime()).toBe(ev(0).time.getTime());
      expect(await sink.close({ timeoutMs: 5_000 })).toEqual({ abandoned: 0, unpublished: 0 });
    } finally {
      await sink.close({ timeoutMs: 1_000 });
      await queue.close();
      redis.disconnect();
      await store.close();
    }
  }, 120_000);
});
