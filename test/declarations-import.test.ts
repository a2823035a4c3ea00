import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, upsertVessels, type Store } from '../pipeline/store/index.js';
import { declarationSchema, listCalls, storeDeclaration } from '../pipeline/declarations/index.js';
import { loadRiskModel, rescoreVessel, riskHistory } from '../pipeline/risk/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { runCli } from './helpers/cli.js';

describe('portwatch declarations import', () => {
  let db: TestDatabase;
  let store: Store;
  const dir = mkdtempSync(join(tmpdir(), 'pw-decl-'));
  beforeAll(async () => {
    db = await createTestDatabase('pw_decl');
    store = await openStore({ databaseUrl: db.url, logger: silentLogger(), poolSize: 2 });
    await migrate(store, { logger: silentLogger() });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('stores good calls, links them to AIS and berth visits, scores them, and names every bad field', async () => {
    const arrived = new Date('2026-12-05T22:00:00Z');
    await store.query(`INSERT INTO vessels (mmsi, imo, name, first_seen, last_seen) VALUES (412000001, 9074729, 'LINKED', $1, $1)`, [arrived]);
    await store.query(`INSERT INTO berth_visits (id, berth, mmsi, arrived_at) VALUES ('0b0b0b0b-0000-0000-0000-000000000001', 'D1', 412000001, $1)`, [arrived]);
    const health = { ill_crew: 0, deaths: 0, ports_last_30_days: ['SGSIN'] };
    const lines = [
      // 1: IMO only; the MMSI comes from AIS, the berth visit from the ETA; ill crew → port model points.
      { imo: 9074729, name: 'LINKED', eta: '2026-12-06T06:00:00+08:00', berth: 'D1', company: 'Ocean Star Shipping', cargo_classes: ['3'], crew_count: 20, health: { ...health, ill_crew: 2 }, vessel: { type: 'oil_tanker', built: 2001 } },
      // 2: every kind of mistake at once.
      { imo: 9074728, name: '', eta: '2026-12-06 06:00', cargo_classes: ['10'], crew_count: -1, health: { ill_crew: 'two', ports_last_30_days: ['Singapore'] }, vessel: { flag_list: 'purple' }, extra: 1 },
      // 3: neither IMO nor MMSI.
      { name: 'NOBODY', eta: '2026-12-06T06:00:00Z', crew_count: 3, health },
      // 4: MMSI only, no AIS yet: stored and scored, not linked.
      { mmsi: 412000002, name: 'NEW', eta: '2026-12-07T06:00:00Z', berth: 'D2', crew_count: 12, health },
      // 5: a berth the site does not have.
      { mmsi: 412000003, name: 'LOST', eta: '2026-12-07T06:00:00Z', berth: 'Z9', crew_count: 12, health },
    ];
    const file = join(dir, 'calls.jsonl');
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n');
    const env = { PATH: process.env.PATH, DATABASE_URL: db.url, LOG_LEVEL: 'silent', CAM_DOCK_PASSWORD: 'x' };
    const r = await runCli(['declarations', 'import', file, '--site', 'config/site.demo.yaml', '--model', 'config/risk/port.yaml'], env);
    expect(r.code).toBe(2);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toEqual([
      expect.objectContaining({ line: 1, imo: 9074729, mmsi: 412000001, mmsi_from_ais: true, berth_visit: '0b0b0b0b-0000-0000-0000-000000000001', replaced: false, profile: 'HRS', points: 6, score_stored: true }),
      expect.objectContaining({ line: 4, imo: null, mmsi: 412000002, mmsi_from_ais: false, berth_visit: null, profile: 'SRS', score_stored: true }),
    ]);
    const err = r.stderr;
    for (const expected of [
      /calls\.jsonl:2 imo: IMO 9074728 fails its check digit/,
      /calls\.jsonl:2 name: name must not be empty/,
      /calls\.jsonl:2 eta: eta is an ISO 8601 date-time with its offset/,
      /calls\.jsonl:2 cargo_classes\.0: a cargo class is an IMDG class/,
      /calls\.jsonl:2 crew_count: crew_count cannot be negative/,
      /calls\.jsonl:2 health\.ill_crew: ill_crew is a whole number/,
      /calls\.jsonl:2 health\.deaths: required/,
      /calls\.jsonl:2 health\.ports_last_30_days\.0: a port is a UN\/LOCODE/,
      /calls\.jsonl:2 vessel\.flag_list: flag_list is white, grey or black/,
      /calls\.jsonl:2 \(line\): Unrecognized key: "extra"|calls\.jsonl:2 : Unrecognized key/,
      /calls\.jsonl:3 imo: give imo or mmsi/,
      /calls\.jsonl:5 berth: "Z9" is not a berth of the site \(D1, D2\)/,
      /calls\.jsonl:6 \(line\): not JSON/,
      /4 of 6 declaration lines rejected/,
    ])
      expect(err).toMatch(expected);

    const calls = await listCalls(store, { company: 'Ocean Star Shipping' });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ imo: 9074729, mmsi: 412000001, berth_visit_id: '0b0b0b0b-0000-0000-0000-000000000001', health: { ill_crew: 2 } });
    const [score] = await riskHistory(store, 412000001);
    expect(score!.breakdown.ill_crew).toMatchObject({ points: 3, evidence: ['declaration.health.ill_crew=2'] });

    // Declaring the same call again replaces it (same vessel, same ETA): one call, a new score.
    writeFileSync(file, JSON.stringify({ ...lines[0], health }) + '\n');
    const again = await runCli(['declarations', 'import', file, '--model', 'config/risk/port.yaml'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ replaced: true, profile: 'SRS', points: 3 });
    expect(await listCalls(store, { imo: 9074729 })).toHaveLength(1);
    expect((await riskHistory(store, 412000001)).map((s) => s.profile)).toEqual(['SRS', 'HRS']);
  }, 120_000);

  it('links a call declared by IMO alone once AIS names its MMSI, and stores its score from then on', async () => {
    const model = loadRiskModel('config/risk/port.yaml');
    const call = await storeDeclaration(store, declarationSchema.parse({ imo: 9176187, name: 'EARLY BIRD', eta: '2026-12-08T06:00:00Z', crew_count: 9, health: { ill_crew: 0, deaths: 0, ports_last_30_days: [] } }), { model });
    // No AIS yet: scored (the draw can weigh it) but not stored, since scores are kept by MMSI.
    expect(call).toMatchObject({ mmsi: null, mmsiFromAis: false, score: expect.objectContaining({ stored: false }) });
    await upsertVessels(store, [{ mmsi: 412000009, imo: 9176187, name: 'EARLY BIRD', seenAt: new Date('2026-12-08T05:00:00Z') }]);
    await upsertVessels(store, [{ mmsi: 412000010, imo: 9074729, seenAt: new Date('2026-12-08T05:00:00Z') }]); // an already linked call keeps its MMSI
    expect((await listCalls(store, { imo: 9176187 }))[0]).toMatchObject({ mmsi: 412000009 });
    expect((await listCalls(store, { imo: 9074729 }))[0]).toMatchObject({ mmsi: 412000001 });
    const score = await rescoreVessel(store, model, { mmsi: 412000009 }, new Date('2026-12-08T05:30:00Z'));
    expect(score).toMatchObject({ stored: true, callId: call.id });
    expect(await riskHistory(store, 412000009)).toHaveLength(1);
  });
});
