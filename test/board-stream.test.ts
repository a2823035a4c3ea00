import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { BoardStream, compareStreamIds } from '../pipeline/board/index.js';
import { testRedisUrl } from './helpers/services.js';

const redis = new Redis(testRedisUrl());
const prefixes: string[] = [];
const board = (maxLen?: number) => {
  const prefix = `test:board:${randomUUID()}:`;
  prefixes.push(prefix);
  return new BoardStream({ redis, prefix, ...(maxLen ? { maxLen } : {}) });
};

afterAll(async () => {
  for (const p of prefixes) await redis.del(`${p}board`);
  redis.disconnect();
});

describe('board stream', () => {
  it('appends typed messages and replays them after an id, as SSE resumes with Last-Event-ID', async () => {
    const b = board();
    const a1 = await b.append('alert', { id: 'a1', state: 'open' });
    const c1 = await b.append('camera', { camera: 'cam-1', state: 'offline' });
    const a2 = await b.append('alert', { id: 'a1', state: 'acknowledged' });
    expect(compareStreamIds(a1, c1)).toBeLessThan(0);
    const all = await b.read('0');
    expect(all.messages.map((m) => [m.type, m.data])).toEqual([
      ['alert', { id: 'a1', state: 'open' }],
      ['camera', { camera: 'cam-1', state: 'offline' }],
      ['alert', { id: 'a1', state: 'acknowledged' }],
    ]);
    expect(all.lastId).toBe(a2);
    expect(all.gap).toBe(false);
    const after = await b.read(c1);
    expect(after.messages.map((m) => m.id)).toEqual([a2]);
    expect(Number.isNaN(Date.parse(after.messages[0]!.time))).toBe(false);
    expect((await b.read(a2)).messages).toEqual([]);
    await expect(b.append('nonsense' as never, {})).rejects.toThrow(/not one of alert, camera, berth, dispatch/);
    await expect(b.read('yesterday')).rejects.toThrow(/not a stream id/);
    await b.close();
  });

  it('a blocking read from $ wakes on the next append', async () => {
    const b = board();
    await b.append('berth', { berth: 'b1', mmsi: 412345678, kind: 'berth_arrival' });
    const pending = b.read('$', { blockMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    const id = await b.append('dispatch', { inspection: 'i1' });
    const got = await pending;
    expect(got.messages.map((m) => [m.id, m.type])).toEqual([[id, 'dispatch']]);
    await b.close();
  });

  it('is bounded: old messages are trimmed and a reader that fell behind is told about the gap', async () => {
    const b = board(5);
    const ids: string[] = [];
    // Approximate trimming works on whole nodes of 100 entries: append well past that.
    for (let i = 0; i < 400; i++) ids.push(await b.append('alert', { n: i }));
    const len = await redis.xlen(b.key);
    expect(len).toBeLessThan(400);
    const behind = await b.read(ids[0]!, { count: 1 });
    expect(behind.gap).toBe(true);
    const fresh = await b.read(ids[398]!);
    expect(fresh.gap).toBe(false);
    expect(fresh.messages.map((m) => (m.data as { n: number }).n)).toEqual([399]);
    await b.close();
  });
});
