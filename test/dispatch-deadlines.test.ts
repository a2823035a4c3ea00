import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { checkSiteConfigText, type SiteConfig } from '../pipeline/config/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import {
  assignInspector,
  createInspection,
  DEFAULT_DISPATCH_SETTINGS,
  eligibleInspectors,
  getInspection,
  inspectorWorkloads,
  selectInspector,
  startDispatchService,
  verifyDraw,
  type DispatchService,
  type InspectorDrawRecord,
} from '../pipeline/dispatch/index.js';
import { listAudit, verifyAuditChain } from '../pipeline/audit/index.js';
import { testRedisUrl } from './helpers/services.js';

const ALWAYS = '[{ days: daily, from: "00:00", to: "24:00" }]';

function site(inspectors: string, dispatch: string): SiteConfig {
  const text = `site: { name: T, timezone: Asia/Shanghai }\ninspectors:\n${inspectors}\ndispatch:\n${dispatch}\n`;
  const r = checkSiteConfigText(text, { file: 't.yaml', base_dir: process.cwd() });
  if (!r.config) throw new Error(r.issues.map((i) => `${i.line}: ${i.path}: ${i.message}`).join('\n'));
  return r.config;
}

describe('who may be drawn', () => {
  const roster = site(
    [
      `  - { id: day, name: Day, skills: [vessel], shifts: [{ days: weekdays, from: "08:00", to: "17:00" }] }`,
      `  - { id: night, name: Night, skills: [vessel, health_quarantine], shifts: [{ days: daily, from: "20:00", to: "08:00" }] }`,
      `  - { id: food, name: Food, skills: [food], shifts: ${ALWAYS} }`,
      `  - { id: conflicted, name: C, skills: [vessel], shifts: ${ALWAYS} }`,
      `  - { id: last, name: L, skills: [vessel], shifts: ${ALWAYS} }`,
      `  - { id: passer, name: P, skills: [vessel], shifts: ${ALWAYS} }`,
      `  - { id: free, name: F, skills: [vessel], shifts: ${ALWAYS} }`,
    ].join('\n'),
    '  conflicts: [{ inspector: conflicted, imo: 9074729, reason: family }]',
  );
  it('excludes off duty (site time), missing skills, conflicts, the last inspector of the vessel, and who let it pass', () => {
    // Monday 2026-12-07 10:00 in Shanghai = 02:00 UTC.
    const at = new Date('2026-12-07T02:00:00Z');
    const r = eligibleInspectors(roster.inspectors, roster.dispatch, roster.site.timezone, at, { skills: ['vessel'], imo: 9074729, passedBy: ['passer'], lastForVessel: 'last' }, new Map([['free', 3]]));
    expect(r.candidates).toEqual([
      { id: 'day', workload: 0 },
      { id: 'free', workload: 3 },
    ]);
    expect(Object.fromEntries(r.excluded.map((e) => [e.id, e.reason]))).toEqual({
      night: 'off duty',
      food: 'lacks vessel',
      conflicted: 'conflict of interest with IMO 9074729 (family)',
      last: 'inspected this vessel last time',
      passer: 'let the acknowledgement deadline pass',
    });
    // 23:00 Shanghai: the night shift (wrapping past midnight) is on, the day shift off.
    const night = eligibleInspectors(roster.inspectors, roster.dispatch, roster.site.timezone, new Date('2026-12-07T15:00:00Z'), { skills: ['vessel', 'health_quarantine'] }, new Map());
    expect(night.candidates.map((c) => c.id)).toEqual(['night']);
    // no_repeat off: the last inspector may be drawn again.
    const lax = eligibleInspectors(roster.inspectors, { ...roster.dispatch, no_repeat: false }, roster.site.timezone, at, { skills: ['vessel'], lastForVessel: 'last' }, new Map());
    expect(lax.candidates.map((c) => c.id)).toContain('last');
  });
});

describe('workload balance', () => {
  it('inverse-workload draws keep open jobs more even than a blind draw, over 3000 assignments', () => {
    const ids = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6'];
    const run = (weighted: boolean) => {
      const open = new Map(ids.map((id) => [id, [] as number[]]));
      const total = new Map(ids.map((id) => [id, 0]));
      let spreadSum = 0;
      for (let n = 0; n < 3000; n++) {
        // Jobs take 10 draws to finish: the workload is what is still open.
        for (const list of open.values()) while (list.length && list[0]! <= n - 10) list.shift();
        const seed = createHash('sha256').update(`balance ${n}`).digest('hex');
        const chosen = selectInspector(seed, ids.map((id) => ({ id, workload: weighted ? open.get(id)!.length : 0 })))!;
        open.get(chosen)!.push(n);
        total.set(chosen, total.get(chosen)! + 1);
        const loads = ids.map((id) => open.get(id)!.length);
        spreadSum += Math.max(...loads) - Math.min(...loads);
      }
      return { meanSpread: spreadSum / 3000, totals: [...total.values()] };
    };
    const balanced = run(true);
    const blind = run(false);
    expect(balanced.meanSpread, JSON.stringify({ balanced, blind })).toBeLessThan(blind.meanSpread * 0.85);
    expect(Math.max(...balanced.totals) - Math.min(...balanced.totals)).toBeLessThan(Math.max(...blind.totals) - Math.min(...blind.totals));
  });
});

