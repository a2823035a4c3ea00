import type { Redis } from 'ioredis';
import { leaseKeys, parseLeaseToken } from './keys.js';

export interface LeaseHolder {
  worker: string;
  epoch: number;
  /** Remaining TTL in ms as Redis reports it. */
  ttlMs: number;
}

/**
 * Who holds which camera right now, straight from Redis (for `status` commands,
 * dashboards and tests). A camera nobody holds maps to null.
 */
export async function readLeaseHolders(redis: Redis, prefix: string, cameras: readonly string[]): Promise<Map<string, LeaseHolder | null>> {
  const keys = leaseKeys(prefix);
  const out = new Map<string, LeaseHolder | null>();
  if (cameras.length === 0) return out;
  const pipe = redis.pipeline();
  for (const c of cameras) pipe.get(keys.camera(c)).pttl(keys.camera(c));
  const res = (await pipe.exec()) ?? [];
  cameras.forEach((camera, i) => {
    const value = res[2 * i]?.[1];
    const ttl = res[2 * i + 1]?.[1];
    const parsed = typeof value === 'string' ? parseLeaseToken(value) : null;
    out.set(camera, parsed ? { ...parsed, ttlMs: typeof ttl === 'number' ? ttl : -1 } : null);
  });
  return out;
}

/** Workers whose registry entry has not expired (by Redis server time), sorted. */
export async function readLiveWorkers(redis: Redis, prefix: string): Promise<string[]> {
  const [sec, micro] = await redis.time();
  const now = Number(sec) * 1000 + Math.floor(Number(micro) / 1000);
  const live = await redis.zrangebyscore(leaseKeys(prefix).workers, `(${now}`, '+inf');
  return live.sort();
}
