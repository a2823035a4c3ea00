import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlertEngine,
  AlertStateError,
  ShelveError,
  acknowledgeAlert,
  activeRuleShelves,
  alertMessage,
  alertsNotStored,
  applyAlertChanges,
  escalateAlert,
  getAlert,
  listAlerts,
  markAlertDispatched,
  resolveAlert,
  shelveAlert,
  shelveRule,
  unshelveAlert,
  type AlertChange,
} from '../pipeline/alerts/index.js';
import { listAudit } from '../pipeline/audit/index.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { alertsSite } from './helpers/alerts-site.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';

const T0 = Date.parse('2026-12-06T02:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);

function person(camera: string, track: number, from: number, to: number): PortEvent[] {
  const id = eventId(camera, 'unauthorized_access:fence', track, from);
  const base = { id, kind: 'unauthorized_access' as const, camera, zone: 'fence', track, class: 'person', score: 0.9 };
  return [
    { ...base, time: at(from), phase: 'start', snapshot: `${camera}/${track}.jpg` },
    { ...base, time: at(to), phase: 'end' },
  ];
}

const targets = [
  { label: 'embedded', open: async () => ({ store: await openStore({ dataDir: 'memory://', logger: silentLogger() }), db: null as TestDatabase | null }) },
  {
    label: 'PostgreSQL server',
    open: async () => {
      const db = await createTestDatabase('pw_alerts');
      return { store: await openStore({ databaseUrl: db.url, logger: silentLogger() }), db };
    },
  },
];

describe.each(targets)('alert store ($label)', ({ open }) => {
  let store: Store;
  let db: TestDatabase | null;
  const changes: AlertChange[] = [];
  beforeAll(async () => {
    ({ store, db } = await open());
    await migrate(store, { logger: silentLogger() });
    const engine = new AlertEngine({ site: alertsSite() });
    const events = [...person('yard-1', 1, 0, 10), ...person('yard-1', 2, 3, 12), ...person('yard-2', 5, 20, 25), ...person('yard-1', 3, 400, 410)];
    for (const e of events) changes.push(...engine.ingest(e));
  }, 120_000);
  afterAll(async () => {
    await store.close();
    await db?.drop();
  });

  it('stores what the engine derived, opens each alert once, and a re-delivery never undoes what people did', async () => {
    const applied = await applyAlertChanges(store, changes, at(500));
    expect(new Set(applied.filter((a) => a.opened).map((a) => a.alert.id)).size).toBe(3);
    const page = await listAlerts(store);
    expect(page.alerts.map((a) => [a.camera, a.objects.map((o) => o.track)])).toEqual([
      ['yard-1', [3]],
      ['yard-2', [5]],
      ['yard-1', [1, 2]],
    ]);
    const two = page.alerts[2]!;
    expect(two).toMatchObject({ state: 'open', rule: 'intrusion', severity: 'high', priority: 2, active: false, zone: 'fence' });
    expect(two.objects[1]).toMatchObject({ class: 'person', snapshot: 'yard-1/2.jpg' });
    expect(two.procedure).toHaveLength(3);
    // What the write returns (derived fields + the people's columns) is what a read gives, and its message is the alert in JSON.
    for (const { alert } of applied.filter((a) => !a.alert.merged_into)) {
      const { history: _history, clip: _clip, ...read } = (await getAlert(store, alert.id))!;
      const { clip: _c, ...written } = alert;
      expect(written).toEqual(read);
      expect(alertMessage(alert, 'opened')).toEqual(JSON.parse(JSON.stringify({ ...alert, change: 'opened' })));
    }
    // A rebuilt worker writes only what the store does not hold as derived.
    const derived = [...new Map(changes.map((c) => [c.alert.id, c.alert])).values()];
    expect(await alertsNotStored(store, derived)).toEqual([]);
    const later = { ...derived[0]!, last: new Date(derived[0]!.last.getTime() + 1_000) };
    const missing = { ...derived[1]!, id: '00000000-0000-4000-8000-000000000001' };
    expect((await alertsNotStored(store, [later, missing, derived[2]!])).map((a) => a.id)).toEqual([later.id, missing.id]);

    const acked = await acknowledgeAlert(store, two.id, { by: 'li.wei', comment: 'patrol sent', at: at(600) });
    expect(acked.alert).toMatchObject({ state: 'acknowledged', acknowledged_by: 'li.wei' });
    // The same events again (BullMQ redelivers): derived columns rewritten, state kept, no second "opened".
    const again = await applyAlertChanges(store, changes, at(700));
    expect(again.filter((a) => a.opened)).toHaveLength(0);
    const detail = await getAlert(store, two.id);
    expect(detail?.state).toBe('acknowledged');
    expect(detail?.history.map((h) => [h.action, h.actor, h.from_state, h.to_state, h.comment])).toEqual([
      ['opened', 'system', null, 'open', null],
      ['acknowledged', 'li.wei', 'open', 'acknowledged', 'patrol sent'],
    ]);
  });

  it('filters by state, camera, kind, severity and time, pages with a cursor', async () => {
    expect((await listAlerts(store, { state: 'acknowledged' })).alerts).toHaveLength(1);
    expect((await listAlerts(store, { state: ['open'] })).alerts).toHaveLength(2);
    expect((await listAlerts(store, { camera: 'yard-2' })).alerts.map((a) => a.camera)).toEqual(['yard-2']);
    expect((await listAlerts(store, { kind: 'unauthorized_access' })).alerts).toHaveLength(3);
    expect((await listAlerts(store, { kind: 'camera_offline' })).alerts).toHaveLength(0);
    expect((await listAlerts(store, { severity: 'low' })).alerts).toHaveLength(0);
    expect((await listAlerts(store, { since: at(15), until: at(100) })).alerts.map((a) => a.camera)).toEqual(['yard-2']);
    const p1 = await listAlerts(store, { limit: 2 });
    expect(p1.alerts).toHaveLength(2);
    const p2 = await listAlerts(store, { limit: 2, cursor: p1.next });
    expect(p2.alerts).toHaveLength(1);
    expect(p2.next).toBeNull();
    expect(new Set([...p1.alerts, ...p2.alerts].map((a) => a.id)).size).toBe(3);
    await expect(listAlerts(store, { state: 'new' as never })).rejects.toThrow(/state: "new" is not one of/);
  });

  it('follows the states: dispatched, resolved, false alarm; closed alerts refuse changes', async () => {
    const { alerts } = await listAlerts(store, { state: 'open' });
    const [a, b] = alerts;
    const d = await markAlertDispatched(store, a!.id, { by: 'dispatch', inspection: 'insp-1' });
    expect(d.alert.state).toBe('dispatched');
    expect(d.history.details).toEqual({ inspection: 'insp-1' });
    const r = await resolveAlert(store, a!.id, { by: 'li.wei', comment: 'inspected, nothing found' });
    expect(r.alert).toMatchObject({ state: 'resolved', closed_by: 'li.wei' });
    await expect(acknowledgeAlert(store, a!.id, { by: 'x' })).rejects.toBeInstanceOf(AlertStateError);
    const f = await resolveAlert(store, b!.id, { by: 'zhang', falseAlarm: true });
    expect(f.alert.state).toBe('false_alarm');
    // Every state change is in the audit trail too, in order, with who.
    const audit = await listAudit(store, { subject: a!.id });
    expect(audit.map((e) => [e.kind, e.actor, e.payload.to])).toEqual([
      ['alert.dispatched', 'dispatch', 'dispatched'],
      ['alert.resolved', 'li.wei', 'resolved'],
    ]);
    await expect(acknowledgeAlert(store, '00000000-0000-0000-0000-000000000000', { by: 'x' })).rejects.toThrow(/no alert/);
    await expect(acknowledgeAlert(store, a!.id, { by: ' ' })).rejects.toThrow(/by: say who/);
  });

  it('shelves for a bounded time with a reason, unshelves when due; escalates only what nobody acknowledged', async () => {
    const engine = new AlertEngine({ site: alertsSite() });
    const fresh = [...person('yard-2', 9, 1000, 1010)].flatMap((e) => engine.ingest(e));
    const alert = (await applyAlertChanges(store, fresh, at(1010)))[0]!.alert;
    const max = 60 * 60_000;
    await expect(shelveAlert(store, alert.id, { by: 'li', reason: 'maintenance', forMs: 2 * max, maxMs: max })).rejects.toBeInstanceOf(ShelveError);
    await expect(shelveAlert(store, alert.id, { by: 'li', reason: '', forMs: 60_000, maxMs: max })).rejects.toThrow(/reason/);
    const s = await shelveAlert(store, alert.id, { by: 'li', reason: 'maintenance crew on site', forMs: 30 * 60_000, maxMs: max, at: new Date() });
    expect(s.alert.shelved).toBe(true);
    expect(await unshelveAlert(store, alert.id, { by: 'system', onlyIfDue: true })).toBeNull();
    const u = await unshelveAlert(store, alert.id, { by: 'system', onlyIfDue: true, at: new Date(Date.now() + 31 * 60_000) });
    expect(u?.alert.shelved).toBe(false);
    expect(u?.history.action).toBe('unshelved');

    const e1 = await escalateAlert(store, alert.id, { step: 1 });
    expect(e1?.alert).toMatchObject({ priority: 1, escalations: 1 });
    // The same timer again (at-least-once) does nothing.
    expect(await escalateAlert(store, alert.id, { step: 1 })).toBeNull();
    // The priority survives a rewrite from events.
    await applyAlertChanges(store, fresh, at(1020));
    expect((await getAlert(store, alert.id))?.priority).toBe(1);
    await acknowledgeAlert(store, alert.id, { by: 'li' });
    expect(await escalateAlert(store, alert.id, { step: 2 })).toBeNull();
    expect((await getAlert(store, alert.id))?.history.map((h) => h.action)).toEqual(['opened', 'shelved', 'escalated', 'acknowledged', 'unshelved']); // by time: the unshelving was dated 31 min ahead

    await shelveRule(store, 'intrusion', { by: 'li', reason: 'drill', forMs: 60_000, maxMs: max, at: new Date() });
    expect((await activeRuleShelves(store)).map((r) => r.rule)).toEqual(['intrusion']);
    expect(await activeRuleShelves(store, new Date(Date.now() + 120_000))).toEqual([]);
  });
});
