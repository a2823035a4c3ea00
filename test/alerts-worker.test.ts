import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlertEngine,
  AlertsService,
  ALERT_DISPATCH_QUEUE,
  getAlert,
  listAlerts,
  shelveAlert,
  verifyWebhook,
  type AlertMessage,
  type DerivedAlert,
} from '../pipeline/alerts/index.js';
import type { BoardMessage } from '../pipeline/board/index.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { EventQueue } from '../pipeline/queue/index.js';
import { eventsTable, migrate, openStore, type Store } from '../pipeline/store/index.js';
import { alertsSite } from './helpers/alerts-site.js';
import { prng } from './helpers/prng.js';
import { testMqttUrl, testRedisUrl } from './helpers/services.js';

const logger = silentLogger();
const run = randomUUID().slice(0, 8);
const prefix = `test-alerts-${run}`;
const boardPrefix = `test:alerts:${run}:`;
const topic = `test-${run}`;
const SECRET = 'test-webhook-secret';

const now = Date.now();
const at = (s: number) => new Date(now - 60_000 + s * 1000);

function person(camera: string, track: number, from: number, to: number): PortEvent[] {
  const id = eventId(run, camera, 'unauthorized_access:fence', track, from);
  const base = { id, kind: 'unauthorized_access' as const, camera, zone: 'fence', track, class: 'person', score: 0.9 };
  return [
    { ...base, time: at(from), phase: 'start', snapshot: `${camera}/${track}.jpg` },
    { ...base, time: at(from + 1), phase: 'update' },
    { ...base, time: at(to), phase: 'end' },
  ];
}

/** A loopback receiver that answers 500 to the first `failures` deliveries of each delivery id, then 200. */
function receiver(failures: number) {
  const got: Array<{ body: string; headers: IncomingMessage['headers']; status: number }> = [];
  const tries = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const id = String(req.headers['x-portwatch-delivery']);
      const n = (tries.get(id) ?? 0) + 1;
      tries.set(id, n);
      const status = n <= failures ? 500 : 200;
      got.push({ body, headers: req.headers, status });
      res.writeHead(status).end();
    });
  });
  return { got, server, listen: () => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port))) };
}

const flaky = receiver(2);
const broken = receiver(1_000);
let store: Store;
let service: AlertsService;
let publisher: EventQueue;
let redis: Redis;
let sub: mqtt.MqttClient;
const mqttMessages: Array<{ topic: string; payload: unknown; retain: boolean }> = [];
const connections: Redis[] = [];

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An alerts worker on the test Redis, its queues and board under prefix `p`. */
function alertsWorker(store: Store, p: string, opts: Partial<ConstructorParameters<typeof AlertsService>[0]> = {}): AlertsService {
  return new AlertsService({
    site: alertsSite(),
    store,
    logger,
    connect: () => {
      const c = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
      connections.push(c);
      return c;
    },
    queuePrefix: p,
    boardPrefix: `${p}:`,
    ...opts,
  });
}

async function boardMessages(): Promise<BoardMessage[]> {
  return (await service.board.read('0', { count: 10_000 })).messages;
}

beforeAll(async () => {
  const [flakyPort, brokenPort] = [await flaky.listen(), await broken.listen()];
  const site = alertsSite();
  site.alerts.routes.push(
    { id: 'dispatch', kind: 'dispatch', min_severity: 'high' },
    { id: 'duty', kind: 'webhook', url: `http://127.0.0.1:${flakyPort}/hook`, secret: SECRET, max_attempts: 4 },
    { id: 'dead', kind: 'webhook', url: `http://127.0.0.1:${brokenPort}/hook`, max_attempts: 2, min_severity: 'critical' },
    { id: 'broker', kind: 'mqtt', url: testMqttUrl(), topic_prefix: topic },
  );
  for (const r of site.alerts.rules) r.routes = ['board', 'dispatch', 'duty', 'dead', 'broker'];
  site.alerts.escalate_after_seconds = { critical: 1, high: 1, medium: 0, low: 0, info: 0 };
  store = await openStore({ dataDir: 'memory://', logger });
  await migrate(store, { logger });
  redis = new Redis(testRedisUrl());
  sub = await mqtt.connectAsync(testMqttUrl());
  sub.on('message', (t, p, packet) => mqttMessages.push({ topic: t, payload: JSON.parse(p.toString()), retain: packet.retain }));
  await sub.subscribeAsync(`${topic}/alerts`, { qos: 1 });
  service = alertsWorker(store, prefix, { site, boardPrefix, webhookBackoffMs: 100 });
  await service.start();
  publisher = new EventQueue({ connection: new Redis(testRedisUrl(), { maxRetriesPerRequest: null }), logger, prefix });
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await publisher?.close();
  await sub?.endAsync();
  flaky.server.close();
  broken.server.close();
  const keys = await redis.keys(`${prefix}:*`);
  const more = await redis.keys(`${boardPrefix}*`);
  if (keys.length + more.length > 0) await redis.del(...keys, ...more);
  redis.disconnect();
  for (const c of connections) c.disconnect();
  await store?.close();
});