describe('acknowledgement deadlines with real delayed jobs', () => {
  let store: Store;
  let redis: Redis;
  let service: DispatchService | null = null;
  const prefix = `pwtest-deadline-${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://', logger: silentLogger() });
    await migrate(store, { logger: silentLogger() });
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await service?.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await store?.close();
  });

  it('reassigns by a new verifiable draw without the one who let it pass, then escalates', async () => {
    const cfg = site(
      [`  - { id: a, name: A, skills: [vessel], shifts: ${ALWAYS} }`, `  - { id: b, name: B, skills: [vessel], shifts: ${ALWAYS} }`, `  - { id: c, name: C, skills: [vessel], shifts: ${ALWAYS} }`].join('\n'),
      // 1.5 s to acknowledge; two reassignments, then the command center.
      '  ack_deadline_minutes: 0.025\n  max_reassignments: 2',
    );
    service = await startDispatchService({
      store,
      site: cfg,
      logger: silentLogger(),
      connection: redis,
      workerConnection: () => new Redis(testRedisUrl(), { maxRetriesPerRequest: null }),
      prefix,
      model: null,
      periodDraws: false,
    });
    const { inspection } = await createInspection(store, { target_kind: 'vessel', target: 'IMO9074729', imo: 9074729, risk_level: 'HRS', skills: ['vessel'] }, 'test');
    await service.queue.assign(inspection.id, inspection.priority);

    const seen: string[] = [];
    const t0 = Date.now();
    let final = inspection;
    while (Date.now() - t0 < 30_000) {
      final = (await getInspection(store, inspection.id))!;
      if (final.inspector && seen.at(-1) !== final.inspector) seen.push(final.inspector);
      if (final.state === 'escalated') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(final.state).toBe('escalated');
    // Three different inspectors, each passed over once, in the order drawn.
    expect(new Set(seen).size).toBe(3);
    expect(final.passed_by).toEqual(seen);
    expect(final.reassignments).toBe(2);
    // The deadlines took real time: three rounds of 1.5 s.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4_000);

    const trail = await listAudit(store, { subject: inspection.id });
    expect(trail.map((e) => e.kind)).toEqual([
      'inspection.created',
      'inspection.assigned',
      'inspection.deadline_passed',
      'inspection.assigned',
      'inspection.deadline_passed',
      'inspection.assigned',
      'inspection.escalated',
    ]);
    // Every reassignment was its own verifiable draw, each excluding those who had let it pass.
    const draws = (await listAudit(store, { kind: 'draw.revealed' })).map((e) => e.payload.record as unknown as InspectorDrawRecord);
    expect(draws).toHaveLength(3);
    draws.forEach((d, i) => {
      expect(verifyDraw(d)).toEqual({ ok: true, problems: [] });
      expect(d.excluded.map((x) => x.id).sort()).toEqual(seen.slice(0, i).sort());
      expect(d.selected).toEqual([seen[i]]);
    });
    expect(service.stats()).toMatchObject({ assigned: 3, reassigned: 2, escalated: 1 });
    expect((await verifyAuditChain(store)).ok).toBe(true);
  });

  it('an acknowledgement before the deadline keeps the inspector; the deadline job is then moot', async () => {
    const { inspection } = await createInspection(store, { target_kind: 'vessel', target: 'IMO9176187', imo: 9176187, skills: ['vessel'] }, 'test');
    await service!.queue.assign(inspection.id, inspection.priority);
    let i = inspection;
    while (i.state !== 'assigned') {
      await new Promise((r) => setTimeout(r, 50));
      i = (await getInspection(store, inspection.id))!;
    }
    const { acknowledgeInspection } = await import('../pipeline/dispatch/index.js');
    await acknowledgeInspection(store, i.id, { inspector: i.inspector! });
    await new Promise((r) => setTimeout(r, 2_500));
    const after = (await getInspection(store, i.id))!;
    expect(after).toMatchObject({ state: 'acknowledged', inspector: i.inspector, reassignments: 0, passed_by: [] });
    expect((await inspectorWorkloads(store)).get(i.inspector!)).toBe(1);
  });

  it('nobody eligible: escalated at once, with the exclusions published', async () => {
    const cfg = site(`  - { id: a, name: A, skills: [food], shifts: ${ALWAYS} }`, '  max_reassignments: 0');
    const { inspection } = await createInspection(store, { target_kind: 'vessel', target: 'IMO9321483', skills: ['vessel'] }, 'test');
    const r = await assignInspector(store, { roster: cfg.inspectors, timeZone: 'UTC', settings: { ...DEFAULT_DISPATCH_SETTINGS, ...cfg.dispatch }, actor: 'test' }, inspection.id);
    expect(r.inspection.state).toBe('escalated');
    expect(r.record!.excluded).toEqual([{ id: 'a', reason: 'lacks vessel' }]);
  });
});
