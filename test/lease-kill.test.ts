import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { readLeaseHolders, readLiveWorkers } from '../pipeline/lease/index.js';
import { testRedisUrl } from './helpers/services.js';

/**
 * The scale-out promise end to end: three real worker processes share 284
 * cameras with the production timings (TTL 10 s, heartbeat TTL/3); one is
 * SIGKILLed (no goodbye, its leases simply stop being renewed) and the two
 * survivors must hold every camera, exactly once, within 15 s.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const helper = 'test/helpers/lease-holder.ts';
const redis = new Redis(testRedisUrl());
const prefix = `pwtest:lease-kill:${randomUUID()}:`;
const cameras = Array.from({ length: 284 }, (_, i) => `cam-${String(i + 1).padStart(3, '0')}`);
const children: ChildProcess[] = [];
const heldBy = new Map<string, string[]>();
const stderrOf = new Map<string, string>();

function startHolder(worker: string): ChildProcess {
  // A fast release rate only speeds up the initial balance; the takeover does not depend on it.
  const child = spawn(process.execPath, ['--import', 'tsx', helper, '--prefix', prefix, '--worker', worker, '--cameras', '284', '--release-per-beat', '300', '--redis', testRedisUrl()], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  stderrOf.set(worker, '');
  child.stderr!.on('data', (d: Buffer) => stderrOf.set(worker, (stderrOf.get(worker)! + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as { worker: string; held: string[] };
    heldBy.set(msg.worker, msg.held);
  });
  return child;
}

/** Every camera reported by exactly one of `workers`, and by none of the others. */
function exactlyOnce(workers: string[]): boolean {
  const count = new Map<string, number>();
  for (const [w, held] of heldBy) {
    if (!workers.includes(w)) {
      if (held.length > 0) return false;
      continue;
    }
    for (const c of held) count.set(c, (count.get(c) ?? 0) + 1);
  }
  return count.size === cameras.length && cameras.every((c) => count.get(c) === 1);
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) {
      const state = [...heldBy].map(([w, h]) => `${w}:${h.length}`).join(' ');
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what} (held ${state}; stderr ${JSON.stringify([...stderrOf])})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(async () => {
  await Promise.all(
    children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map((c) => new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
        setTimeout(() => c.kill('SIGKILL'), 5_000).unref();
      })),
  );
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('camera lease takeover across processes', () => {
  it('after a SIGKILL, the survivors hold every camera exactly once within 15 s', async () => {
    const workers = ['w1', 'w2', 'w3'];
    for (const w of workers) startHolder(w);
    await waitFor(
      '3 workers sharing 284 cameras, 94–95 each',
      () => exactlyOnce(workers) && workers.every((w) => (heldBy.get(w)?.length ?? 0) >= 94),
      90_000,
    );
    const victim = 'w2';
    const victimCameras = heldBy.get(victim)!;
    expect(victimCameras.length).toBeGreaterThanOrEqual(94);

    const t0 = performance.now();
    children[1]!.kill('SIGKILL');
    const survivors = ['w1', 'w3'];
    // The victim cannot report any more; what it last said no longer counts.
    const afterKill = () => {
      heldBy.set(victim, []);
      return exactlyOnce(survivors);
    };
    await waitFor('survivors holding all 284 cameras', afterKill, 20_000);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(15_000);

    // Redis agrees: every camera held, by a survivor, by the one that says so.
    const holders = await readLeaseHolders(redis, prefix, cameras);
    for (const c of cameras) {
      const h = holders.get(c);
      expect(h, c).not.toBeNull();
      expect(heldBy.get(h!.worker), c).toContain(c);
    }
    expect(survivors.map((w) => heldBy.get(w)!.length)).toEqual([142, 142]);
    expect(await readLiveWorkers(redis, prefix)).toEqual(survivors);
    process.stdout.write(`lease takeover after SIGKILL: ${Math.round(elapsed)} ms for ${victimCameras.length} cameras\n`);
  }, 120_000);
});