describe('alerts worker (real Redis, store, Mosquitto, loopback webhook)', () => {
  it('turns queued events into one stored alert per incident, on the board, the dispatch queue, MQTT and a signed webhook retried past two failures', async () => {
    await publisher.publishMany([...person('yard-1', 1, 0, 10), ...person('yard-1', 2, 2, 12)]);
    const stored = await until('the alert with both people, cleared', async () => {
      const { alerts } = await listAlerts(store, { camera: 'yard-1' });
      return alerts.length === 1 && alerts[0]!.objects.length === 2 && !alerts[0]!.active ? alerts[0]! : null;
    });
    expect(stored).toMatchObject({ rule: 'intrusion', state: 'open', severity: 'high' });

    const board = await until('board messages', async () => {
      const m = (await boardMessages()).filter((x) => x.type === 'alert' && (x.data as AlertMessage).id === stored.id);
      // Events published together may be stored in one batch: the last message is the cleared alert with both people.
      return m.some((x) => !(x.data as AlertMessage).active && (x.data as AlertMessage).objects.length === 2) ? m : null;
    });
    expect((board[0]!.data as AlertMessage).change).toBe('opened');
    expect((board.at(-1)!.data as AlertMessage).objects.map((o) => o.track)).toEqual([1, 2]);

    const dispatch = new Queue(ALERT_DISPATCH_QUEUE, { connection: new Redis(testRedisUrl(), { maxRetriesPerRequest: null }), prefix });
    const job = await until('the dispatch job', () => dispatch.getJob(`alert.${stored.id}`));
    expect((job.data as AlertMessage)).toMatchObject({ id: stored.id, change: 'opened', rule: 'intrusion' });
    await dispatch.close();

    const seen = await until('the MQTT alert', () => mqttMessages.find((m) => m.topic === `${topic}/alerts` && (m.payload as AlertMessage).id === stored.id));
    expect(seen.payload).toMatchObject({ rule: 'intrusion', camera: 'yard-1' });

    // The receiver refused the "opened" delivery twice; the third try got through, signed.
    const opened = await until('the webhook delivery', () => {
      const d = flaky.got.filter((g) => (JSON.parse(g.body) as AlertMessage).id === stored.id && (JSON.parse(g.body) as AlertMessage).change === 'opened');
      return d.some((g) => g.status === 200) ? d : null;
    });
    expect(opened.map((d) => d.status)).toEqual([500, 500, 200]);
    const ok = opened[2]!;
    expect(new Set(opened.map((d) => d.headers['x-portwatch-delivery'])).size).toBe(1);
    expect(verifyWebhook(SECRET, Number(ok.headers['x-portwatch-timestamp']), ok.body, String(ok.headers['x-portwatch-signature']))).toBe(true);
    expect(verifyWebhook('another secret', Number(ok.headers['x-portwatch-timestamp']), ok.body, String(ok.headers['x-portwatch-signature']))).toBe(false);
  }, 60_000);

  it('escalates an alert nobody acknowledged with a real delayed job, and announces it again', async () => {
    const { alerts } = await listAlerts(store, { camera: 'yard-1' });
    const escalated = await until('escalation', async () => {
      const a = await getAlert(store, alerts[0]!.id);
      return a && a.escalations >= 1 ? a : null;
    });
    expect(escalated.priority).toBe(1);
    expect(escalated.history.map((h) => h.action)).toContain('escalated');
    await until('the escalated board message', async () => (await boardMessages()).some((m) => (m.data as AlertMessage).id === escalated.id && (m.data as AlertMessage).change === 'escalated'));
  }, 30_000);

  it('a shelved alert unshelves itself when its time runs out (delayed job), recorded in its history', async () => {
    await publisher.publishMany(person('yard-2', 7, 20, 25));
    const a = await until('the yard-2 alert', async () => (await listAlerts(store, { camera: 'yard-2' })).alerts[0]);
    const s = await shelveAlert(store, a.id, { by: 'li.wei', reason: 'crew testing the fence', forMs: 1_500, maxMs: 3_600_000 });
    await service.scheduleUnshelve(s.alert);
    const done = await until('unshelved', async () => {
      const d = await getAlert(store, a.id);
      return d?.history.some((h) => h.action === 'unshelved') ? d : null;
    });
    expect(done.shelved).toBe(false);
    expect(done.history.find((h) => h.action === 'unshelved')?.actor).toBe('system');
    await until('the unshelved board message', async () => (await boardMessages()).some((m) => (m.data as AlertMessage).id === a.id && (m.data as AlertMessage).change === 'unshelved'));
  }, 30_000);

  it('camera health goes to the board and to a retained MQTT topic a late subscriber still gets', async () => {
    const since = at(30).toISOString();
    await publisher.publish({ id: eventId(run, 'camera_health', 'yard-2', 'camera_offline', since, 'start'), time: at(31), kind: 'camera_offline', phase: 'start', camera: 'yard-2', details: { since } });
    await until('the camera board message', async () => (await boardMessages()).some((m) => m.type === 'camera' && (m.data as { camera: string }).camera === 'yard-2'));
    const late = await mqtt.connectAsync(testMqttUrl());
    const retained = new Promise<{ state: string; retain: boolean }>((resolve) => late.on('message', (_t, p, packet) => p.length > 0 && resolve({ ...JSON.parse(p.toString()), retain: packet.retain })));
    await late.subscribeAsync(`${topic}/cameras/yard-2/state`, { qos: 1 });
    const got = await retained;
    expect(got).toMatchObject({ state: 'offline', retain: true });
    await late.unsubscribeAsync(`${topic}/cameras/yard-2/state`);
    // Leave the broker as found: an empty retained message deletes the retained state.
    await late.publishAsync(`${topic}/cameras/yard-2/state`, '', { retain: true });
    await late.endAsync();
  }, 30_000);

  it('a webhook that never answers 2xx is dead-lettered after its attempts and counted', async () => {
    // Only critical alerts take the `dead` route.
    service['o'].site.alerts.rules[1]!.severity = 'critical';
    // B1 has a vessel scheduled 2026-12-06 08:00–20:00, which suppresses cargo alerts: the event
    // is dated the day before so that the test does not depend on the hour it runs at.
    await publisher.publish({ id: eventId(run, 'cargo'), time: new Date('2026-12-05T12:00:00Z'), kind: 'cargo_movement', phase: 'instant', camera: 'dock-1', zone: 'apron', track: 1, class: 'truck' });
    const dead = await until('the dead letter', async () => ((await service.deadLetters()).dead ?? 0) >= 1 && service.deadLetters());
    expect(dead).toEqual({ duty: 0, dead: 1 });
    expect(broken.got.map((g) => g.status)).toEqual([500, 500]);
  }, 30_000);

  it('events delivered out of order, concurrently and twice give the same stored alerts as in order', async () => {
    const events = [...person('yard-1', 11, 100, 110), ...person('yard-1', 12, 115, 120), ...person('yard-1', 13, 300, 305), ...person('yard-2', 14, 104, 130)];
    const reference = new AlertEngine({ site: alertsSite() });
    const last = new Map<string, DerivedAlert>();
    for (const e of events) for (const c of reference.ingest(e)) last.set(c.alert.id, c.alert);
    const want = [...last.values()].filter((a) => !a.merged_into);
    const rand = prng(7);
    const noisy = [...events, ...events.filter(() => rand() < 0.6)].sort(() => rand() - 0.5);
    for (let i = 0; i < noisy.length; i += 5) await Promise.all(noisy.slice(i, i + 5).map((e) => service.handle(e)));
    for (const w of want) {
      const got = await until(`alert ${w.id}`, () => getAlert(store, w.id));
      expect(got.objects.map((o) => o.track)).toEqual(w.objects.map((o) => o.track));
      expect([got.first.toISOString(), got.last.toISOString(), got.active]).toEqual([w.first.toISOString(), w.last.toISOString(), w.active]);
    }
    const ids = (await listAlerts(store, { since: at(100), until: at(400) })).alerts.map((a) => a.id).sort();
    expect(ids).toEqual(want.map((w) => w.id).sort());
  }, 30_000);
});

