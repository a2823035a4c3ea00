import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './helpers/cli.js';
import { MIGRATIONS } from '../pipeline/store/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';

/** `portwatch db ...` through the real CLI entry, as an operator runs it. */
function portwatch(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...env };
  if (env.DATABASE_URL === undefined) delete childEnv.DATABASE_URL;
  return runCli(args, childEnv);
}

describe('portwatch db, against PostgreSQL without TimescaleDB', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase('pw_store_cli');
    dir = mkdtempSync(join(tmpdir(), 'pw-store-cli-'));
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('migrate applies once, then reports nothing to do', async () => {
    const first = await portwatch(['db', 'migrate'], { DATABASE_URL: db.url });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^target: postgres \\(127\\.0\\.0\\.1:${new URL(db.url).port}/pw_store_cli_`, 'm'));
    expect(first.stdout).toMatch(/applied migration 1: initial schema/);
    expect(first.stdout).toMatch(/applied migration 2: berth occupancy per hour/);
    expect(first.stdout).toMatch(/settings: not applicable without TimescaleDB/);
    // The fallback warning goes to stderr as a JSON log line and says what is lost.
    expect(first.stderr).toMatch(/without TimescaleDB.*compression.*retention.*incremental aggregates/);
    const second = await portwatch(['db', 'migrate', '--json'], { DATABASE_URL: db.url });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ target: 'postgres', applied: [], settingsChanged: [] });
  });

  it('status prints the target, the missing TimescaleDB, tables, views and policies', async () => {
    const r = await portwatch(['db', 'status'], { DATABASE_URL: db.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^target: +postgres/m);
    expect(r.stdout).toMatch(/^timescaledb: +not installed \(fallback: /m);
    expect(r.stdout).toMatch(new RegExp(`migrations: +${MIGRATIONS.length} applied .*up to date`));
    expect(r.stdout).toMatch(/^ {2}events +plain table, BRIN index events_time_brin$/m);
    expect(r.stdout).toMatch(/^ {2}detections_hourly +view$/m);
    const json = JSON.parse((await portwatch(['db', 'status', '--json'], { DATABASE_URL: db.url })).stdout);
    expect(json.kind).toBe('postgres');
    expect(json.timescaledbVersion).toBeNull();
    expect(json.migrations.applied).toHaveLength(MIGRATIONS.length);
  });

  it('a bad settings file is one precise line and exit code 2', async () => {
    const file = join(dir, 'store.yaml');
    writeFileSync(file, 'store:\n  retain_for:\n    events: forever\n');
    const r = await portwatch(['db', 'migrate', '--settings', file], { DATABASE_URL: db.url });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(new RegExp(`^portwatch: ${file}: store\\.retain_for\\.events: .*interval`));
  });

  it('an unreachable server is one clear line and a non-zero exit', async () => {
    const r = await portwatch(['db', 'status'], { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/nowhere' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^portwatch: cannot reach the database at 127\.0\.0\.1:1\/nowhere: .*Check DATABASE_URL/m);
    expect(r.stderr).not.toMatch(/secret/);
  });

  it('has help for the group and each command', async () => {
    const r = await portwatch(['db', 'status', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: portwatch db status/);
    expect(r.stdout).toMatch(/DATABASE_URL/);
  });
});

describe('portwatch db, embedded', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-store-cli-embedded-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // One spawn only: creating a PGlite data directory is slow on a busy machine; the
  // embedded status output itself is covered in store-migrations.test.ts.
  it('migrates the embedded database in --data-dir, with the TimescaleDB settings applied', async () => {
    const dataDir = join(dir, 'pglite');
    const m = await portwatch(['db', 'migrate', '--data-dir', dataDir], { DATABASE_URL: undefined });
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^target: embedded \(.*pglite\)$/m);
    expect(m.stdout).toMatch(/applied migration 1: initial schema/);
    expect(m.stdout).toMatch(/applied migration 2: berth occupancy per hour/);
    expect(m.stdout).toMatch(/detections: chunk interval 7 days → 1 hour/);
    expect(m.stdout).toMatch(/events: retention none → after 5 years/);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
  });
});
