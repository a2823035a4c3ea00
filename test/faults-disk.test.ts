import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCameraWorker, waitFor, type WorkerProcess } from './helpers/camera-worker.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

/**
 * The snapshot folder's disk full under a running camera worker process: a
 * 64 kB tmpfs filled to the last byte before the worker starts. People walk
 * into vtest-cam's restricted zone (test/camera-worker.test.ts has the ground
 * truth): each event is still stored, without a snapshot, and each picture
 * that could not be written is logged with the event's id; nothing crashes.
 * Mounting a tmpfs needs root (CI and the test machines run as root).
 */
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) process.stderr.write('!!! faults-disk SKIPPED: mounting a small tmpfs for a full disk needs root\n');

describe.skipIf(!isRoot)('snapshot folder on a full disk', () => {
  let server: RtspServer;
  let db: TestDatabase;
  let worker: WorkerProcess;
  const mount = join(tmpdir(), `pw-fault-disk-${randomUUID().slice(0, 8)}`);

  beforeAll(async () => {
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    // Fill it: a write of any size now fails with ENOSPC.
    try {
      writeFileSync(join(mount, 'filler'), Buffer.alloc(1 << 20));
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOSPC') throw err;
    }
    server = await startRtspServer();
    db = await createTestDatabase('pw_fault_disk');
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await server?.stop();
    await db?.drop();
    try {
      execFileSync('umount', [mount]);
      rmdirSync(mount);
    } catch {
      // left for the machine's tmp cleaning
    }
  });

  it('stores every event without its snapshot and reports each picture not written', async () => {
    worker = startCameraWorker('disk-1', ['--site', 'test/fixtures/sites/vtest.yaml', '--snapshots', mount, '--health-every', '5', '--stats-every', '5'], {
      DATABASE_URL: db.url,
      VTEST_RTSP_URL: server.url('/vtest'),
      FROZEN_RTSP_URL: server.url('/frozen'),
      BLACK_RTSP_URL: server.url('/black'),
    });
    const detail = () => `worker log tail: ${JSON.stringify(worker.logs.slice(-8))} stderr: ${worker.stderr()}`;
    const connected = await waitFor('vtest-cam connected', () => worker.logs.find((l) => l.msg === 'camera stream connected' && l.camera === 'vtest-cam'), 40_000, detail);
    // Clip time 29 s: the three people of the ground truth are in the zone.
    await waitFor('29 s of footage', () => Date.now() > Date.parse(connected.time) + 32_000, 60_000);
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    let starts: Array<{ id: string; snapshot: string | null }>;
    try {
      starts = (await sql.query(`SELECT id, snapshot FROM events WHERE kind = 'unauthorized_access' AND phase = 'start' ORDER BY time`)).rows;
    } finally {
      await sql.end();
    }
    expect(worker.child.exitCode, detail()).toBeNull();
    expect(starts.length, detail()).toBe(3);
    expect(starts.every((s) => s.snapshot === null)).toBe(true);
    const notWritten = worker.logs.filter((l) => l.msg === 'snapshot not written; the event is kept without one');
    // Every start (and every other event with a picture: tripwire crossings, better pictures) is named.
    const named = new Set(notWritten.map((l) => l.event));
    expect(starts.filter((s) => !named.has(s.id))).toEqual([]);
    expect(JSON.stringify(notWritten[0])).toMatch(/ENOSPC/);
    // No half-written picture left behind (folders may have been made: they need no blocks).
    expect((readdirSync(mount, { recursive: true }) as string[]).filter((f) => /\.(jpg|tmp)$/.test(f))).toEqual([]);
  }, 150_000);
});
