import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { silentLogger } from '../pipeline/log/index.js';
import {
  CameraLeaseManager,
  acquireLeases,
  leaseKeys,
  preferences,
  readLeaseHolders,
  readLiveWorkers,
  releaseLeases,
  renewLeases,
  type CameraLeaseManagerOptions,
  type LeaseLostReason,
} from '../pipeline/lease/index.js';
import { testRedisUrl } from './helpers/services.js';

const redis = new Redis(testRedisUrl());
const prefixes: string[] = [];
const managers: CameraLeaseManager[] = [];
const clients: Redis[] = [];

function newPrefix(): string {
  const p = `pwtest:lease:${randomUUID()}:`;
  prefixes.push(p);
  return p;
}

function cams(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `cam-${String(i + 1).padStart(3, '0')}`);
}

function manager(opts: Omit<CameraLeaseManagerOptions, 'logger' | 'redis'> & { redis?: Redis }): CameraLeaseManager {
  const m = new CameraLeaseManager({ redis, logger: silentLogger(), ...opts });
  managers.push(m);
  return m;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(everyMs);
  }
}

/** Every camera held by exactly one of the managers (by their own account). */
function coveredExactlyOnce(ms: CameraLeaseManager[], cameras: string[]): boolean {
  const seen = new Map<string, number>();
  for (const m of ms) for (const c of m.heldCameras()) seen.set(c, (seen.get(c) ?? 0) + 1);
  return cameras.every((c) => seen.get(c) === 1) && seen.size === cameras.length;
}

/** Redis agrees with what each manager believes it holds. */
async function redisAgrees(prefix: string, ms: CameraLeaseManager[], cameras: string[]): Promise<void> {
  const holders = await readLeaseHolders(redis, prefix, cameras);
  for (const m of ms) {
    for (const c of m.heldCameras()) {
      expect(holders.get(c)?.worker, c).toBe(m.workerId);
      expect(holders.get(c)?.epoch, c).toBe(m.lease(c)?.epoch);
    }
  }
}

async function deletePrefix(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
  await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
});

afterAll(async () => {
  for (const p of prefixes) await deletePrefix(p);
  await redis.quit();
});

describe('lease scripts', () => {
  it('compare-and-extend never extends a lease someone else holds, and compare-and-delete never deletes it', async () => {
    const prefix = newPrefix();
    const keys = leaseKeys(prefix);
    const got = await acquireLeases(redis, keys, 'w1', 5_000, ['a', 'b'], 5);
    expect(got.map((g) => g.camera)).toEqual(['a', 'b']);
    expect(got[1]!.epoch).toBeGreaterThan(got[0]!.epoch);
    expect(await redis.get(keys.camera('a'))).toBe(`w1|${got[0]!.epoch}`);

    // "a" expires and a thief takes it; "b" stays ours.
    await redis.set(keys.camera('a'), 'thief|999', 'PX', 3_000);
    const renewed = await renewLeases(redis, keys, 60_000, got);
    expect(renewed).toEqual([false, true]);
    expect(await redis.get(keys.camera('a'))).toBe('thief|999');
    expect(await redis.pttl(keys.camera('a'))).toBeLessThanOrEqual(3_000);
    expect(await redis.pttl(keys.camera('b'))).toBeGreaterThan(50_000);

    // Gone entirely: renewal must not resurrect it.
    await redis.del(keys.camera('a'));
    expect(await renewLeases(redis, keys, 60_000, [got[0]!])).toEqual([false]);
    expect(await redis.exists(keys.camera('a'))).toBe(0);

    await redis.set(keys.camera('a'), 'thief|999', 'PX', 3_000);
    expect(await releaseLeases(redis, keys, got)).toEqual([false, true]);
    expect(await redis.get(keys.camera('a'))).toBe('thief|999');
    expect(await redis.exists(keys.camera('b'))).toBe(0);
  });

  it('acquires only free cameras, in the order given, up to the number wanted, with increasing epochs', async () => {
    const prefix = newPrefix();
    const keys = leaseKeys(prefix);
    await redis.set(keys.camera('c2'), 'other|1', 'PX', 5_000);
    const got = await acquireLeases(redis, keys, 'w1', 5_000, ['c3', 'c2', 'c1', 'c4'], 2);
    expect(got.map((g) => g.camera)).toEqual(['c3', 'c1']);
    expect(await redis.get(keys.camera('c2'))).toBe('other|1');
    expect(await redis.exists(keys.camera('c4'))).toBe(0);
    const again = await acquireLeases(redis, keys, 'w2', 5_000, ['c1', 'c3', 'c4'], 5);
    expect(again.map((g) => g.camera)).toEqual(['c4']);
    expect(again[0]!.epoch).toBeGreaterThan(Math.max(...got.map((g) => g.epoch)));
  });
});

