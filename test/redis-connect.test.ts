import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Queue, Worker } from 'bullmq';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../pipeline/log/index.js';
import { RedisOutageTracker, RedisUrlError, connectRedis, quietBullmqErrors, redisOptionsFromUrl } from '../pipeline/redis/index.js';
import { startPrivateRedis, type PrivateRedis } from '../scripts/demo/private-redis.js';

describe('redisOptionsFromUrl', () => {
  it('takes host, port, database, user, password and TLS from the URL', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6380/3')).toEqual({ host: '127.0.0.1', port: 6380, db: 3 });
    expect(redisOptionsFromUrl('redis://redis.port.example')).toEqual({ host: 'redis.port.example', port: 6379, db: 0 });
    expect(redisOptionsFromUrl('rediss://alerts:s%40cret@redis.port.example:6390/2')).toEqual({
      host: 'redis.port.example',
      port: 6390,
      db: 2,
      username: 'alerts',
      password: 's@cret',
      tls: { servername: 'redis.port.example' },
    });
    expect(redisOptionsFromUrl('redis://:only-password@[::1]:7000')).toEqual({ host: '::1', port: 7000, db: 0, password: 'only-password' });
  });

  it('names the bad part of a bad URL and never prints the password', () => {
    const bad: Array<[string, RegExp]> = [
      ['127.0.0.1:6379', /has no scheme; expected redis:\/\//],
      ['http://127.0.0.1:6379', /scheme "http:"/],
      ['redis://127.0.0.1:6379/x', /database "x" is not a number/],
      ['redis://127.0.0.1:6379/1/2', /database "1\/2" is not a number/],
      ['redis://127.0.0.1:0', /port "0" is not a number from 1 to 65535/],
      ['redis://127.0.0.1:6379?db=2', /query parameter "db" is not understood/],
      ['redis://user:hunter2@127.0.0.1:6379/x', /database "x"/],
      ['not a url at all', /has no scheme/],
      ['redis://exa mple:6379', /is not a URL/],
    ];
    for (const [url, reason] of bad) {
      let err: unknown;
      try {
        redisOptionsFromUrl(url, 'REDIS_URL');
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(RedisUrlError);
      expect((err as Error).message, url).toMatch(reason);
      expect((err as Error).message).toMatch(/^REDIS_URL /);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

/** Log lines as objects, from a real pino logger. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('connectRedis through an outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-redis-outage-'));
  let redisServer: PrivateRedis | null = null;
  afterAll(async () => {
    await redisServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs one warning and one info line for several connections and BullMQ, with no unhandled error event', async () => {
    redisServer = await startPrivateRedis(dir);
    const { logger, lines } = capturedLogger();
    const outages = new RedisOutageTracker();
    const consoleErrors: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void consoleErrors.push(a));
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const a = connectRedis({ url: redisServer.url, logger, name: 'leases', outages });
      const b = connectRedis({ url: redisServer.url, logger, name: 'events-queue', outages });
      const c = connectRedis({ url: `${redisServer.url}/2`, logger, name: 'db2', outages });
      const queue = new Queue('events', { connection: b, prefix: 'pwtest-outage' });
      quietBullmqErrors(queue, logger, 'events queue');
      const handled: string[] = [];
      const worker = new Worker('events', async (job) => void handled.push(job.id!), { connection: connectRedis({ url: redisServer.url, logger, name: 'consumer', outages }), prefix: 'pwtest-outage' });
      quietBullmqErrors(worker, logger, 'events consumer');
      await c.set('pw-db-check', 'two');
      expect(await a.get('pw-db-check')).toBeNull(); // database 0
      expect(await c.get('pw-db-check')).toBe('two');
      await queue.add('x', { n: 1 }, { jobId: 'before' });
      await until('job before outage handled', () => handled.includes('before'));
      expect(outages.up).toBe(true);

      await redisServer.kill();
      await until('outage noticed', () => !outages.up);
      // Work requested during the outage waits for Redis instead of failing.
      const pending = queue.add('x', { n: 2 }, { jobId: 'during' });
      await sleep(3_000); // several reconnect attempts by every connection
      expect(outages.up).toBe(false);
      redisServer = await startPrivateRedis(dir, { port: redisServer.port });
      await until('Redis back', () => outages.up);
      await pending;
      await until('job added during outage handled', () => handled.includes('during'));
      expect(await c.get('pw-db-check')).toBe('two'); // AOF brought it back

      const warnings = lines.filter((l) => l.level === 40);
      const infos = lines.filter((l) => l.level === 30 && /Redis/.test(String(l.msg)));
      expect(warnings.map((w) => w.msg)).toHaveLength(1);
      expect(String(warnings[0]!.msg)).toMatch(/Redis unreachable \(.*(ECONNRE|closed).*\)/);
      expect(infos).toHaveLength(1);
      expect(String(infos[0]!.msg)).toMatch(/^Redis back after \d+\.\d s$/);
      expect(Number(infos[0]!.awayMs)).toBeGreaterThanOrEqual(3_000);
      expect(outages.state().outages).toBe(1);

      await worker.close();
      await queue.close();
      for (const r of [a, b, c]) r.disconnect();
      await sleep(200);
      expect(outages.up).toBe(true); // closing on purpose is no outage
      expect(consoleErrors.filter((e) => /Unhandled error event/.test(String(e[0])))).toEqual([]);
      expect(uncaught).toEqual([]);
    } finally {
      spy.mockRestore();
      process.off('uncaughtException', onUncaught);
    }
  });
});
