import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/api-server.js';

let t: TestApi;
let base: string;

beforeAll(async () => {
  t = await startTestApi({ photoLimit: 64 * 1024 });
  await t.api.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = t.api.app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await t?.close();
});

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

describe('operators act on alerts', () => {
  it('acknowledge, shelve and resolve: state and history change, each change is announced on the board, refusals say why', async () => {
    const id = randomUUID();
    await t.store.query(
      `INSERT INTO alerts (id, rule, kind, severity, priority, active, camera, zone, first_at, last_at, created_at, updated_at, procedure)
       VALUES ($1, 'quay-intrusion', 'unauthorized_access', 'high', 2, true, 'dock-001', 'quay-edge', now(), now(), now(), now(), '["call the quay supervisor"]')`,
      [id],
    );
    const before = await t.board.lastId();
    const ack = await call('POST', `/api/alerts/${id}/ack`, t.tokens.operator, { comment: 'seen on camera' });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ id, state: 'acknowledged', acknowledged_by: 'test operator', procedure: ['call the quay supervisor'] });

    const tooLong = await call('POST', `/api/alerts/${id}/shelve`, t.tokens.operator, { minutes: 100_000, reason: 'maintenance' });
    expect(tooLong).toMatchObject({ status: 400, body: { field: 'body.minutes' } });
    const noReason = await call('POST', `/api/alerts/${id}/shelve`, t.tokens.operator, { minutes: 30 });
    expect(noReason).toMatchObject({ status: 400, body: { field: 'body.reason' } });
    const shelved = await call('POST', `/api/alerts/${id}/shelve`, t.tokens.operator, { minutes: 30, reason: 'crane maintenance' });
    expect(shelved.body).toMatchObject({ shelved: true, shelved_reason: 'crane maintenance' });

    const resolved = await call('POST', `/api/alerts/${id}/resolve`, t.tokens.operator, { comment: 'worker escorted off', false_alarm: false });
    expect(resolved.body.state).toBe('resolved');
    const again = await call('POST', `/api/alerts/${id}/ack`, t.tokens.operator, {});
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('resolved');
    expect((await call('POST', `/api/alerts/${id}/ack`, t.tokens.analyst, {})).status).toBe(403);
    expect((await call('POST', `/api/alerts/${randomUUID()}/ack`, t.tokens.operator, {})).status).toBe(404);

    const detail = await call('GET', `/api/alerts/${id}`, t.tokens.analyst);
    expect(detail.body.history.map((h: { action: string }) => h.action)).toEqual(['acknowledged', 'shelved', 'resolved']);
    expect(detail.body.history[0]).toMatchObject({ by: 'test operator', comment: 'seen on camera' });
    const listed = await call('GET', '/api/alerts?state=resolved&camera=dock-001', t.tokens.operator);
    expect(listed.body.alerts.map((a: { id: string }) => a.id)).toEqual([id]);
    expect((await call('GET', '/api/alerts?state=open', t.tokens.operator)).body.alerts.map((a: { id: string }) => a.id)).not.toContain(id);

    const announced = (await t.board.read(before)).messages;
    expect(announced.map((m) => [m.type, (m.data as { state: string }).state])).toEqual([
      ['alert', 'acknowledged'],
      ['alert', 'acknowledged'],
      ['alert', 'resolved'],
    ]);
  });
});

describe('inspectors', () => {
  const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);
  const insert = (id: string, inspector: string) =>
    t.store.query(
      `INSERT INTO inspections (id, created_at, target_kind, target, mmsi, state, inspector, assigned_at, updated_at) VALUES ($1, now(), 'vessel', '413000001', 413000001, 'assigned', $2, now(), now())`,
      [id, inspector],
    );
  const result = (id: string, parts: Array<[string, string | Blob, string?]>, token = t.tokens.inspector) => {
    const form = new FormData();
    for (const [k, v, name] of parts) typeof v === 'string' ? form.append(k, v) : form.append(k, v, name);
    return fetch(`${base}/api/inspector/jobs/${id}/result`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  };

  it('see and take only their own jobs, and record a result with photos checked by type and size and stored by content hash', async () => {
    const mine = randomUUID();
    const theirs = randomUUID();
    await insert(mine, 'insp-01');
    await insert(theirs, 'insp-02');
    const jobs = await call('GET', '/api/inspector/jobs', t.tokens.inspector);
    expect(jobs.body.inspections.map((i: { id: string }) => i.id)).toEqual([mine]);
    expect((await call('POST', `/api/inspector/jobs/${theirs}/ack`, t.tokens.inspector)).status).toBe(404);
    expect((await call('POST', `/api/inspector/jobs/${mine}/ack`, t.tokens.inspector)).body.state).toBe('acknowledged');

    const notImage = await result(mine, [['result', 'fail'], ['photos', new Blob(['#!/bin/sh\nrm -rf /\n']), 'evil.jpg']]);
    expect(notImage.status).toBe(400);
    expect(await notImage.json()).toMatchObject({ field: 'body.photos' });
    const tooBig = await result(mine, [['result', 'fail'], ['photos', new Blob([Buffer.concat([JPEG, Buffer.alloc(70 * 1024)])]), 'big.jpg']]);
    expect(tooBig.status).toBe(413);
    const badResult = await result(mine, [['result', 'maybe']]);
    expect(await badResult.json()).toMatchObject({ field: 'body.result' });
    const badFindings = await result(mine, [['result', 'fail'], ['findings', '[{"text": ""}]']]);
    expect(await badFindings.json()).toMatchObject({ field: 'body.findings.0.text' });

    const ok = await result(mine, [['result', 'fail'], ['findings', '[{"code":"H2","text":"rodent droppings in hold 2"}]'], ['photos', new Blob([JPEG]), 'hold2.jpg'], ['photos', new Blob([JPEG]), 'again.jpg']]);
    expect(ok.status).toBe(200);
    const done = (await ok.json()) as { photos: string[] };
    expect(done).toMatchObject({ state: 'completed', result: 'fail', outcome: 'held', findings: [{ code: 'H2', text: 'rodent droppings in hold 2' }] });
    expect(done.photos).toEqual([`/api/inspections/${mine}/photos/0`, `/api/inspections/${mine}/photos/1`]);
    const hash = createHash('sha256').update(JPEG).digest('hex');
    const file = join(t.dataDir, 'photos', hash.slice(0, 2), `${hash}.jpg`);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file).equals(JPEG)).toBe(true);
    const photo = await fetch(`${base}${done.photos[0]}`, { headers: { authorization: `Bearer ${t.tokens.operator}` } });
    expect(photo.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await photo.arrayBuffer()).equals(JPEG)).toBe(true);
    expect((await fetch(`${base}${done.photos[0]}`, { headers: { authorization: `Bearer ${t.tokens.enterprise}` } })).status).toBe(403);
  });
});