describe('rendezvous preference', () => {
  it('gives every camera exactly one winner, and a joining worker only takes wins from others', () => {
    const cameras = cams(284);
    const three = ['w1', 'w2', 'w3'];
    const winners3 = new Map<string, string>();
    for (const w of three) for (const [c, p] of preferences(w, three, cameras)) if (p.rank === 0) winners3.set(c, w);
    expect(winners3.size).toBe(284);
    const four = [...three, 'w4'];
    let moved = 0;
    for (const w of four) {
      for (const [c, p] of preferences(w, four, cameras)) {
        if (p.rank !== 0) continue;
        if (winners3.get(c) !== w) {
          expect(w).toBe('w4');
          moved++;
        }
      }
    }
    // About a quarter move, all to the newcomer.
    expect(moved).toBeGreaterThan(40);
    expect(moved).toBeLessThan(110);
  });
});

describe('CameraLeaseManager', () => {
  it('spreads 284 cameras fairly over 3 workers, none shared', async () => {
    const prefix = newPrefix();
    const cameras = cams(284);
    const ms = ['w1', 'w2', 'w3'].map((workerId) => manager({ prefix, workerId, cameras, ttlMs: 3_000, heartbeatMs: 200 }));
    await Promise.all(ms.map((m) => m.start()));
    await waitFor('3 workers with 94–95 cameras each, covering all', () => coveredExactlyOnce(ms, cameras) && ms.every((m) => m.heldCameras().length >= 94), 20_000);
    for (const m of ms) {
      expect(m.heldCameras().length).toBeGreaterThanOrEqual(94);
      expect(m.heldCameras().length).toBeLessThanOrEqual(95);
      expect(m.liveWorkers()).toEqual(['w1', 'w2', 'w3']);
      expect(m.fairShare()).toBe(95);
    }
    await redisAgrees(prefix, ms, cameras);
    expect(await readLiveWorkers(redis, prefix)).toEqual(['w1', 'w2', 'w3']);
  });

  it('rebalances gradually when a 4th worker joins, moving cameras only to the newcomer', async () => {
    const prefix = newPrefix();
    const cameras = cams(284);
    // Long heartbeat: the test drives every beat itself, so each step is deterministic.
    const common = { prefix, cameras, ttlMs: 60_000, heartbeatMs: 20_000, joinDelayMs: 150, maxReleasePerBeat: 10 };
    const [w1, w2, w3] = ['w1', 'w2', 'w3'].map((workerId) => manager({ ...common, workerId })) as [CameraLeaseManager, CameraLeaseManager, CameraLeaseManager];
    await Promise.all([w1.start(), w2.start(), w3.start()]);
    await sleep(200);
    for (const m of [w1, w2, w3]) await m.beatNow();
    expect([w1, w2, w3].map((m) => m.heldCameras().length)).toEqual([95, 95, 94]);
    const before = new Map([w1, w2, w3].map((m) => [m.workerId, new Set(m.heldCameras())]));
    const releasedBy = new Map<string, number>();
    for (const m of [w1, w2, w3]) m.on('released', () => void releasedBy.set(m.workerId, (releasedBy.get(m.workerId) ?? 0) + 1));

    const w4 = manager({ ...common, workerId: 'w4' });
    let w4Acquired = 0;
    w4.on('acquired', () => void w4Acquired++);
    await w4.start();
    await w1.beatNow();
    // Over share by 24, but at most 10 per beat.
    expect(w1.fairShare()).toBe(71);
    expect(w1.heldCameras().length).toBe(85);

    const all = [w1, w2, w3, w4];
    await waitFor(
      '4 workers with 71 cameras each',
      async () => {
        for (const m of all) await m.beatNow();
        return coveredExactlyOnce(all, cameras) && all.every((m) => m.heldCameras().length === 71);
      },
      20_000,
      100,
    );
    for (const m of [w1, w2, w3]) {
      const was = before.get(m.workerId)!;
      // The old workers only gave cameras up; nothing moved between them.
      expect(m.heldCameras().every((c) => was.has(c))).toBe(true);
      expect(releasedBy.get(m.workerId)).toBe(was.size - 71);
    }
    expect(w4Acquired).toBe(71);
    await redisAgrees(prefix, all, cameras);
  });

  it('graceful stop hands cameras over at once (before the TTL), stopping them before deleting the keys', async () => {
    const prefix = newPrefix();
    const keys = leaseKeys(prefix);
    const cameras = cams(60);
    const ttlMs = 10_000;
    const ms = ['w1', 'w2', 'w3'].map((workerId) => manager({ prefix, workerId, cameras, ttlMs, heartbeatMs: 250 }));
    await Promise.all(ms.map((m) => m.start()));
    await waitFor('20 cameras each', () => coveredExactlyOnce(ms, cameras) && ms.every((m) => m.heldCameras().length === 20), 20_000);
    const [leaving, ...staying] = ms as [CameraLeaseManager, ...CameraLeaseManager[]];
    const itsCameras = leaving.heldCameras();
    const keyAtRelease: string[] = [];
    leaving.on('released', async (camera, lease) => {
      await sleep(50); // a camera takes a moment to stop
      if ((await redis.get(keys.camera(camera))) === lease.token) keyAtRelease.push(camera);
    });
    const t0 = performance.now();
    await leaving.stop();
    // Every lease was still ours while its camera was being stopped, and is gone after.
    expect(keyAtRelease.sort()).toEqual(itsCameras);
    const holders = await readLeaseHolders(redis, prefix, itsCameras);
    for (const c of itsCameras) expect(holders.get(c)?.worker ?? null).not.toBe('w1');
    expect(leaving.heldCameras()).toEqual([]);

    await waitFor('survivors hold all 60', () => coveredExactlyOnce(staying, cameras), ttlMs - 2_000);
    // Far sooner than expiry could have freed them.
    expect(performance.now() - t0).toBeLessThan(ttlMs);
    expect(staying.map((m) => m.heldCameras().length)).toEqual([30, 30]);
    expect(await readLiveWorkers(redis, prefix)).toEqual(['w2', 'w3']);
    await redisAgrees(prefix, staying, cameras);
  });

  it('a stolen lease is lost, not extended, and the camera is reported lost', async () => {
    const prefix = newPrefix();
    const keys = leaseKeys(prefix);
    const cameras = cams(5);
    const m = manager({ prefix, workerId: 'w1', cameras, ttlMs: 60_000, heartbeatMs: 20_000, joinDelayMs: 0 });
    const lost: Array<[string, LeaseLostReason]> = [];
    m.on('lost', (camera, _lease, reason) => void lost.push([camera, reason]));
    await m.start();
    expect(m.heldCameras()).toEqual(cameras);
    await redis.set(keys.camera('cam-003'), 'thief|1', 'PX', 4_000);
    await m.beatNow();
    expect(lost).toEqual([['cam-003', 'not-owned']]);
    expect(m.heldCameras()).toEqual(['cam-001', 'cam-002', 'cam-004', 'cam-005']);
    expect(await redis.get(keys.camera('cam-003'))).toBe('thief|1');
    expect(await redis.pttl(keys.camera('cam-003'))).toBeLessThanOrEqual(4_000);
    expect(await redis.pttl(keys.camera('cam-001'))).toBeGreaterThan(50_000);
  });

  it('honours capacity, follows camera list changes, and survives throwing listeners', async () => {
    const prefix = newPrefix();
    const keys = leaseKeys(prefix);
    const common = { prefix, ttlMs: 60_000, heartbeatMs: 20_000, joinDelayMs: 0 };
    const small = manager({ ...common, workerId: 'small', cameras: cams(10), capacity: 3 });
    small.on('acquired', () => {
      throw new Error('camera start blew up');
    });
    small.on('acquired', async () => {
      throw new Error('async camera start blew up');
    });
    await small.start();
    expect(small.heldCameras().length).toBe(3);
    const big = manager({ ...common, workerId: 'big', cameras: cams(10) });
    await big.start();
    expect(big.heldCameras().length).toBe(5); // ceil(10 / 2)
    await small.beatNow();
    expect(small.heldCameras().length).toBe(3); // still capped, despite a share of 5

    const released: string[] = [];
    small.on('released', (c) => void released.push(c));
    const [keep, ...dropped] = small.heldCameras() as [string, ...string[]];
    // The new list: one camera it holds, one new camera, and big's (all taken): the only free candidate is the new one.
    small.setCameras([keep, 'cam-new', ...big.heldCameras()]);
    await small.beatNow();
    await waitFor('removed cameras released and deleted', async () => (await redis.exists(...dropped.map((c) => keys.camera(c)))) === 0, 5_000);
    expect(released.sort()).toEqual(dropped);
    expect(small.heldCameras()).toEqual([keep, 'cam-new'].sort());
    expect((await readLeaseHolders(redis, prefix, ['cam-new'])).get('cam-new')?.worker).toBe('small');
  });

  for (const failure of ['stall', 'drop'] as const) {
    it(`Redis unreachable longer than the TTL (${failure}): cameras stop before anyone else starts them, and come back after`, async () => {
      const prefix = newPrefix();
      const cameras = cams(20);
      const ttlMs = 1_500;
      const proxy = await startRedisProxy();
      const viaProxy = new Redis({ port: proxy.port, host: '127.0.0.1', retryStrategy: () => 100, maxRetriesPerRequest: 3 });
      viaProxy.on('error', () => {});
      clients.push(viaProxy);
      try {
        const a = manager({ redis: viaProxy, prefix, workerId: 'a', cameras, ttlMs, heartbeatMs: 250 });
        const b = manager({ prefix, workerId: 'b', cameras, ttlMs, heartbeatMs: 250 });
        const lostAt = new Map<string, { t: number; epoch: number; reason: LeaseLostReason }>();
        const acquiredByB = new Map<string, { t: number; epoch: number }>();
        a.on('lost', (c, l, reason) => void lostAt.set(c, { t: performance.now(), epoch: l.epoch, reason }));
        b.on('acquired', (c, l) => void acquiredByB.set(c, { t: performance.now(), epoch: l.epoch }));
        await Promise.all([a.start(), b.start()]);
        await waitFor('10 cameras each', () => coveredExactlyOnce([a, b], cameras) && a.heldCameras().length === 10, 15_000);
        // Let a few renewals pass, so the deadlines come from renewals, not from the acquisition.
        await sleep(3 * 250);
        expect(a.heldCameras().length).toBe(10);
        const aHad = a.heldCameras();
        acquiredByB.clear();

        if (failure === 'stall') proxy.stall();
        else proxy.drop();
        await waitFor('b holds all 20', () => b.heldCameras().length === 20, 4 * ttlMs + 2_000);
        expect(a.heldCameras()).toEqual([]);
        for (const c of aHad) {
          const lost = lostAt.get(c);
          const taken = acquiredByB.get(c);
          expect(lost, c).toBeDefined();
          expect(lost!.reason).toBe('expired');
          expect(taken, c).toBeDefined();
          // a stopped the camera before b could start it, and b's epoch fences a's.
          expect(lost!.t).toBeLessThan(taken!.t);
          expect(taken!.epoch).toBeGreaterThan(lost!.epoch);
        }

        proxy.restore();
        await waitFor('a back with 10 cameras', () => coveredExactlyOnce([a, b], cameras) && a.heldCameras().length === 10, 15_000);
        await redisAgrees(prefix, [a, b], cameras);
      } finally {
        await Promise.all(managers.splice(0).map((m) => m.stop()));
        await proxy.close();
      }
    });
  }
});

