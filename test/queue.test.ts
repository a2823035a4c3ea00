import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { EventQueue, consumeEvents, eventJobId, reviveEvent, type EventConsumer, type EventJobInfo } from '../pipeline/queue/index.js';
import { testRedisUrl } from './helpers/services.js';

const redisUrl = new URL(testRedisUrl());
const connection = { host: redisUrl.hostname, port: Number(redisUrl.port) };
const redis = new Redis(connection);
const prefixes: string[] = [];
const closers: Array<() => Promise<void>> = [];

function setup(extra: { attempts?: number; backoffMs?: number } = {}) {
  const prefix = `pwtest-queue-${randomUUID()}`;
  prefixes.push(prefix);
  const name = 'events';
  const queue = new EventQueue({ connection, logger: silentLogger(), prefix, name, backoffMs: 20, ...extra });
  closers.push(() => queue.close());
  const consume = (handler: (e: PortEvent, info: EventJobInfo) => Promise<void>, concurrency = 2): EventConsumer => {
    const c = consumeEvents(handler, { connection, logger: silentLogger(), prefix, name, concurrency });
    closers.unshift(() => c.close());
    return c;
  };
  return { queue, consume, prefix };
}

function event(over: Partial<PortEvent> = {}): PortEvent {
  return {
    id: eventId('cam-017', 'zone-quay-3', 42, 'unauthorized_access'),
    time: new Date('2026-11-27T08:15:30.125Z'),
    kind: 'unauthorized_access',
    phase: 'start',
    camera: 'cam-017',
    zone: 'zone-quay-3',
    track: 42,
    class: 'person',
    score: 0.87,
    bbox: [10, 20, 110, 220],
    snapshot: 'snapshots/cam-017/42.jpg',
    details: { dwellSeconds: 12.5 },
    ...over,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

describe('EventQueue', () => {
  it('round-trips an event with its Date revived', async () => {
    const { queue, consume } = setup();
    const e = event();
    const jobId = await queue.publish(e);
    expect(jobId).toBe(`${e.id}.start`);
    const got: Array<[PortEvent, EventJobInfo]> = [];
    consume(async (ev, info) => void got.push([ev, info]));
    await until('one event consumed', () => got.length === 1);
    const [received, info] = got[0]!;
    expect(received.time).toBeInstanceOf(Date);
    expect(received.time.getTime()).toBe(e.time.getTime());
    expect(received).toEqual(e);
    expect(info).toEqual({ jobId, attempt: 1, attempts: 8 });
    const job = await queue.queue.getJob(jobId);
    expect(job?.name).toBe('unauthorized_access');
  });

  it('a re-delivered event makes one job; other phases and other updates make their own', async () => {
    const { queue, consume } = setup();
    const start = event();
    await queue.publish(start);
    await queue.publish({ ...start, time: new Date(start.time) });
    const u1 = event({ phase: 'update', time: new Date('2026-11-27T08:15:31Z') });
    const u2 = event({ phase: 'update', time: new Date('2026-11-27T08:15:32Z') });
    const end = event({ phase: 'end', time: new Date('2026-11-27T08:15:40Z') });
    const res = await queue.publishMany([u1, u2, u1, end, start]);
    expect(res.rejected).toEqual([]);
    expect(new Set(res.jobIds).size).toBe(4);
    expect(await queue.queue.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed')).toBe(4);

    const seen: string[] = [];
    consume(async (_e, info) => void seen.push(info.jobId));
    await until('four jobs done', () => seen.length === 4);
    // Still a duplicate after it was handled: the completed job is kept.
    await queue.publish(start);
    await sleep(300);
    expect(seen.sort()).toEqual([eventJobId(start), eventJobId(u1), eventJobId(u2), eventJobId(end)].sort());
    expect(await queue.queue.getJobCountByTypes('waiting', 'active', 'delayed')).toBe(0);
  });

  it('retries a failing handler with backoff until it succeeds', async () => {
    const { queue, consume } = setup({ attempts: 5, backoffMs: 30 });
    const e = event({ id: eventId('retry') });
    const jobId = await queue.publish(e);
    const attempts: number[] = [];
    const at: number[] = [];
    consume(async (_e, info) => {
      attempts.push(info.attempt);
      at.push(Date.now());
      if (info.attempt < 3) throw new Error('store not reachable');
    });
    await until('job completed', async () => (await queue.queue.getJobState(jobId)) === 'completed');
    expect(attempts).toEqual([1, 2, 3]);
    // Exponential: 30 ms, then 60 ms at least.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(30);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(60);
    const job = await queue.queue.getJob(jobId);
    expect(job?.attemptsMade).toBe(3);
  });

  it('gives up after the allowed attempts and keeps the job in the failed set', async () => {
    const { queue, consume } = setup({ attempts: 3, backoffMs: 10 });
    const jobId = await queue.publish(event({ id: eventId('always-fails') }));
    let calls = 0;
    consume(async () => {
      calls++;
      throw new Error('handler broken');
    });
    await until('job failed', async () => (await queue.queue.getJobState(jobId)) === 'failed');
    expect(calls).toBe(3);
    const job = await queue.queue.getJob(jobId);
    expect(job?.failedReason).toBe('handler broken');
  });

  it('fails a job whose data is not an event at once, without retries, and keeps consuming', async () => {
    const { queue, consume } = setup({ attempts: 5 });
    const bad = await queue.queue.add('unauthorized_access', { id: 'x1', time: 'yesterday-ish', kind: 'unauthorized_access', phase: 'start' });
    const good = event({ id: eventId('after-bad') });
    await queue.publish(good);
    const handled: string[] = [];
    consume(async (e) => void handled.push(e.id), 1);
    await until('bad job failed', async () => (await queue.queue.getJobState(bad.id!)) === 'failed');
    await until('good job handled', () => handled.length === 1);
    expect(handled).toEqual([good.id]);
    const job = await queue.queue.getJob(bad.id!);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toContain('time "yesterday-ish" is not a date');
  });

  it('runs up to `concurrency` handlers at once', async () => {
    const { queue, consume } = setup();
    await queue.publishMany(Array.from({ length: 8 }, (_, i) => event({ id: eventId('concurrency', i) })));
    let active = 0;
    let maxActive = 0;
    let done = 0;
    consume(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(150);
      active--;
      done++;
    }, 3);
    await until('all 8 handled', () => done === 8);
    expect(maxActive).toBe(3);
  });

  it('refuses events that cannot be queued, with the field and reason, and queues the rest', async () => {
    const { queue } = setup();
    await expect(queue.publish(event({ time: new Date('nope') }))).rejects.toThrow(/time: not a valid Date/);
    const ok = event({ id: eventId('ok') });
    const res = await queue.publishMany([event({ id: 'a:b' }), ok, event({ phase: 'middle' as PortEvent['phase'] })]);
    expect(res.jobIds).toEqual([eventJobId(ok)]);
    expect(res.rejected.map((r) => r.reason)).toEqual([
      `id: "a:b" contains ':', which BullMQ job ids cannot hold`,
      'phase: "middle" is not one of start, update, end, instant',
    ]);
  });
});

describe('reviveEvent', () => {
  it('turns the JSON form back into a PortEvent', () => {
    const e = event();
    const back = reviveEvent(JSON.parse(JSON.stringify(e)));
    expect(back).toEqual(e);
    expect(() => reviveEvent(null)).toThrow(/not an object/);
    expect(() => reviveEvent({ id: 'x', time: '2026-11-27T00:00:00Z', kind: 'camera_offline', phase: 'later' })).toThrow(/phase "later"/);
  });
});
