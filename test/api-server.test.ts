import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, createApiToken, revokeApiToken, queryBerthActivity, type Role } from '../pipeline/api/index.js';
import { startTestApi, type TestApi } from './helpers/api-server.js';

type Operation = {
  'x-roles': string[];
  parameters?: Array<{ in: 'query' | 'path' | 'header'; name: string; required?: boolean; schema: Record<string, any> }>;
  requestBody?: unknown;
};

let t: TestApi;
let spec: { paths: Record<string, Record<string, Operation>> };

/** A valid value for a parameter of the demo site, by name (and schema for ids). */
function validValue(name: string, schema: Record<string, any>): string {
  switch (name) {
    case 'from':
    case 'since':
    case 'before':
      return '2026-12-01T00:00:00Z';
    case 'to':
      return '2026-12-01T03:00:00Z';
    case 'mmsi':
      return '413000001';
    case 'n':
      return '0';
    case 'bucket':
      return '1h';
    case 'id':
      return schema.pattern?.includes('0-9a-fA-F]{8}') ? randomUUID() : 'D1';
    default:
      return 'x';
  }
}

function operations(): Array<{ method: string; path: string; op: Operation }> {
  const out: Array<{ method: string; path: string; op: Operation }> = [];
  for (const [path, methods] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(methods)) out.push({ method: method.toUpperCase(), path, op });
  return out;
}

/** The URL of an operation with every path and required query parameter valid (plus `extra`). */
function urlOf(path: string, op: Operation, extra: Record<string, string> = {}, pathOverride: Record<string, string> = {}): string {
  let url = path;
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(pathOverride[p.name] ?? validValue(p.name, p.schema)));
    if (p.in === 'query' && p.required && !(p.name in extra)) query.set(p.name, validValue(p.name, p.schema));
  }
  for (const [k, v] of Object.entries(extra)) query.set(k, v);
  // The live stream never ends on success: give it a filter it refuses, after the role check has passed.
  if (path === '/api/stream' && !('types' in extra)) query.set('types', 'nope');
  const qs = query.toString();
  return qs ? `${url}?${qs}` : url;
}