describe('keepThroughOutage: cameras keep being watched without Redis', () => {
  it('partition: the cut-off worker keeps its cameras (no loss reported) while the other takes them; on return the higher epochs win', async () => {
    const prefix = newPrefix();
    const cameras = cams(12);
    const ttlMs = 1_500;
    const proxy = await startRedisProxy();
    const viaProxy = new Redis({ port: proxy.port, host: '127.0.0.1', retryStrategy: () => 100, maxRetriesPerRequest: null });
    viaProxy.on('error', () => {});
    clients.push(viaProxy);
    try {
      const a = manager({ redis: viaProxy, prefix, workerId: 'a', cameras, ttlMs, heartbeatMs: 250, keepThroughOutage: true });
      const b = manager({ prefix, workerId: 'b', cameras, ttlMs, heartbeatMs: 250, keepThroughOutage: true });
      const lostByA: Array<{ camera: string; reason: LeaseLostReason; t: number }> = [];
      a.on('lost', (camera, _l, reason) => void lostByA.push({ camera, reason, t: performance.now() }));
      await Promise.all([a.start(), b.start()]);
      await waitFor('6 cameras each', () => coveredExactlyOnce([a, b], cameras) && a.heldCameras().length === 6, 15_000);
      const aHad = a.heldCameras();
      const aEpochs = new Map(aHad.map((c) => [c, a.lease(c)!.epoch]));

      proxy.drop();
      await waitFor('b took all 12', () => b.heldCameras().length === 12, 4 * ttlMs + 2_000);
      // The cost of a partition: a still watches its 6 (it cannot know b took them), and says nothing was lost.
      await sleep(2 * ttlMs);
      expect(a.heldCameras()).toEqual(aHad);
      expect(lostByA).toEqual([]);
      for (const c of aHad) expect(b.lease(c)!.epoch).toBeGreaterThan(aEpochs.get(c)!);

      proxy.restore();
      // Back in touch: Redis holds b's keys (higher epochs), so a loses them as not-owned, then the share rebalances.
      await waitFor('a told its leases are gone', () => lostByA.length === 6, 10_000);
      expect(lostByA.every((l) => l.reason === 'not-owned')).toBe(true);
      expect(lostByA.map((l) => l.camera).sort()).toEqual(aHad);
      await waitFor('shared again, once each', () => coveredExactlyOnce([a, b], cameras) && a.heldCameras().length === 6, 15_000);
      await redisAgrees(prefix, [a, b], cameras);
    } finally {
      await Promise.all(managers.splice(0).map((m) => m.stop()));
      await proxy.close();
    }
  });

  it('alone through an outage longer than the TTL: nothing is stopped, and on return the expired keys are taken back under new epochs', async () => {
    const prefix = newPrefix();
    const cameras = cams(5);
    const ttlMs = 1_000;
    const proxy = await startRedisProxy();
    const viaProxy = new Redis({ port: proxy.port, host: '127.0.0.1', retryStrategy: () => 100, maxRetriesPerRequest: null });
    viaProxy.on('error', () => {});
    clients.push(viaProxy);
    try {
      const a = manager({ redis: viaProxy, prefix, workerId: 'solo', cameras, ttlMs, heartbeatMs: 200, keepThroughOutage: true });
      const events: string[] = [];
      a.on('lost', (c) => void events.push(`lost ${c}`));
      a.on('released', (c) => void events.push(`released ${c}`));
      await a.start();
      await waitFor('all 5 held', () => a.heldCameras().length === 5, 10_000);
      const before = new Map(cameras.map((c) => [c, a.lease(c)!.epoch]));
      const acquired: string[] = [];
      a.on('acquired', (c) => void acquired.push(c));

      proxy.stall();
      await waitFor('keys expired in Redis', async () => [...(await readLeaseHolders(redis, prefix, cameras)).values()].every((h) => h === null), 5_000);
      await sleep(ttlMs);
      expect(a.heldCameras()).toEqual(cameras);
      proxy.restore();
      await waitFor('keys back in Redis under solo', async () => {
        const h = await readLeaseHolders(redis, prefix, cameras);
        return cameras.every((c) => h.get(c)?.worker === 'solo');
      }, 10_000);
      expect(events).toEqual([]);
      expect(acquired).toEqual([]);
      for (const c of cameras) expect(a.lease(c)!.epoch).toBeGreaterThan(before.get(c)!);
      await redisAgrees(prefix, [a], cameras);
    } finally {
      await Promise.all(managers.splice(0).map((m) => m.stop()));
      await proxy.close();
    }
  });
});

/**
 * A TCP proxy in front of the real Redis, so one client can lose Redis without
 * touching the shared server: `stall()` stops forwarding (the connection looks
 * alive, replies never come: a half-open network), `drop()` cuts every
 * connection and refuses new ones, `restore()` ends both.
 */
async function startRedisProxy() {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let refusing = false;
  let stalled = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(new URL(testRedisUrl()).port), new URL(testRedisUrl()).hostname);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall() {
      stalled = true;
      for (const [c, u] of pairs) {
        c.unpipe(u);
        u.unpipe(c);
        c.pause();
        u.pause();
      }
    },
    drop() {
      refusing = true;
      for (const [c, u] of pairs) {
        c.destroy();
        u.destroy();
      }
      pairs.clear();
    },
    restore() {
      refusing = false;
      if (!stalled) return;
      stalled = false;
      for (const [c, u] of pairs) {
        c.pipe(u);
        u.pipe(c);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [c, u] of pairs) {
          c.destroy();
          u.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
