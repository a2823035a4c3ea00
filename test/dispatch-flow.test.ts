import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { checkSiteConfigText, type SiteConfig } from '../pipeline/config/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { loadRiskModel, riskHistory } from '../pipeline/risk/index.js';
import { storeDeclaration, declarationSchema } from '../pipeline/declarations/index.js';
import { BoardStream } from '../pipeline/board/index.js';
import {
  ALERT_DISPATCH_QUEUE,
  acknowledgeInspection,
  recordInspectionResult,
  getInspection,
  listInspections,
  publicInspections,
  runPeriodDraw,
  startDispatchService,
  verifyDraw,
  type DispatchService,
  type Inspection,
} from '../pipeline/dispatch/index.js';
import { listAudit, verifyAuditChain } from '../pipeline/audit/index.js';
import { AlertEngine, applyAlertChanges, getAlert } from '../pipeline/alerts/index.js';
import type { PortEvent } from '../pipeline/events/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { testRedisUrl } from './helpers/services.js';
import { runCli } from './helpers/cli.js';

const MMSI = 412345678;
const IMO = 9074729;

function site(extra = ''): SiteConfig {
  const text = `
site: { name: Test port, timezone: UTC }
berths:
  - { id: B1, name: Berth 1, polygon: [[24.45, 118.03], [24.45, 118.04], [24.44, 118.04], [24.44, 118.03]], quay_length_m: 300 }
inspectors:
  - { id: insp-a, name: A, skills: [vessel, health_quarantine], shifts: [{ days: daily, from: "00:00", to: "24:00" }] }
  - { id: insp-b, name: B, skills: [vessel], shifts: [{ days: daily, from: "00:00", to: "24:00" }] }
  - { id: insp-c, name: C, skills: [vessel, food], shifts: [{ days: daily, from: "00:00", to: "24:00" }] }
  - { id: insp-conflicted, name: D, skills: [vessel, health_quarantine], shifts: [{ days: daily, from: "00:00", to: "24:00" }] }
risk: { model: config/risk/port.yaml }
dispatch:
  rates: { HRS: 1, SRS: 0, LRS: 0 }
  conflicts: [{ inspector: insp-conflicted, company: Ocean Star Shipping, reason: former employer }]
alerts:
  routes: [{ id: to-dispatch, kind: dispatch }]
  rules: [{ id: berth-intrusion, kinds: [unauthorized_access], berths: [B1], severity: high, routes: [to-dispatch] }]
${extra}
`;
  const r = checkSiteConfigText(text, { file: 'test-site.yaml', base_dir: process.cwd() });
  if (!r.config) throw new Error(r.issues.map((i) => `${i.line}: ${i.path}: ${i.message}`).join('\n'));
  return r.config;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('event → alert → risk lift → draw → dispatch → ack → result → audit verify', () => {
  let db: TestDatabase;
  let store: Store;
  let redis: Redis;
  let service: DispatchService | null = null;
  const prefix = `pwtest-dispatch-${randomBytes(4).toString('hex')}`;
  const env = () => ({ PATH: process.env.PATH, DATABASE_URL: db.url, LOG_LEVEL: 'silent' });

  beforeAll(async () => {
    db = await createTestDatabase('pw_dispatch');
    store = await openStore({ databaseUrl: db.url, logger: silentLogger(), poolSize: 4 });
    await migrate(store, { logger: silentLogger() });
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await service?.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await store?.close();
    await db?.drop();
  });

  it('runs the whole loop on a real queue and a real store, and the audit trail catches tampering', async () => {
    const cfg = site();
    const model = loadRiskModel(cfg.risk!.model);
    const now = new Date();
    // The vessel arrived at B1 an hour ago (AIS berth visit) and was declared: a 25-year-old bulk carrier, 3 SRP points.
    await store.query(`INSERT INTO vessels (mmsi, imo, name, first_seen, last_seen) VALUES ($1, $2, 'OCEAN STAR', $3, $3)`, [MMSI, IMO, now]);
    await store.query(`INSERT INTO berth_visits (id, berth, mmsi, arrived_at) VALUES (gen_random_uuid(), 'B1', $1, $2)`, [MMSI, new Date(now.getTime() - 3_600_000)]);
    const declared = await storeDeclaration(
      store,
      declarationSchema.parse({
        imo: IMO,
        name: 'OCEAN STAR',
        eta: new Date(now.getTime() - 4_000_000).toISOString(),
        berth: 'B1',
        company: 'Ocean Star Shipping',
        crew_count: 21,
        health: { ill_crew: 0, deaths: 0, ports_last_30_days: ['SGSIN'] },
        vessel: { type: 'bulk_carrier', built: new Date().getUTCFullYear() - 25, flag_list: 'grey', ro_performance: 'medium', company_performance: 'medium' },
      }),
      { model, at: new Date(now.getTime() - 1000) },
    );
    expect(declared).toMatchObject({ mmsi: MMSI, mmsiFromAis: true, score: { profile: 'SRS', points: 3, stored: true } });
    expect(declared.berthVisit).toMatch(/^[0-9a-f-]{36}$/);

    // The event at the berth, as the camera stage stores it, and the alert the alerts stage routes to dispatch.
    const eventId = '11111111-2222-3333-4444-555555555555';
    await store.query(`INSERT INTO events (id, time, kind, phase, camera, zone, berth) VALUES ($1, $2, 'unauthorized_access', 'start', 'dock-001', 'apron', 'B1')`, [eventId, now]);
    // The alerts stage's own engine and store make the alert; its message is what goes on alert-dispatch.
    const engine = new AlertEngine({ site: cfg });
    const changes = engine.ingest({ id: eventId, time: now, kind: 'unauthorized_access', phase: 'start', berth: 'B1', zone: 'apron', details: {} } as PortEvent);
    const [applied] = await applyAlertChanges(store, changes);
    expect(applied!.alert.routes).toEqual(['to-dispatch']);
    const alert = JSON.parse(JSON.stringify({ ...applied!.alert, change: 'opened' }));

    const board = new BoardStream({ redis, prefix: `${prefix}:` });
    service = await startDispatchService({
      store,
      site: cfg,
      logger: silentLogger(),
      connection: redis,
      workerConnection: () => new Redis(testRedisUrl(), { maxRetriesPerRequest: null }),
      prefix,
      model,
      board,
      periodDraws: false,
    });
    const alerts = new Queue(ALERT_DISPATCH_QUEUE, { connection: redis, prefix });
    await alerts.add('alert', alert, { jobId: alert.id });
    // A malformed job is refused, counted, and does not stop the worker.
    await alerts.add('alert', { kind: 'x' }, { jobId: 'bad-alert' });

    const forAlert = await until('the alert inspection to be assigned', async () => (await listInspections(store, { state: 'assigned' })).find((i) => i.alert_id === alert.id));
    expect(forAlert).toMatchObject({ target_kind: 'alert', mmsi: MMSI, imo: IMO, risk_level: 'HRS', priority: 2, company: 'Ocean Star Shipping' });
    // Conflict of interest: never the inspector who used to work for the company.
    expect(forAlert.inspector).not.toBe('insp-conflicted');
    await until('the bad alert to be counted', async () => service!.stats().rejected === 1);
    expect((await getAlert(store, alert.id))!.state).toBe('dispatched');

    // The risk lift: the alert at its berth while alongside took the vessel from SRS (3) to HRS (6), with the event as evidence.
    const history = await riskHistory(store, MMSI);
    expect(history.map((h) => [h.profile, h.points])).toEqual([
      ['HRS', 6],
      ['SRS', 3],
    ]);
    expect(history[0]!.breakdown.berth_unauthorized_access).toMatchObject({ points: 3 });
    expect(JSON.stringify(history[0]!.breakdown.berth_unauthorized_access)).toContain(eventId);

    // The period draw: the vessel is HRS, drawn at 100 %; its inspection goes to the queue.
    const period = await runPeriodDraw(store, service.ctx);
    expect(period.record.selected).toEqual([`IMO${IMO}`]);
    expect(period.candidates).toEqual([expect.objectContaining({ id: `IMO${IMO}`, profile: 'HRS', berth: 'B1' })]);
    for (const i of period.inspections) await service.queue.assign(i.id, i.priority);
    const forVessel = await until('the vessel inspection to be assigned', async () => {
      const i = await getInspection(store, period.inspections[0]!.id);
      return i?.state === 'assigned' ? i : null;
    });
    // Not the same inspector twice running for the same company / vessel.
    expect(forVessel.inspector).not.toBe(forAlert.inspector);

    // The board saw both assignments.
    const seen = await board.read('0');
    expect(seen.messages.filter((m) => m.type === 'dispatch' && (m.data as { event: string }).event === 'assigned')).toHaveLength(2);

    // The inspector acknowledges and records a result with the CLI, against the same store.
    const ack = await runCli(['dispatch', 'ack', forAlert.id, '--inspector', forAlert.inspector!], env());
    expect(ack.stderr).toBe('');
    expect(JSON.parse(ack.stdout)).toMatchObject({ state: 'acknowledged' });
    const wrong = await runCli(['dispatch', 'ack', forVessel.id, '--inspector', 'insp-nobody'], env());
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/is assigned to insp-\w+, not insp-nobody/);
    const early = await runCli(['dispatch', 'result', forVessel.id, '--inspector', forVessel.inspector!, '--result', 'pass'], env());
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/acknowledge it before recording a result/);
    const res = await runCli(
      ['dispatch', 'result', forAlert.id, '--inspector', forAlert.inspector!, '--result', 'fail', '--finding', 'gangway unattended', '--photo', 'snapshots/b1/0001.jpg'],
      env(),
    );
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toMatchObject({ state: 'completed', result: 'fail', outcome: 'held', alert: alert.id });
    const done = (await getInspection(store, forAlert.id)) as Inspection;
    // The result closed the alert.
    expect((await getAlert(store, alert.id))!.state).toBe('resolved');
    expect(done).toMatchObject({ findings: [{ text: 'gangway unattended' }], photos: ['snapshots/b1/0001.jpg'] });

    // The vessel's inspector passes it (library calls, as the API makes them).
    await acknowledgeInspection(store, forVessel.id, { inspector: forVessel.inspector! });
    await recordInspectionResult(store, forVessel.id, { inspector: forVessel.inspector!, result: 'pass' });

    // One public: the completed inspections, with their draws' records, which verify on their own.
    const published = await publicInspections(store);
    expect(published).toHaveLength(2);
    expect(published[0]).toMatchObject({ inspection: forAlert.id, result: 'fail', outcome: 'held', risk_level: 'HRS', inspector: forAlert.inspector, drawn_by: 'alert', target_draw: null });
    expect(published[1]).toMatchObject({ inspection: forVessel.id, result: 'pass', outcome: 'released', drawn_by: 'target draw', target: `IMO${IMO}` });
    expect(verifyDraw(published[0]!.inspector_draw as never)).toEqual({ ok: true, problems: [] });
    const exported = await runCli(['public', 'export', '--format', 'json'], env());
    const doc = JSON.parse(exported.stdout);
    expect(doc.draws.map((d: { kind: string }) => d.kind).sort()).toEqual(['inspector', 'inspector', 'target']);
    const dir = mkdtempSync(join(tmpdir(), 'pw-public-'));
    for (const kind of ['inspector', 'target']) {
      writeFileSync(join(dir, `${kind}.json`), JSON.stringify(doc.draws.find((d: { kind: string }) => d.kind === kind)));
      const verified = await runCli(['draw', 'verify', join(dir, `${kind}.json`)], env());
      expect(verified.stdout).toMatch(new RegExp(`^genuine: ${kind} draw`));
    }
    // A published record with a vessel's level lowered in its list no longer verifies.
    const target = doc.draws.find((d: { kind: string }) => d.kind === 'target');
    writeFileSync(join(dir, 'forged.json'), JSON.stringify({ ...target, candidate_list: target.candidate_list.map((c: object) => ({ ...c, profile: 'LRS' })) }));
    const forged = await runCli(['draw', 'verify', join(dir, 'forged.json')], env());
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/does not match: the candidate list changed/);
    const csv = await runCli(['public', 'export', '--format', 'csv'], env());
    expect(csv.stdout.split('\n')[0]).toBe('inspection,date,target_kind,target,imo,vessel,berth,risk_level,drawn_by,inspector,result,outcome,findings,target_draw,inspector_draw');
    expect(csv.stdout).toContain(`${forAlert.id},`);

    // The audit trail holds every step in order, the commitment before the list closed.
    const trail = await listAudit(store, {});
    const kinds = trail.map((e) => e.kind);
    const drawOf = (id: string) => trail.filter((e) => e.subject === id).map((e) => e.kind);
    expect(drawOf(forAlert.inspector_draw_id!)).toEqual(['draw.committed', 'draw.closed', 'draw.revealed']);
    expect(kinds.indexOf('inspection.result')).toBeGreaterThan(kinds.indexOf('inspection.acknowledged'));
    expect(drawOf(forAlert.id)).toEqual(expect.arrayContaining(['inspection.created', 'inspection.assigned', 'inspection.acknowledged', 'inspection.result']));
    const ok = await runCli(['audit', 'verify'], env());
    expect(ok.code).toBe(0);
    expect((await verifyAuditChain(store)).ok).toBe(true);

    // Edited, deleted, swapped: each caught at the right entry.
    const tamper = async (sql: string) => {
      await store.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
      await store.query(sql);
      await store.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    };
    const result = trail.find((e) => e.kind === 'inspection.result')!;
    await tamper(`UPDATE audit_log SET payload = jsonb_set(payload, '{result}', '"pass"') WHERE seq = ${result.seq}`);
    const edited = await runCli(['audit', 'verify'], env());
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain(`broken at entry ${result.seq}: entry ${result.seq} (inspection.result) was edited`);
    await tamper(`UPDATE audit_log SET payload = jsonb_set(payload, '{result}', '"fail"') WHERE seq = ${result.seq}`);
    expect((await verifyAuditChain(store)).ok).toBe(true);

    const committed = trail.find((e) => e.kind === 'draw.committed')!;
    await tamper(`UPDATE audit_log SET seq = CASE seq WHEN ${committed.seq} THEN ${committed.seq + 1000001} ELSE ${committed.seq + 1000000} END WHERE seq IN (${committed.seq}, ${committed.seq + 1})`);
    await tamper(`UPDATE audit_log SET seq = seq - 1000000 WHERE seq > 1000000`);
    const swapped = await verifyAuditChain(store);
    expect(swapped.problems[0]).toMatchObject({ kind: 'reordered', seq: committed.seq });

    await tamper(`UPDATE audit_log SET seq = CASE seq WHEN ${committed.seq} THEN ${committed.seq + 1000001} ELSE ${committed.seq + 1000000} END WHERE seq IN (${committed.seq}, ${committed.seq + 1})`);
    await tamper(`UPDATE audit_log SET seq = seq - 1000000 WHERE seq > 1000000`);
    expect((await verifyAuditChain(store)).ok).toBe(true);

    await tamper(`DELETE FROM audit_log WHERE seq = ${committed.seq}`);
    const next = trail.find((e) => e.seq === committed.seq + 1)!;
    const deleted = await runCli(['audit', 'verify'], env());
    expect(deleted.code).toBe(1);
    expect(deleted.stderr).toMatch(new RegExp(`broken at entry ${committed.seq + 1}: the entry before entry ${committed.seq + 1} \\(${next.kind.replace('.', '\\.')}\\) was deleted`));
  }, 240_000);
});
