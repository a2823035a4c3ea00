import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePositionReport } from '../pipeline/ais-ingest/encode.js';
import { startPrivatePostgres, type PrivatePostgres } from '../scripts/test-services/private-postgres.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';

/**
 * The database stopped for 30 s under a running AIS worker process (the real
 * `portwatch worker ais`), fed over TCP faster than it can write: its writer
 * retries and holds a bounded buffer, the feed is paused (the sender's socket
 * stops taking bytes), nothing is dropped, and once the database is back every
 * position sent is stored exactly once. The database is a private cluster of
 * this file's own (the shared test server must not stop under other files).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const VESSELS = 1000;
// One fix per vessel per data second, sent at RATE lines/s until the test stops the sender:
// a 30 s outage brings 300,000 lines (21 MB), more than the writer's bound (50,000 rows) and
// both sockets' kernel buffers (up to ~10 MB on loopback) can hold together.
const RATE = 10_000;
const OUTAGE_MS = 30_000;
const T0 = Date.parse('2026-11-27T00:00:00Z') / 1000;

/** Still vessels on a grid inside the demo port area, one position report per vessel per data second. */
function* feedLines(): Generator<string> {
  for (let s = 0; ; s++) {
    for (let v = 0; v < VESSELS; v++) {
      const [line] = encodePositionReport(
        { type: 1, mmsi: 413100000 + v, status: 1, lat: 24.41 + (v % 40) * 0.0015, lon: 118.0 + Math.floor(v / 40) * 0.0015, speed: 0, course: 0, heading: 0, second: s % 60 },
        { station: 'fault', time: T0 + s },
      );
      yield line!;
    }
  }
}

/**
 * A TCP AIS source sending RATE lines per second, as a busy receiver would; a
 * socket that takes no more (the reader paused) leaves it behind its schedule.
 */
function startFeedServer() {
  const state = { taken: 0, stopped: false, socket: null as Socket | null, startedAt: 0, scheduled: () => Math.floor(((Date.now() - state.startedAt) / 1000) * RATE) };
  const server: Server = createServer((socket) => {
    state.socket = socket;
    state.startedAt = Date.now();
    socket.on('error', () => {});
    const lines = feedLines();
    let waitingForDrain = false;
    const pump = () => {
      if (waitingForDrain) return;
      while (!state.stopped && state.taken < state.scheduled()) {
        state.taken++;
        // write() false: the kernel buffers are full because the reader paused; wait for drain.
        if (!socket.write(`${lines.next().value}\n`)) {
          waitingForDrain = true;
          socket.once('drain', () => {
            waitingForDrain = false;
            pump();
          });
          return;
        }
      }
    };
    const timer = setInterval(pump, 50);
    socket.once('close', () => clearInterval(timer));
  });
  return new Promise<{ server: Server; port: number; state: typeof state }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, state })),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('database stopped for 30 s under a running AIS worker', () => {
  let cluster: PrivatePostgres;
  let db: TestDatabase;
  let dir: string;
  let worker: ChildProcess | null = null;
  const logs: Array<Record<string, any>> = [];
  let stdout = '';

  beforeAll(async () => {
    cluster = await startPrivatePostgres({ name: 'faults-db' });
    db = await createTestDatabase('pw_fault_db', cluster.url);
    dir = mkdtempSync(join(tmpdir(), 'pw-fault-db-'));
  }, 60_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    if (!cluster.running()) await cluster.start().catch(() => {});
    await db?.drop().catch(() => {});
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return (await c.query<{ n: number; distinct: number }>(`SELECT count(*)::int AS n, count(DISTINCT (mmsi, time))::int AS distinct FROM ais_positions`)).rows[0]!;
    } finally {
      await c.end();
    }
  };

  it('retries, holds a bounded buffer, pauses the feed, then stores every position once', async () => {
    const feed = await startFeedServer();
    writeFileSync(
      join(dir, 'site.yaml'),
      `site: { name: Fault port, timezone: Asia/Shanghai }\nfeeds:\n  - { id: fault-feed, protocol: tcp, host: 127.0.0.1, port: ${feed.port}, station_id: fault }\n`,
    );
    worker = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'worker', 'ais', '--site', join(dir, 'site.yaml'), '--clock', 'data', '--stats-every', '1', '--duration', '600'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    createInterface({ input: worker.stderr! }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line });
      }
    });
    const exited = new Promise<number | null>((r) => worker!.once('exit', (code) => r(code)));
    const detail = () => JSON.stringify(logs.slice(-40).filter((l) => !l.msg?.startsWith?.('AIS ingest stats')));
    try {
      // Flowing first: part of the traffic stored before the outage (read from the worker's
      // stats line: a count(*) racing the writer on two busy cores lags by seconds).
      const written = () => Number(logs.findLast((l) => l.msg === 'AIS ingest stats')?.written ?? 0);
      for (let i = 0; written() < 50_000; i++) {
        if (worker.exitCode !== null || i > 480) throw new Error(`the worker did not store 50,000 positions: ${detail()}`);
        await sleep(250);
      }
      cluster.pause();
      const outageStarted = Date.now();
      const takenAt: number[] = [];
      while (Date.now() - outageStarted < OUTAGE_MS) {
        await sleep(1000);
        takenAt.push(feed.state.taken);
        expect(worker.exitCode, `the worker died during the outage: ${detail()}`).toBeNull();
      }
      const scheduledAtEnd = feed.state.scheduled();
      const statsInOutage = logs.filter((l) => l.msg === 'AIS ingest stats' && Date.parse(l.time ?? '') >= outageStarted);
      await cluster.start();

      // The feed was paused: by the end of the outage the sender could hand over nothing more
      // (its last seconds took no line) and had fallen behind its schedule.
      expect(takenAt.at(-1)).toBe(takenAt.at(-4));
      expect(scheduledAtEnd - takenAt.at(-1)!).toBeGreaterThan(3 * RATE);
      // The writer retried and held a bounded buffer (at most its bound, 10 batches of 5,000).
      expect(logs.some((l) => /retry|retrying|failed/i.test(String(l.msg)) && l.level >= 40), detail()).toBe(true);
      const held = statsInOutage.map((l) => Number(l.held));
      expect(held.length).toBeGreaterThan(5);
      expect(Math.max(...held)).toBeGreaterThan(0);
      expect(Math.max(...held)).toBeLessThanOrEqual(50_000);

      // Back: the sender stops (the test would otherwise wait for a loaded machine to catch up
      // with its schedule); every position it handed over arrives, each once.
      feed.state.stopped = true;
      const sent = feed.state.taken;
      const end = Date.now() + 120_000;
      while (written() < sent && Date.now() < end && worker.exitCode === null) await sleep(1000);
      expect(written(), `worker exit ${worker.exitCode}: ${detail()}`).toBe(sent);
      expect(await count()).toEqual({ n: sent, distinct: sent });
      worker.kill('SIGTERM');
      expect(await exited, detail()).toBe(0);
      const summary = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, any>;
      expect(summary.backpressure_drops).toBe(0);
      expect(summary.rejected).toBe(0);
      expect(summary.writers.ais_positions.retries).toBeGreaterThan(0);
      expect(summary.writers.ais_positions.written).toBe(sent);
    } finally {
      feed.state.socket?.destroy();
      feed.server.close();
    }
  }, 420_000);
});