async function tableCounts(): Promise<Record<string, number>> {
  const tables = (await t.store.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows.map((r) => r.tablename as string);
  const out: Record<string, number> = {};
  for (const name of tables) out[name] = Number((await t.store.query(`SELECT count(*)::int AS n FROM ${name}`)).rows[0]!.n);
  return out;
}

beforeAll(async () => {
  t = await startTestApi();
  spec = JSON.parse((await t.api.app.inject({ url: '/openapi.json' })).body);
});
afterAll(async () => {
  await t?.close();
});

describe('API access', () => {
  it('documents roles on every operation, and the document comes from the validating schemas', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(25);
    for (const { op, path } of ops) {
      expect(op['x-roles'], path).toBeInstanceOf(Array);
      expect(op['x-roles'].length, path).toBeGreaterThan(0);
    }
    const activity = spec.paths['/api/berths/{id}/activity']!.get!;
    expect(activity.parameters!.find((p) => p.name === 'bucket')!.schema.enum).toEqual(['1h', '3h', '6h', '12h', '1d', '7d']);
  });

  it('refuses every operation without a token (401) and with a wrong role (403), and lets the declared roles through', async () => {
    let checked = 0;
    for (const { method, path, op } of operations()) {
      const roles = op['x-roles'];
      const url = urlOf(path, op);
      const payload = method === 'GET' || method === 'DELETE' ? undefined : {};
      const anonymous = await t.api.app.inject({ method: method as any, url, ...(payload ? { payload } : {}) });
      if (roles.includes('public')) expect([401, 403], `${method} ${path} anonymous`).not.toContain(anonymous.statusCode);
      else {
        expect(anonymous.statusCode, `${method} ${path} anonymous`).toBe(401);
        expect(JSON.parse(anonymous.body).error).toBe('unauthorized');
      }
      for (const role of ROLES) {
        const res = await t.api.app.inject({ method: method as any, url, headers: { authorization: `Bearer ${t.tokens[role]}` }, ...(payload ? { payload } : {}) });
        if (roles.includes(role) || roles.includes('public')) expect([401, 403], `${method} ${path} as ${role}: ${res.body}`).not.toContain(res.statusCode);
        else {
          expect(res.statusCode, `${method} ${path} as ${role}`).toBe(403);
          expect(JSON.parse(res.body)).toMatchObject({ error: 'forbidden' });
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('refuses unknown, malformed, revoked and expired tokens', async () => {
    const url = '/api/me';
    const status = async (authorization: string) => (await t.api.app.inject({ url, headers: { authorization } })).statusCode;
    expect(await status(`Bearer ${t.tokens.analyst}`)).toBe(200);
    expect(await status('Bearer pw_notatoken')).toBe(401);
    expect(await status(t.tokens.analyst)).toBe(401);
    expect(await status(`Basic ${t.tokens.analyst}`)).toBe(401);
    const { token, info } = await createApiToken(t.store, { role: 'operator', name: 'short-lived', expiresAt: new Date(Date.now() + 60_000) });
    expect(await status(`Bearer ${token}`)).toBe(200);
    expect(await revokeApiToken(t.store, info.tokenId)).toBe(1);
    expect(await status(`Bearer ${token}`)).toBe(401);
    const expiring = await createApiToken(t.store, { role: 'operator', name: 'expiring', expiresAt: new Date(Date.now() + 1000), now: new Date(Date.now() - 5000) });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await status(`Bearer ${expiring.token}`)).toBe(401);
    // Only the hash is stored.
    const stored = (await t.store.query('SELECT hash FROM api_tokens')).rows.map((r) => r.hash as string);
    expect(stored.some((h) => h.includes(t.tokens.analyst) || t.tokens.analyst.includes(h))).toBe(false);
    expect(stored.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });
});

describe('API input', () => {
  const INJECTIONS = ["x' OR '1'='1", "1; DROP TABLE alerts;--", "1 hour'); DROP TABLE events;--", '../../etc/passwd'];

  it('answers 400 naming the parameter for bad input and injection attempts in every parameter of every operation, and the tables stay intact', async () => {
    await t.store.query(
      `INSERT INTO alerts (id, rule, kind, severity, priority, active, first_at, last_at, created_at, updated_at) VALUES ($1, 'r', 'loitering', 'low', 4, true, now(), now(), now(), now())`,
      [randomUUID()],
    );
    const before = await tableCounts();
    expect(before.alerts).toBe(1);
    let checked = 0;
    for (const { method, path, op } of operations()) {
      const role = (op['x-roles'].find((r) => r !== 'public') ?? 'admin') as Role;
      for (const p of op.parameters ?? []) {
        if (p.in === 'header') continue;
        for (const bad of INJECTIONS) {
          const url = p.in === 'path' ? urlOf(path, op, {}, { [p.name]: bad }) : urlOf(path, op, { [p.name]: bad });
          const res = await t.api.app.inject({ method: method as any, url, headers: { authorization: `Bearer ${t.tokens[role]}` }, ...(method === 'POST' ? { payload: {} } : {}) });
          const part = p.in === 'path' ? 'params' : 'query';
          expect(res.statusCode, `${method} ${path} ${p.name}=${bad}: ${res.body}`).toBe(400);
          const body = JSON.parse(res.body);
          expect(body.error).toBe('bad_request');
          expect(body.field, `${method} ${path} ${p.name}`).toBe(`${part}.${p.name}`);
          expect(body.message).toContain(`${part}.${p.name}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(150);
    expect(await tableCounts()).toEqual(before);
  });

  it('says what is wrong with a range and a bucket', async () => {
    const get = async (url: string) => {
      const r = await t.api.app.inject({ url, headers: { authorization: `Bearer ${t.tokens.analyst}` } });
      return { status: r.statusCode, body: JSON.parse(r.body) };
    };
    const backwards = await get('/api/berths/D1/activity?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z');
    expect(backwards).toMatchObject({ status: 400, body: { field: 'query.to', message: 'query.to: to must be after from' } });
    const noZone = await get('/api/berths/D1/activity?from=2026-12-01T00:00&to=2026-12-02T00:00:00Z');
    expect(noZone.status).toBe(400);
    expect(noZone.body.field).toBe('query.from');
    const bucket = await get('/api/berths/D1/activity?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z&bucket=90m');
    expect(bucket.body).toMatchObject({ field: 'query.bucket' });
    expect(bucket.body.message).toContain('1h, 3h, 6h, 12h, 1d, 7d');
    const unknown = await get('/api/berths/D1/activity?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z&colour=red');
    expect(unknown.status).toBe(400);
    const tooMany = await get('/api/berths/D1/activity?from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z&bucket=1h');
    expect(tooMany).toMatchObject({ status: 400, body: { field: 'query.bucket' } });
    const noBerth = await get('/api/berths/Z9/activity?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z');
    expect(noBerth).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });
});

describe('enterprise isolation', () => {
  it('shows a company its own calls and inspections, and nothing of another company', async () => {
    const mine = randomUUID();
    const theirs = randomUUID();
    const insert = (id: string, company: string, mmsi: number, state: string) =>
      t.store.query(
        `INSERT INTO inspections (id, created_at, target_kind, target, mmsi, company, state, result, outcome, updated_at, completed_at)
         VALUES ($1, now(), 'vessel', $2, $3, $4, $5, $6, $7, now(), $8)`,
        [id, String(mmsi), mmsi, company, state, state === 'completed' ? 'fail' : null, state === 'completed' ? 'held' : null, state === 'completed' ? new Date() : null],
      );
    await insert(mine, 'ACME', 413000001, 'completed');
    await insert(theirs, 'OTHERCO', 413000002, 'completed');
    for (const [company, mmsi, name] of [['ACME', 413000001, 'HAI XING'], ['OTHERCO', 413000002, 'SEA STAR']] as const) {
      await t.store.query(`INSERT INTO vessel_calls (id, declared_at, mmsi, name, eta, company) VALUES ($1, now(), $2, $3, now(), $4)`, [randomUUID(), mmsi, name, company]);
    }
    const as = (url: string, token = t.tokens.enterprise) => t.api.app.inject({ url, headers: { authorization: `Bearer ${token}` } });

    const calls = JSON.parse((await as('/api/enterprise/calls')).body).calls;
    expect(calls.map((c: { name: string }) => c.name)).toEqual(['HAI XING']);
    const list = JSON.parse((await as('/api/enterprise/inspections')).body).inspections;
    expect(list.map((i: { id: string }) => i.id)).toEqual([mine]);
    expect(list[0]).toMatchObject({ result: 'fail', outcome: 'held' });
    expect((await as(`/api/enterprise/inspections/${mine}`)).statusCode).toBe(200);
    const other = await as(`/api/enterprise/inspections/${theirs}`);
    expect(other.statusCode).toBe(404);
    expect(other.body).not.toContain('OTHERCO');

    // The other company's token sees the mirror image.
    const otherToken = (await createApiToken(t.store, { role: 'enterprise', name: 'other', company: 'OTHERCO' })).token;
    expect(JSON.parse((await as('/api/enterprise/inspections', otherToken)).body).inspections.map((i: { id: string }) => i.id)).toEqual([theirs]);
    expect((await as(`/api/enterprise/inspections/${mine}`, otherToken)).statusCode).toBe(404);
  });
});

describe('berth activity', () => {
  it('buckets arrivals, occupancy, dwell, detections and alerts, gap-filled, the same from the aggregates and the raw tables, as JSON and CSV', async () => {
    const h = (n: number) => new Date(Date.UTC(2026, 10, 3, n));
    // HAI XING at D1 from 01:00 to 03:30, one fix a minute, moored.
    const rows: unknown[][] = [];
    for (let m = 60; m <= 210; m++) rows.push([randomUUID(), new Date(h(0).getTime() + m * 60_000), 413000001, 24.4512, 118.032, 0.1, 3, 'D1']);
    await t.store.insertRows('ais_positions', ['id', 'time', 'mmsi', 'lat', 'lon', 'speed', 'msg_type', 'berth'], rows);
    await t.store.query(`INSERT INTO vessels (mmsi, name, first_seen, last_seen) VALUES (413000001, 'HAI XING', $1, $2) ON CONFLICT (mmsi) DO NOTHING`, [h(1), h(4)]);
    await t.store.insertRows('events', ['id', 'time', 'kind', 'phase', 'berth', 'mmsi'], [
      [randomUUID(), h(1), 'berth_arrival', 'instant', 'D1', 413000001],
      [randomUUID(), new Date(h(3).getTime() + 30 * 60_000), 'berth_departure', 'instant', 'D1', 413000001],
    ]);
    await t.store.query(`INSERT INTO berth_visits (id, berth, mmsi, arrived_at, departed_at) VALUES ($1, 'D1', 413000001, $2, $3)`, [randomUUID(), h(1), new Date(h(3).getTime() + 30 * 60_000)]);
    await t.store.insertRows('detections', ['id', 'time', 'camera', 'class', 'score', 'bbox'], [
      [randomUUID(), new Date(h(2).getTime() + 60_000), 'dock-001', 'person', 0.9, [1, 2, 3, 4]],
      [randomUUID(), new Date(h(2).getTime() + 120_000), 'dock-001', 'person', 0.8, [1, 2, 3, 4]],
      [randomUUID(), new Date(h(2).getTime() + 180_000), 'dock-001', 'truck', 0.7, [1, 2, 3, 4]],
      // Not a camera of D1: never counted for it.
      [randomUUID(), new Date(h(2).getTime() + 180_000), 'yard-001', 'truck', 0.7, [1, 2, 3, 4]],
    ]);
    await t.store.query(
      `INSERT INTO alerts (id, rule, kind, severity, priority, active, berth, first_at, last_at, created_at, updated_at) VALUES ($1, 'r', 'ais_dark', 'high', 2, false, 'D1', $2, $2, $2, $2)`,
      [randomUUID(), new Date(h(2).getTime() + 600_000)],
    );

    const res = await t.api.app.inject({ url: '/api/berths/D1/activity?from=2026-11-03T00:00:00Z&to=2026-11-03T05:00:00Z&bucket=1h', headers: { authorization: `Bearer ${t.tokens.analyst}` } });
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body);
    expect(body.rows.map((r: { bucket: string }) => r.bucket)).toEqual([0, 1, 2, 3, 4].map((n) => h(n).toISOString()));
    const [b0, b1, b2, b3, b4] = body.rows;
    expect(b0).toMatchObject({ vessels: 0, arrivals: 0, occupancy: 0, detections: 0, alerts: 0, mean_dwell_hours: null });
    expect(b1).toMatchObject({ vessels: 1, vessels_moored: 1, arrivals: 1, departures: 0, occupancy: 1 });
    expect(b2).toMatchObject({ vessels: 1, occupancy: 1, detections: 3, detections_by_class: { person: 2, truck: 1 }, alerts: 1 });
    expect(b3).toMatchObject({ vessels: 1, departures: 1, mean_dwell_hours: 2.5, vessel_hours: 0.5, occupancy: 0.5 });
    expect(b4).toMatchObject({ vessels: 0, occupancy: 0 });

    const q = { berth: 'D1', from: h(0), to: h(5), bucket: '1h' as const, cameras: ['dock-001'] };
    expect(await queryBerthActivity(t.store, t.store.capabilities, { ...q, source: 'raw' })).toEqual(body.rows);
    const daily = await queryBerthActivity(t.store, t.store.capabilities, { ...q, bucket: '1d' });
    expect(daily).toHaveLength(1);
    expect(daily[0]).toMatchObject({ vessels: 1, arrivals: 1, departures: 1, detections: 3, vessel_hours: 2.5 });

    const csv = await t.api.app.inject({ url: '/api/berths/D1/activity?from=2026-11-03T00:00:00Z&to=2026-11-03T05:00:00Z&bucket=1h&format=csv', headers: { authorization: `Bearer ${t.tokens.analyst}` } });
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('bucket,vessels,vessels_moored,vessel_hours,occupancy,arrivals,departures,mean_dwell_hours,camera_events,alerts,detections,detections_by_class');
    expect(lines).toHaveLength(6);
    expect(lines[3]).toBe(`${h(2).toISOString()},1,1,1,1,0,0,,0,1,3,person=2;truck=1`);
  });
});
