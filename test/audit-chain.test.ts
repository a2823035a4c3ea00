import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { appendAudit, AuditTrail, canonicalJson, listAudit, verifyAuditChain } from '../pipeline/audit/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { testPostgresUrl } from './helpers/services.js';
import { runCli } from './helpers/cli.js';

describe('canonical JSON', () => {
  it('sorts keys at every depth, drops undefined members, refuses what JSON cannot say', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true }, u: undefined })).toBe('{"a":{"c":true,"d":[1,"x",null]},"b":1}');
    expect(canonicalJson(new Date('2026-12-06T01:02:03.004Z'))).toBe('"2026-12-06T01:02:03.004Z"');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/\$\.a/);
    expect(() => canonicalJson({ a: [1n] })).toThrow(/bigint/);
  });
});

async function tamper(store: Store, sql: string, params: unknown[] = []) {
  // Whoever owns the table can switch the append-only trigger off: the chain must still tell.
  await store.transaction(async (tx) => {
    await tx.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
    await tx.query(sql, params);
    await tx.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
  });
}

describe('audit trail on the embedded store', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://', logger: silentLogger() });
    await migrate(store, { logger: silentLogger() });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('chains concurrent appends through one writer, in order, and verifies', async () => {
    const trail = new AuditTrail(store);
    const stored = await Promise.all(Array.from({ length: 40 }, (_, i) => trail.append({ kind: 'test.entry', actor: 'tester', subject: `s${i % 3}`, payload: { i, nested: { z: 1, a: [i] } } })));
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.prevHash).toBe(stored[i - 1]!.hash);
    await appendAudit(store, [{ kind: 'test.more', actor: 'x' }, { kind: 'test.more', actor: 'y', payload: { f: 0.1 + 0.2 } }]);
    const v = await verifyAuditChain(store, { pageSize: 7 });
    expect(v).toMatchObject({ ok: true, entries: 42, problems: [] });
    expect(v.head?.seq).toBe(42);
    expect((await listAudit(store, { subject: 's1' })).map((e) => e.payload.i)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 34, 37]);
  });

  it('refuses a bad kind and an actor-less entry without touching the chain', async () => {
    await expect(appendAudit(store, { kind: 'Bad Kind', actor: 'x' })).rejects.toThrow(/dotted lower-case/);
    await expect(appendAudit(store, { kind: 'ok.kind', actor: '' })).rejects.toThrow(/actor/);
    expect((await verifyAuditChain(store)).entries).toBe(42);
  });

  it('refuses UPDATE, DELETE and TRUNCATE through the trigger', async () => {
    await expect(store.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`)).rejects.toThrow(/append-only/);
    await expect(store.query(`DELETE FROM audit_log WHERE seq = 3`)).rejects.toThrow(/append-only/);
    await expect(store.exec(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
  });

  it('names an edited entry, then passes again when it is restored', async () => {
    const before = (await store.query(`SELECT payload FROM audit_log WHERE seq = 17`)).rows[0]!.payload;
    await tamper(store, `UPDATE audit_log SET payload = jsonb_set(payload, '{i}', '999') WHERE seq = 17`);
    const v = await verifyAuditChain(store);
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatchObject({ kind: 'edited', seq: 17 });
    expect(v.problems).toHaveLength(1);
    await tamper(store, `UPDATE audit_log SET payload = $1::jsonb WHERE seq = 17`, [JSON.stringify(before)]);
    expect((await verifyAuditChain(store)).ok).toBe(true);
  });

  it('names the entry after a deleted one', async () => {
    const row = (await store.query(`SELECT * FROM audit_log WHERE seq = 9`)).rows[0]!;
    await tamper(store, `DELETE FROM audit_log WHERE seq = 9`);
    const v = await verifyAuditChain(store);
    expect(v.problems[0]).toMatchObject({ kind: 'deleted', seq: 10 });
    expect(v.problems[0]!.message).toMatch(/before entry 10/);
    // Deleted and renumbered so no seq gap shows: the chain still tells.
    await tamper(store, `UPDATE audit_log SET seq = seq + 999999 WHERE seq > 9`);
    await tamper(store, `UPDATE audit_log SET seq = seq - 1000000 WHERE seq > 1000000`);
    expect((await verifyAuditChain(store)).problems[0]).toMatchObject({ kind: 'deleted', seq: 9 });
    await tamper(store, `UPDATE audit_log SET seq = seq + 1000001 WHERE seq >= 9`);
    await tamper(store, `UPDATE audit_log SET seq = seq - 1000000 WHERE seq > 1000000`);
    await tamper(store, `INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, $1::jsonb)`, [JSON.stringify(row)]);
    expect((await verifyAuditChain(store)).ok).toBe(true);
  });

  it('names the first of two swapped entries', async () => {
    const swap = () => tamper(store, `UPDATE audit_log SET seq = CASE seq WHEN 21 THEN 1000022 ELSE 1000021 END WHERE seq IN (21, 22)`).then(() =>
      tamper(store, `UPDATE audit_log SET seq = seq - 1000000 WHERE seq > 1000000`));
    await swap();
    const v = await verifyAuditChain(store);
    expect(v.problems[0]).toMatchObject({ kind: 'reordered', seq: 21 });
    expect(v.problems[0]!.message).toMatch(/follows entry 22, not entry 20/);
    await swap();
    expect((await verifyAuditChain(store)).ok).toBe(true);
  });
});

describe('audit trail on the PostgreSQL server', () => {
  let db: TestDatabase;
  let store: Store;
  const login = `pw_app_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    db = await createTestDatabase('pw_audit');
    store = await openStore({ databaseUrl: db.url, logger: silentLogger(), poolSize: 2 });
    await migrate(store, { logger: silentLogger() });
    // The application's login role, as an operator creates it: a member of portwatch_app
    // (pg_read_all_settings: the store reads shared_preload_libraries when it opens).
    await store.query(`CREATE ROLE ${login} LOGIN IN ROLE portwatch_app, pg_read_all_settings`);
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
    const admin = new pg.Client({ connectionString: testPostgresUrl() });
    await admin.connect();
    try {
      await admin.query(`DROP ROLE IF EXISTS ${login}`);
    } finally {
      await admin.end();
    }
  });

  it("lets the application's role append and read but not UPDATE, DELETE or TRUNCATE", async () => {
    const url = new URL(db.url);
    url.username = login;
    const app = await openStore({ databaseUrl: url.toString(), logger: silentLogger(), poolSize: 1 });
    try {
      const [e] = await appendAudit(app, { kind: 'inspection.assigned', actor: 'dispatch', subject: 'i-1', payload: { inspector: 'insp-1' } });
      expect(e!.seq).toBe(1);
      // Bypass the trigger to show the grant alone refuses (as the owner disabling the trigger could not for this role).
      await store.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
      try {
        await expect(app.query(`UPDATE audit_log SET actor = 'x'`)).rejects.toMatchObject({ code: '42501' });
        await expect(app.query(`DELETE FROM audit_log`)).rejects.toMatchObject({ code: '42501' });
        await expect(app.query(`TRUNCATE audit_log`)).rejects.toMatchObject({ code: '42501' });
        // The same role may still change the tables that are not the audit trail.
        await app.query(`INSERT INTO draws (id, kind, opened_at, seed_sha256) VALUES (gen_random_uuid(), 'target', now(), 'x')`);
        expect((await app.query(`DELETE FROM draws`)).rowCount).toBe(1);
      } finally {
        await store.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
      }
    } finally {
      await app.close();
    }
  });

  it('single appends from concurrent connections (one statement each, hashed by the database) form one chain', async () => {
    const before = (await verifyAuditChain(store)).entries;
    const other = await openStore({ databaseUrl: db.url, logger: silentLogger(), poolSize: 4 });
    try {
      const made = await Promise.all(
        Array.from({ length: 60 }, (_, i) => appendAudit(i % 2 ? store : other, { kind: 'test.concurrent', actor: 'w', subject: `ü-${i}`, payload: { i, text: 'Ωmega “quoted” \\ \n 港口', n: 1.5e-7 } })),
      );
      const seqs = made.map(([e]) => e!.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => before + i + 1));
      const v = await verifyAuditChain(store);
      expect(v).toMatchObject({ ok: true, entries: before + 60 });
    } finally {
      await other.close();
    }
  });

  it('portwatch audit verify: exit 0 on an intact chain, 1 naming the edited entry', async () => {
    await appendAudit(store, Array.from({ length: 5 }, (_, i) => ({ kind: 'test.entry', actor: 'tester', payload: { i } })));
    const env = { PATH: process.env.PATH, DATABASE_URL: db.url, LOG_LEVEL: 'silent' };
    const ok = await runCli(['audit', 'verify'], env);
    expect(ok.stdout).toMatch(/audit trail intact: 66 entries, head 66 [0-9a-f]{64}/);
    expect(ok.code).toBe(0);
    await tamper(store, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 64`);
    const bad = await runCli(['audit', 'verify'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/broken at entry 64: entry 64 \(test\.entry\) was edited/);
  });
});