describe('alerts stored behind the queue (group commit)', () => {
  /** The store, refusing every transaction while `down` is set, as a stopped database does. */
  function switchable(target: Store) {
    const state = { down: false, refused: 0 };
    const store = new Proxy(target, {
      get(t, k) {
        if (k === 'transaction' && state.down) {
          return async () => {
            state.refused++;
            throw new Error('connect ECONNREFUSED 127.0.0.1:5432 (database stopped by the test)');
          };
        }
        const v = Reflect.get(t, k, t) as unknown;
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    return { store, state };
  }

  it('a store that refuses writes holds the events on their queue; what it never wrote, the next start rebuilds from the events table and announces', async () => {
    const p = `${prefix}-outage`;
    const db = await openStore({ dataDir: 'memory://', logger });
    await migrate(db, { logger });
    const { store: flaky, state } = switchable(db);
    // People on eight cameras, stored as the spine stores events before it publishes them.
    const events = Array.from({ length: 8 }, (_, i) => person(`yard-${i + 1}`, 400 + i, 10 + i, 20 + i)).flat();
    await db.insertRows('events', eventsTable.columns, events.map(eventsTable.toRow));
    const reference = new AlertEngine({ site: alertsSite() });
    const want = new Map<string, DerivedAlert>();
    for (const e of events) for (const c of reference.ingest(e)) want.set(c.alert.id, c.alert);
    expect(want.size).toBe(8);

    state.down = true;
    const first = alertsWorker(flaky, p, { concurrency: 2, storeRetryMs: 100, rebuildMs: 0 });
    await first.start();
    const queue = new EventQueue({ connection: new Redis(testRedisUrl(), { maxRetriesPerRequest: null }), logger, prefix: p });
    await queue.publishMany(events);
    await until('the first refused write', () => state.refused > 0);
    await new Promise((r) => setTimeout(r, 500));
    // Held: once the store refused, no further event was taken off the queue.
    const counts = await queue.queue.getJobCounts('waiting', 'active', 'completed');
    expect(counts.waiting! + counts.active!).toBeGreaterThan(0);
    expect(counts.completed).toBeLessThan(events.length);
    expect(first.stats.store_failures).toBeGreaterThan(1);
    // A crash now: what was folded is not in the store.
    await first.stop({ force: true });
    expect((await listAlerts(db, {})).alerts).toHaveLength(0);

    // The database is back; a new worker rebuilds from the events table, then takes the rest from the queue.
    state.down = false;
    const second = alertsWorker(flaky, p, { concurrency: 2 });
    await second.start();
    try {
      for (const w of want.values()) {
        const got = await until(`alert ${w.id}`, () => getAlert(db, w.id));
        expect([got.first.toISOString(), got.last.toISOString(), got.active, got.objects.map((o) => o.track)]).toEqual([w.first.toISOString(), w.last.toISOString(), w.active, w.objects.map((o) => o.track)]);
      }
      await until('the queue drained', async () => {
        const c = await queue.queue.getJobCounts('waiting', 'active', 'delayed');
        return c.waiting! + c.active! + c.delayed! === 0;
      });
      await second.settled();
      const opened = (await second.board.read('0', { count: 1000 })).messages.filter((m) => (m.data as AlertMessage).change === 'opened').map((m) => (m.data as AlertMessage).id);
      expect(opened.sort()).toEqual([...want.keys()].sort());
      expect(second.stats.rebuilt_from_events).toBe(events.length);
    } finally {
      await second.stop();
      await queue.close();
      await db.close();
      const keys = await redis.keys(`${p}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  }, 60_000);

  it('under load, several changes of one alert are one write and one board message; the stored alert is the last state', async () => {
    const p = `${prefix}-load`;
    const db = await openStore({ dataDir: 'memory://', logger });
    await migrate(db, { logger });
    const w = alertsWorker(db, p, { batchMs: 200, rebuildMs: 0 });
    await w.start();
    try {
      // One person with many updates, all folded within one batch window.
      const id = eventId(run, 'yard-1', 'load', 1);
      const base = { id, kind: 'unauthorized_access' as const, camera: 'yard-1', zone: 'fence', track: 900, class: 'person', score: 0.9 };
      const phases: PortEvent[] = [{ ...base, time: at(500), phase: 'start' }, ...Array.from({ length: 30 }, (_, i) => ({ ...base, time: at(501 + i), phase: 'update' as const })), { ...base, time: at(540), phase: 'end' }];
      for (const e of phases) await w.handle(e);
      await w.settled();
      expect(w.stats.store_rows).toBe(1);
      const alerts = (await listAlerts(db, {})).alerts;
      expect(alerts).toHaveLength(1);
      expect([alerts[0]!.last.toISOString(), alerts[0]!.active]).toEqual([at(540).toISOString(), false]);
      const board = (await w.board.read('0', { count: 100 })).messages.filter((m) => m.type === 'alert');
      expect(board).toHaveLength(1);
      expect((board[0]!.data as AlertMessage).cause).toBe(`${id}.end`);
    } finally {
      await w.stop();
      await db.close();
      const keys = await redis.keys(`${p}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  }, 30_000);
});
