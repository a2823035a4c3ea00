import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../pipeline/log/index.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import {
  BackpressureError,
  WriterClosedError,
  createBatchWriter,
  detectionsTable,
  eventsTable,
  migrate,
  openStore,
  type DetectionRecord,
  type Store,
} from '../pipeline/store/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { testPostgresUrl, testTimescaleUrl } from './helpers/services.js';

const logger = silentLogger();
const base = Date.parse('2026-03-01T08:00:00Z');

const event = (run: string, i: number, extra: Partial<PortEvent> = {}): PortEvent => ({
  id: eventId(run, i),
  time: new Date(base + i * 1000),
  kind: 'unauthorized_access',
  phase: 'start',
  camera: 'cam-07',
  zone: 'quay-3',
  track: i,
  class: 'person',
  score: 0.8,
  bbox: [10, 20, 110, 220],
  details: { i },
  ...extra,
});

const detection = (run: string, i: number, extra: Partial<DetectionRecord> = {}): DetectionRecord => ({
  id: eventId(run, i),
  time: new Date(base + i * 40),
  camera: 'cam-11',
  frameId: i,
  class: 'truck',
  score: 0.6,
  box: [1, 2, 3, 4],
  ...extra,
});

async function countIds(store: Store, table: string, ids: string[]): Promise<number> {
  return (await store.query(`SELECT count(*) AS n FROM ${table} WHERE id = ANY($1::uuid[])`, [ids])).rows[0]!.n;
}

/** Checks shared by both targets: duplicates never stored twice, bad rows isolated and reported. */
function sharedWriterBehaviour(getStore: () => Store) {
  it('stores a re-delivered row once (same id in one batch and across batches)', async () => {
    const store = getStore();
    const run = `dup-${randomBytes(4).toString('hex')}`;
    const w = createBatchWriter(store, eventsTable, { logger, batchSize: 100, flushIntervalMs: 10 });
    const first = await Promise.all(Array.from({ length: 100 }, (_, i) => w.write(event(run, i))));
    expect(first.every((r) => r.ok)).toBe(true);
    // The same 100 again, plus 50 new, plus duplicates inside the same batch.
    const again = await Promise.all([
      ...Array.from({ length: 150 }, (_, i) => w.write(event(run, i))),
      ...Array.from({ length: 20 }, (_, i) => w.write(event(run, 120 + i))),
    ]);
    expect(again.every((r) => r.ok)).toBe(true);
    await w.close();
    const ids = Array.from({ length: 150 }, (_, i) => eventId(run, i));
    expect(await countIds(store, 'events', ids)).toBe(150);
    const stored = (await store.query(`SELECT count(*) AS n FROM events WHERE details->>'i' IS NOT NULL AND id = ANY($1::uuid[])`, [ids])).rows[0]!.n;
    expect(stored).toBe(150);
  });

  it('refuses a bad row precisely and keeps the rest of its batch', async () => {
    const store = getStore();
    const run = `bad-${randomBytes(4).toString('hex')}`;
    const rejections: unknown[] = [];
    const w = createBatchWriter(store, detectionsTable, { logger, batchSize: 64, flushIntervalMs: 10, onReject: (r) => rejections.push(r) });
    const records = Array.from({ length: 64 }, (_, i) => detection(run, i));
    records[17] = detection(run, 17, { score: 7 }); // violates the score check
    records[40] = detection(run, 40, { camera: null as unknown as string }); // NOT NULL
    records[51] = detection(run, 51, { time: new Date('not a date') });
    const results = await Promise.all(records.map((r) => w.write(r)));
    await w.close();
    const refused = results.map((r, i) => (r.ok ? null : { i, column: r.rejection.column, table: r.rejection.table })).filter(Boolean);
    expect(refused).toEqual([
      { i: 17, column: 'score', table: 'detections' },
      { i: 40, column: 'camera', table: 'detections' },
      { i: 51, column: 'time', table: 'detections' },
    ]);
    const r17 = results[17]!;
    expect(!r17.ok && r17.rejection.reason).toMatch(/detections_score_check/);
    expect(!r17.ok && r17.rejection.id).toBe(eventId(run, 17));
    expect(rejections).toHaveLength(3);
    expect(w.stats.rejected).toBe(3);
    expect(await countIds(store, 'detections', records.map((r) => r.id))).toBe(61);
  });

  it('flushes everything accepted on close, however long the flush interval', async () => {
    const store = getStore();
    const run = `close-${randomBytes(4).toString('hex')}`;
    const w = createBatchWriter(store, eventsTable, { logger, batchSize: 10_000, flushIntervalMs: 3_600_000 });
    const pending = Array.from({ length: 321 }, (_, i) => w.write(event(run, i)));
    expect(await countIds(store, 'events', Array.from({ length: 321 }, (_, i) => eventId(run, i)))).toBe(0);
    const stats = await w.close();
    expect(stats.written).toBe(321);
    expect((await Promise.all(pending)).every((r) => r.ok)).toBe(true);
    expect(await countIds(store, 'events', Array.from({ length: 321 }, (_, i) => eventId(run, i)))).toBe(321);
    expect(() => w.write(event(run, 999))).toThrow(WriterClosedError);
  });

  it('push: no promise per row, flush() acknowledges every row pushed before it, refusals reported as with write', async () => {
    const store = getStore();
    const run = `push-${randomBytes(4).toString('hex')}`;
    const rejections: Array<{ id: string; column: string | null }> = [];
    // Small batches, several in flight on a server: flush must wait for all of them, not just the last.
    const w = createBatchWriter(store, detectionsTable, { logger, batchSize: 50, maxBuffered: 2000, flushIntervalMs: 3_600_000, onReject: (r) => rejections.push({ id: r.id, column: r.column }) });
    const records = Array.from({ length: 1234 }, (_, i) => detection(run, i));
    records[300] = detection(run, 300, { score: -1 });
    records[1200] = detection(run, 1200, { time: new Date('not a date') });
    for (const r of records) expect(w.push(r)).toBeUndefined();
    await w.flush();
    // Nothing else is pending: what flush acknowledged is in the table now.
    expect(await countIds(store, 'detections', records.map((r) => r.id))).toBe(1232);
    expect(w.stats).toMatchObject({ written: 1232, rejected: 2, held: 0, waiting: 0 });
    expect(rejections).toEqual([
      { id: eventId(run, 300), column: 'score' },
      { id: eventId(run, 1200), column: 'time' },
    ]);
    // A second flush with nothing new returns at once; pushing after close throws.
    await w.flush();
    await w.close();
    expect(() => w.push(detection(run, 5000))).toThrow(WriterClosedError);
  });

  it('writeMany: one promise for many rows, with the refused ones listed', async () => {
    const store = getStore();
    const run = `many-${randomBytes(4).toString('hex')}`;
    const w = createBatchWriter(store, detectionsTable, { logger, batchSize: 40, flushIntervalMs: 10 });
    const records = Array.from({ length: 100 }, (_, i) => detection(run, i));
    records[7] = detection(run, 7, { score: 3 });
    const result = await w.writeMany(records);
    expect(result.written).toBe(99);
    expect(result.rejections.map((r) => [r.id, r.column])).toEqual([[eventId(run, 7), 'score']]);
    expect(await countIds(store, 'detections', records.map((r) => r.id))).toBe(99);
    expect(await w.writeMany([])).toEqual({ written: 0, rejections: [] });
    await w.close();
  });
}

