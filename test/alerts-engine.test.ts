import { describe, expect, it } from 'vitest';
import { AlertEngine, nextAlertState, AlertStateError, type DerivedAlert } from '../pipeline/alerts/index.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { alertsSite } from './helpers/alerts-site.js';
import { prng } from './helpers/prng.js';

const T0 = Date.parse('2026-12-06T02:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);

/** One tracked person through the fence zone: start, updates every 2 s, end. */
function person(camera: string, track: number, from: number, to: number, score = 0.8): PortEvent[] {
  const id = eventId(camera, 'unauthorized_access:fence', track, from);
  const base = { id, kind: 'unauthorized_access' as const, camera, zone: 'fence', track, class: 'person' };
  const out: PortEvent[] = [{ ...base, time: at(from), phase: 'start', score, snapshot: `${camera}/${track}.jpg` }];
  for (let s = from + 2; s < to; s += 2) out.push({ ...base, time: at(s), phase: 'update', score: score - 0.1 });
  out.push({ ...base, time: at(to), phase: 'end', score: null });
  return out;
}

function finalAlerts(engine: AlertEngine, events: PortEvent[]): Map<string, DerivedAlert> {
  const last = new Map<string, DerivedAlert>();
  for (const e of events) for (const c of engine.ingest(e)) last.set(c.alert.id, c.alert);
  for (const [id, a] of last) if (a.merged_into) last.delete(id);
  return last;
}

/** A recorded stream: intrusions on two cameras, a health fault, a dark vessel; some chains joined only by the cooldown. */
function recorded(): PortEvent[] {
  const events = [
    ...person('yard-1', 1, 0, 20),
    ...person('yard-1', 2, 5, 30), // with 1: one incident, two objects
    ...person('yard-1', 3, 70, 80), // 40 s after 2 ended: within the 60 s cooldown, same incident
    ...person('yard-1', 4, 300, 310), // a new incident
    ...person('yard-2', 9, 10, 14),
  ];
  const since = at(100).toISOString();
  events.push(
    { id: eventId('camera_health', 'yard-2', 'camera_offline', since, 'start'), time: at(102), kind: 'camera_offline', phase: 'start', camera: 'yard-2', details: { since } },
    { id: eventId('camera_health', 'yard-2', 'camera_offline', since, 'end'), time: at(160), kind: 'camera_offline', phase: 'end', camera: 'yard-2', details: { since } },
  );
  const dark = eventId('ais_dark', 412345678, at(0).toISOString());
  events.push(
    { id: dark, time: at(600), kind: 'ais_dark', phase: 'start', mmsi: 412345678, details: {} },
    { id: dark, time: at(900), kind: 'ais_dark', phase: 'end', mmsi: 412345678, details: {} },
  );
  return events;
}

describe('alert engine', () => {
  it('folds one incident per rule, camera and zone: overlapping people and a return within the cooldown are one alert', () => {
    const alerts = [...finalAlerts(new AlertEngine({ site: alertsSite() }), recorded()).values()];
    const yard1 = alerts.filter((a) => a.camera === 'yard-1').sort((a, b) => a.first.getTime() - b.first.getTime());
    expect(yard1.map((a) => a.objects.map((o) => o.track))).toEqual([[1, 2, 3], [4]]);
    const first = yard1[0]!;
    expect(first).toMatchObject({ rule: 'intrusion', kind: 'unauthorized_access', severity: 'high', priority: 2, zone: 'fence', active: false });
    expect(first.first.toISOString()).toBe(at(0).toISOString());
    expect(first.last.toISOString()).toBe(at(80).toISOString());
    expect(first.cleared_at?.toISOString()).toBe(at(80).toISOString());
    expect(first.procedure).toEqual(['Look at the camera', 'Call the yard patrol', 'Record what was found']);
    expect(first.objects[0]).toMatchObject({ class: 'person', snapshot: 'yard-1/1.jpg', score: 0.8 });
    // Health groups per camera: the offline episode's start and end (two event ids) are one object, cleared.
    const health = alerts.filter((a) => a.rule === 'camera-health');
    expect(health).toHaveLength(1);
    expect(health[0]!.objects).toHaveLength(1);
    expect(health[0]!.active).toBe(false);
    // AIS per vessel and rule.
    expect(alerts.filter((a) => a.rule === 'vessels').map((a) => a.mmsi)).toEqual([412345678]);
    expect(alerts).toHaveLength(5);
  });

  it('gives the same alerts with the same ids for the stream shuffled and with every phase duplicated', () => {
    const events = recorded();
    const reference = finalAlerts(new AlertEngine({ site: alertsSite() }), events);
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = prng(seed);
      const noisy = [...events, ...events.filter(() => rand() < 0.5)];
      for (let i = noisy.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [noisy[i], noisy[j]] = [noisy[j]!, noisy[i]!];
      }
      const got = finalAlerts(new AlertEngine({ site: alertsSite() }), noisy);
      expect([...got.keys()].sort()).toEqual([...reference.keys()].sort());
      for (const [id, a] of reference) expect(JSON.parse(JSON.stringify(got.get(id)))).toEqual(JSON.parse(JSON.stringify(a)));
    }
  });

  it('an alert stays active while any of its events has not ended', () => {
    const engine = new AlertEngine({ site: alertsSite() });
    const [start1] = person('yard-1', 1, 0, 10);
    const p2 = person('yard-1', 2, 2, 6);
    let a = engine.ingest(start1!).at(-1)!.alert;
    expect(a.active).toBe(true);
    for (const e of p2) a = engine.ingest(e).at(-1)?.alert ?? a;
    expect(a.active).toBe(true);
    expect(a.objects.map((o) => [o.track, o.active])).toEqual([[1, true], [2, false]]);
  });

  it('suppresses cargo on a berth camera while a vessel is scheduled there, not outside the schedule', () => {
    const engine = new AlertEngine({ site: alertsSite() });
    const cargo = (iso: string, track: number): PortEvent => ({
      id: eventId('dock-1', 'cargo', track, iso),
      time: new Date(iso),
      kind: 'cargo_movement',
      phase: 'instant',
      camera: 'dock-1',
      zone: 'apron',
      track,
      class: 'truck',
    });
    expect(engine.ingest(cargo('2026-12-06T09:00:00Z', 1))).toEqual([]);
    expect(engine.ingest(cargo('2026-12-06T19:59:00Z', 2))).toEqual([]);
    const after = engine.ingest(cargo('2026-12-06T20:00:00Z', 3));
    expect(after.map((c) => [c.alert.rule, c.alert.berth])).toEqual([['apron-cargo', 'B1']]);
    expect(engine.stats.suppressed).toBe(2);
  });

  it('suppresses by site-local windows', () => {
    const site = alertsSite();
    site.alerts.rules[0]!.suppress = { berth_scheduled: false, windows: [{ days: ['sun'], from: '01:00', to: '03:00' }] };
    const engine = new AlertEngine({ site });
    // 2026-12-06 is a Sunday; 02:00 UTC is inside the window, 03:30 outside.
    expect(person('yard-1', 1, 0, 4).flatMap((e) => engine.ingest(e))).toEqual([]);
    expect(person('yard-1', 2, 5400, 5404).flatMap((e) => engine.ingest(e)).length).toBeGreaterThan(0);
  });

  it('floods: past 10 alerts in 10 minutes in a view, new alerts of the flooding camera become one flood alert with a count, which ends by itself', () => {
    const site = alertsSite();
    site.alerts.rules[0]!.cooldown_seconds = 0;
    const engine = new AlertEngine({ site });
    const last = new Map<string, DerivedAlert>();
    // 25 separate intrusions on yard-1, 20 s apart (each 5 s long), all within 10 minutes.
    for (let i = 0; i < 25; i++) for (const e of person('yard-1', i + 1, i * 20, i * 20 + 5)) for (const c of engine.ingest(e)) last.set(c.alert.id, c.alert);
    const all = [...last.values()].filter((a) => !a.merged_into);
    const floods = all.filter((a) => a.kind === 'alert_flood');
    const plain = all.filter((a) => a.kind !== 'alert_flood');
    expect(plain).toHaveLength(25);
    expect(plain.filter((a) => a.flood === null)).toHaveLength(10);
    expect(floods).toHaveLength(1);
    expect(floods[0]).toMatchObject({ flood_count: 15, rule: 'intrusion', camera: 'yard-1', active: true });
    expect(plain.filter((a) => a.flood === floods[0]!.id)).toHaveLength(15);
    // Ten quiet minutes after the last flooded alert started, the flood ends by itself.
    const ended = engine.advance(at(24 * 20 + 600)).find((c) => c.alert.id === floods[0]!.id);
    expect(ended?.alert).toMatchObject({ active: false, flood_count: 15 });
  });

  it('state machine: acknowledged before resolved, closed alerts refuse changes with what is allowed', () => {
    expect(nextAlertState('open', 'acknowledge')).toBe('acknowledged');
    expect(nextAlertState('acknowledged', 'false_alarm')).toBe('false_alarm');
    expect(nextAlertState('open', 'dispatch')).toBe('dispatched');
    expect(() => nextAlertState('resolved', 'acknowledge')).toThrow(AlertStateError);
    expect(() => nextAlertState('acknowledged', 'acknowledge')).toThrow(/allowed: dispatch, resolve, false_alarm/);
  });
});
