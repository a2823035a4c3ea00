import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Each CLI run is a whole process (tsx, store, migrations): seconds each on a loaded machine.
const CLI_TIMEOUT = 240_000;
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { runCli } from './helpers/cli.js';
import { startTestApi, type TestApi } from './helpers/api-server.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';

let db: TestDatabase;
let store: Store;
let t: TestApi;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  db = await createTestDatabase('api_cli');
  store = await openStore({ databaseUrl: db.url, logger: silentLogger() });
  await migrate(store, { logger: silentLogger() });
  t = await startTestApi({ store });
  env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, LOG_LEVEL: 'error' };
});
afterAll(async () => {
  await t?.close();
  await store?.close();
  await db?.drop();
});

describe('portwatch token and query', () => {
  it('creates a token shown once, lists it without the secret, and revokes it (the API follows)', async () => {
    const created = await runCli(['token', 'create', '--role', 'analyst', '--name', 'desk-7', '--expires', '30d', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const { token, id } = JSON.parse(created.stdout);
    expect(token).toMatch(/^pw_[A-Za-z0-9_-]{43}$/);
    const me = await t.api.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    expect(JSON.parse(me.body)).toMatchObject({ role: 'analyst', name: 'desk-7' });

    const list = await runCli(['token', 'list'], env);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain('desk-7');
    expect(list.stdout).not.toContain(token);

    const revoked = await runCli(['token', 'revoke', 'desk-7'], env);
    expect(revoked.stdout).toContain('revoked 1 token');
    expect((await t.api.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
    expect((await runCli(['token', 'list'], env)).stdout).toMatch(/desk-7.*revoked/);
  }, CLI_TIMEOUT);

  it('refuses bad token options with the reason', async () => {
    const noCompany = await runCli(['token', 'create', '--role', 'enterprise'], env);
    expect(noCompany.code).toBe(2);
    expect(noCompany.stderr).toContain('--company');
    const badRole = await runCli(['token', 'create', '--role', 'root'], env);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('admin, operator, analyst, inspector, enterprise');
    const badExpiry = await runCli(['token', 'create', '--role', 'admin', '--expires', 'soon'], env);
    expect(badExpiry.code).toBe(2);
    expect(badExpiry.stderr).toContain('--expires');
    expect((await runCli(['token', 'revoke', 'nobody'], env)).code).toBe(1);
  }, CLI_TIMEOUT);

  it('query berth-activity gives the API answer, JSON and CSV, on plain PostgreSQL', async () => {
    const h = (n: number) => new Date(Date.UTC(2026, 10, 5, n));
    const rows: unknown[][] = [];
    for (let m = 30; m <= 400; m += 2) rows.push([randomUUID(), new Date(h(0).getTime() + m * 60_000), 413000001, 24.4512, 118.032, m < 200 ? 0.2 : 3, 3, 'D1']);
    await store.insertRows('ais_positions', ['id', 'time', 'mmsi', 'lat', 'lon', 'speed', 'msg_type', 'berth'], rows);
    await store.insertRows('events', ['id', 'time', 'kind', 'phase', 'berth', 'mmsi'], [[randomUUID(), h(0), 'berth_arrival', 'instant', 'D1', 413000001]]);
    await store.insertRows('detections', ['id', 'time', 'camera', 'class', 'score', 'bbox'], [[randomUUID(), h(2), 'dock-001', 'person', 0.9, [1, 2, 3, 4]]]);
    const range = ['--berth', 'D1', '--from', '2026-11-05T00:00:00Z', '--to', '2026-11-05T08:00:00Z', '--bucket', '3h', '--site', 'config/site.demo.yaml'];
    const api = await t.api.app.inject({ url: '/api/berths/D1/activity?from=2026-11-05T00:00:00Z&to=2026-11-05T08:00:00Z&bucket=3h', headers: { authorization: `Bearer ${t.tokens.analyst}` } });
    expect(api.statusCode).toBe(200);
    const json = await runCli(['query', 'berth-activity', ...range], env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(api.body));
    const body = JSON.parse(api.body);
    expect(body.rows).toHaveLength(3);
    expect(body.rows[0]).toMatchObject({ arrivals: 1, vessels: 1, vessels_moored: 1, detections: 1 });

    const apiCsv = await t.api.app.inject({ url: '/api/berths/D1/activity?from=2026-11-05T00:00:00Z&to=2026-11-05T08:00:00Z&bucket=3h&format=csv', headers: { authorization: `Bearer ${t.tokens.analyst}` } });
    const csv = await runCli(['query', 'berth-activity', ...range, '--format', 'csv'], env);
    expect(csv.stdout).toBe(apiCsv.body);

    const bad = await runCli(['query', 'berth-activity', ...range.slice(0, 4), '--to', '2026-11-05', '--site', 'config/site.demo.yaml'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--to');
  }, CLI_TIMEOUT);
});

describe('portwatch token on the embedded store after the workers set its policies', () => {
  it("creates a token without resetting the site's retention to the defaults", async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'pw-token-embedded-'));
    try {
      const retention = async (s: Store) =>
        (await s.query(`SELECT config->>'drop_after' AS d FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'events'`)).rows[0]?.d;
      let store = await openStore({ dataDir: dir, logger: silentLogger() });
      await migrate(store, { logger: silentLogger(), settings: { retain_for: { events: '45 days' } } });
      expect(await retention(store)).toBe('45 days');
      await store.close();

      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
      const r = await runCli(['token', 'create', '--role', 'analyst', '--data-dir', dir, '--json'], env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).role).toBe('analyst');

      store = await openStore({ dataDir: dir, logger: silentLogger() });
      expect(await retention(store)).toBe('45 days');
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