describe('batch writer, embedded', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://', logger });
    await migrate(store, { logger });
  });
  afterAll(async () => {
    await store?.close();
  });
  sharedWriterBehaviour(() => store);
});

/** Both server targets: plain PostgreSQL, and TimescaleDB (hypertables, COPY into chunks), when this machine has one. */
const SERVERS = [
  { label: 'PostgreSQL server', kind: 'postgres', adminUrl: testPostgresUrl() },
  { label: 'TimescaleDB server', kind: 'timescaledb', adminUrl: testTimescaleUrl() },
] as const;

for (const server of SERVERS) describe.skipIf(!server.adminUrl)(`batch writer, ${server.label}`, () => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await createTestDatabase('pw_store_writer', server.adminUrl!);
    store = await openStore({ databaseUrl: db.url, logger });
    await migrate(store, { logger });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it(`writes to a ${server.kind} target`, () => {
    expect(store.kind).toBe(server.kind);
  });
  sharedWriterBehaviour(() => store);

  it('bounds its buffer: waits for room, and says so when a caller ignores it', async () => {
    const run = `bp-${randomBytes(4).toString('hex')}`;
    // Hold the table so no flush can finish: the writer has to hold rows.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    const w = createBatchWriter(store, eventsTable, { logger, batchSize: 20, flushIntervalMs: 5, maxBuffered: 100, maxWaiting: 30 });
    const accepted: Array<Promise<unknown>> = [];
    let thrown: unknown = null;
    let maxHeld = 0;
    for (let i = 0; i < 1000; i++) {
      try {
        accepted.push(w.write(event(run, i)));
      } catch (err) {
        thrown = err;
        break;
      }
      maxHeld = Math.max(maxHeld, w.stats.held);
    }
    // 100 held + 30 waiting were taken; the 131st write is refused with a clear error.
    expect(thrown).toBeInstanceOf(BackpressureError);
    expect(accepted).toHaveLength(130);
    expect(maxHeld).toBe(100);
    expect(w.full).toBe(true);
    let roomSeen = false;
    const room = w.ready().then(() => (roomSeen = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(w.stats.held).toBe(100);
    expect(w.stats.waiting).toBe(30);
    expect(roomSeen).toBe(false);
    await locker.query('COMMIT');
    await locker.end();
    await room;
    await w.close();
    expect(w.stats.written).toBe(130);
    expect(await countIds(store, 'events', Array.from({ length: 130 }, (_, i) => eventId(run, i)))).toBe(130);
  });

  it('push and writeMany take the same bound: past it they throw BackpressureError and take nothing more', async () => {
    const run = `bp-push-${randomBytes(4).toString('hex')}`;
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    const w = createBatchWriter(store, eventsTable, { logger, batchSize: 20, flushIntervalMs: 5, maxBuffered: 100, maxWaiting: 30 });
    const many = w.writeMany(Array.from({ length: 120 }, (_, i) => event(run, i)));
    expect(w.stats).toMatchObject({ held: 100, waiting: 20 });
    // 11 more would pass the 30 waiting: refused as a whole.
    expect(() => w.writeMany(Array.from({ length: 11 }, (_, i) => event(run, 200 + i)))).toThrow(BackpressureError);
    expect(w.stats.waiting).toBe(20);
    for (let i = 0; i < 10; i++) w.push(event(run, 120 + i));
    expect(() => w.push(event(run, 999))).toThrow(BackpressureError);
    const flushed = w.flush();
    await locker.query('COMMIT');
    await locker.end();
    await flushed;
    expect(await many).toEqual({ written: 120, rejections: [] });
    expect(await countIds(store, 'events', Array.from({ length: 130 }, (_, i) => eventId(run, i)))).toBe(130);
    await w.close();
  });

  it('retries a failed flush with backoff and loses no row (database refusing connections)', async () => {
    const run = `outage-${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server.adminUrl! });
    await admin.connect();
    const outageStore = await openStore({ databaseUrl: db.url, logger, poolSize: 2 });
    try {
      const w = createBatchWriter(outageStore, eventsTable, { logger, batchSize: 50, flushIntervalMs: 10, retry: { initialMs: 20, maxMs: 100 } });
      expect((await w.write(event(run, 0))).ok).toBe(true);
      // Outage: no new connections, existing ones killed.
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [db.name]);
      const during = Array.from({ length: 120 }, (_, i) => w.write(event(run, i + 1)));
      await new Promise((r) => setTimeout(r, 600));
      expect(w.stats.retries).toBeGreaterThan(0);
      expect(w.stats.written).toBe(1);
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      expect((await Promise.all(during)).every((r) => r.ok)).toBe(true);
      await w.close();
      expect(await countIds(store, 'events', Array.from({ length: 121 }, (_, i) => eventId(run, i)))).toBe(121);
    } finally {
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      await admin.end();
      await outageStore.close();
    }
  });

  const child = fileURLToPath(new URL('./helpers/store-writer-child.ts', import.meta.url));

  /** Run the writer child until `enough` lines of `kind` were printed, then send `signal`; resolve with the ids and exit. */
  function runChild(mode: 'ack' | 'term', run: string, enough: number, signal: NodeJS.Signals) {
    return new Promise<{ ids: string[]; code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', child, mode, db.url, run], { stdio: ['ignore', 'pipe', 'pipe'] });
      const ids: string[] = [];
      let rest = '';
      let stderr = '';
      let sent = false;
      const prefix = mode === 'ack' ? 'ack ' : 'accepted ';
      proc.stderr.on('data', (d) => (stderr += d));
      proc.stdout.on('data', (d: Buffer) => {
        const lines = (rest + d.toString()).split('\n');
        rest = lines.pop() ?? ''; // only complete lines count
        for (const l of lines) if (l.startsWith(prefix)) ids.push(l.slice(prefix.length));
        if (!sent && ids.length >= enough) {
          sent = true;
          proc.kill(signal);
        }
      });
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`child did not reach ${enough} lines: ${stderr}`));
      }, 50_000);
      proc.on('exit', (code, sig) => {
        clearTimeout(timer);
        resolve({ ids, code, signal: sig, stderr });
      });
      proc.on('error', reject);
    });
  }

  it('loses no acknowledged row when the writer process is SIGKILLed mid-stream', async () => {
    const run = `kill-${randomBytes(4).toString('hex')}`;
    const { ids, signal } = await runChild('ack', run, 3000, 'SIGKILL');
    expect(signal).toBe('SIGKILL');
    expect(ids.length).toBeGreaterThanOrEqual(3000);
    expect(new Set(ids).size).toBe(ids.length);
    expect(await countIds(store, 'events', ids)).toBe(ids.length);
  });

  it('flushes everything accepted on SIGTERM before exiting', async () => {
    const run = `term-${randomBytes(4).toString('hex')}`;
    const { ids, code, stderr } = await runChild('term', run, 2300, 'SIGTERM');
    expect(code, stderr).toBe(0);
    // More accepted than fit in whole batches of 500: a partial batch was pending at the signal.
    expect(ids.length).toBeGreaterThanOrEqual(2300);
    expect(await countIds(store, 'events', ids)).toBe(ids.length);
    // Nothing beyond the accepted ids was written: the producer stopped at the first refused write.
    const all = (await store.query(`SELECT count(*) AS n FROM events WHERE camera = 'cam-crash' AND details->>'i' IS NOT NULL AND id = ANY($1::uuid[])`, [ids])).rows[0]!.n;
    expect(all).toBe(ids.length);
  });
});
