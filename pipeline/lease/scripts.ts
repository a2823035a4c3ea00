import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { leaseToken, type LeaseKeys } from './keys.js';

/**
 * The lease protocol's Redis side. Every state change is one Lua script, so it
 * is atomic against every other worker: compare-and-extend, compare-and-delete
 * and "acquire if free" can never interleave with a competitor's write.
 * Times are Redis server time (`TIME`) and key TTLs, never a worker's clock, so
 * clock skew between machines does not matter.
 */

// Compare-and-extend: only a lease whose value is still exactly our token is
// extended; a lease that expired and was taken by someone else is left alone.
const RENEW_LOOP = `
local renewed = {}
for i = first, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i - first + tokens] then
    redis.call('PEXPIRE', KEYS[i], ttl)
    renewed[#renewed + 1] = 1
  else
    renewed[#renewed + 1] = 0
  end
end
`;

// The heartbeat's variant: a lease whose key is gone (it expired while Redis was
// unreachable, or Redis restarted without it) and that nobody took meanwhile is
// taken back by its holder under a fresh epoch, so a camera that kept running
// through an outage is not stopped and restarted. Someone else's key: lost.
// Flags: 1 renewed, 0 lost, -epoch taken back under that new epoch.
const BEAT_RENEW_LOOP = `
local renewed = {}
for i = first, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[i - first + tokens] then
    redis.call('PEXPIRE', KEYS[i], ttl)
    renewed[#renewed + 1] = 1
  elseif v == false and reclaim == 1 then
    local epoch = redis.call('INCR', epochKey)
    redis.call('SET', KEYS[i], ARGV[1] .. '|' .. epoch, 'PX', ttl)
    renewed[#renewed + 1] = -epoch
  else
    renewed[#renewed + 1] = 0
  end
end
`;

/**
 * One heartbeat: renew our leases first, then refresh our registry entry, so a
 * dead worker's leases never outlive its registry entry (both expire at the
 * same server instant). Whoever sees the worker gone also finds its cameras free.
 * KEYS: workers, epoch, lease…; ARGV: workerId, ttl, reclaim (1/0), token…
 * Returns { nowMs, [worker, expiryMs]…, renewed flags }.
 */
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local reclaim = tonumber(ARGV[3])
local epochKey = KEYS[2]
local first = 3
local tokens = 4
${BEAT_RENEW_LOOP}
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- An abandoned prefix (a test run, a decommissioned site) cleans itself up.
redis.call('PEXPIRE', KEYS[1], ttl * 6)
return { now, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES'), renewed }
`;

/** KEYS: lease…; ARGV: ttl, token… Returns renewed flags. */
const RENEW = `
local ttl = tonumber(ARGV[1])
local first = 1
local tokens = 2
${RENEW_LOOP}
return renewed
`;

/**
 * Take free cameras in the caller's preference order until `want` are taken.
 * Each acquisition is `SET key token NX PX ttl` with a fresh epoch from the
 * global counter: the epoch is the fencing token (strictly increasing per camera).
 * KEYS: epoch, lease…; ARGV: workerId, ttl, want. Returns [index, epoch, …] (index 0-based into lease keys).
 */
const ACQUIRE = `
local want = tonumber(ARGV[3])
local out = {}
local got = 0
for i = 2, #KEYS do
  if got >= want then break end
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local epoch = redis.call('INCR', KEYS[1])
    if redis.call('SET', KEYS[i], ARGV[1] .. '|' .. epoch, 'NX', 'PX', ARGV[2]) then
      out[#out + 1] = i - 2
      out[#out + 1] = epoch
      got = got + 1
    end
  end
end
return out
`;

/**
 * Compare-and-delete, optionally leaving the registry too (graceful stop).
 * KEYS: workers, lease…; ARGV: workerId or '', token… Returns released flags.
 */
const RELEASE = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
local out = {}
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    redis.call('DEL', KEYS[i])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`;

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = {
  beat: script(BEAT),
  renew: script(RENEW),
  acquire: script(ACQUIRE),
  release: script(RELEASE),
};

/** EVALSHA, falling back to EVAL once when the server has not cached the script (restart, SCRIPT FLUSH). */
async function run(redis: Redis, s: Script, keys: string[], args: Array<string | number>): Promise<unknown> {
  try {
    return await redis.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
      return await redis.eval(s.source, keys.length, ...keys, ...args);
    }
    throw err;
  }
}

/** A lease as a worker holds it: the camera, the fencing epoch and the exact value stored in Redis. */
export interface HeldToken {
  camera: string;
  token: string;
}

export interface BeatResult {
  /** Redis server time of the beat, ms since epoch. */
  serverTimeMs: number;
  /** Live worker ids, sorted (ours included). */
  liveWorkers: string[];
  /** Server ms until the first other worker's registry entry runs out (if it does not beat again); undefined when alone. */
  nextPeerExpiryMs: number | undefined;
  /** One flag per lease passed in, same order: true when it was still ours and is extended (or taken back). */
  renewed: boolean[];
  /** Per lease: the new epoch when its key was gone and it was taken back (`reclaim`), else null. */
  reclaimed: Array<number | null>;
}

export async function beat(
  redis: Redis,
  keys: LeaseKeys,
  workerId: string,
  ttlMs: number,
  leases: readonly HeldToken[],
  options: { reclaim?: boolean } = {},
): Promise<BeatResult> {
  const raw = (await run(
    redis,
    SCRIPTS.beat,
    [keys.workers, keys.epoch, ...leases.map((l) => keys.camera(l.camera))],
    [workerId, ttlMs, options.reclaim ? 1 : 0, ...leases.map((l) => l.token)],
  )) as [number, string[], number[]];
  const [serverTimeMs, flat, flags] = raw;
  const live: string[] = [];
  let next: number | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const w = flat[i] as string;
    live.push(w);
    if (w !== workerId) {
      const left = Number(flat[i + 1]) - serverTimeMs;
      next = next === undefined ? left : Math.min(next, left);
    }
  }
  return { serverTimeMs, liveWorkers: live.sort(), nextPeerExpiryMs: next, renewed: flags.map((f) => f !== 0), reclaimed: flags.map((f) => (f < 0 ? -f : null)) };
}

/** Compare-and-extend on its own (the beat does the same in one round trip with the heartbeat). */
export async function renewLeases(redis: Redis, keys: LeaseKeys, ttlMs: number, leases: readonly HeldToken[]): Promise<boolean[]> {
  if (leases.length === 0) return [];
  const flags = (await run(
    redis,
    SCRIPTS.renew,
    leases.map((l) => keys.camera(l.camera)),
    [ttlMs, ...leases.map((l) => l.token)],
  )) as number[];
  return flags.map((f) => f === 1);
}

export interface AcquiredLease {
  camera: string;
  epoch: number;
  token: string;
}

/** Acquire up to `want` of `candidates` (in that order of preference) that nobody holds. */
export async function acquireLeases(
  redis: Redis,
  keys: LeaseKeys,
  workerId: string,
  ttlMs: number,
  candidates: readonly string[],
  want: number,
): Promise<AcquiredLease[]> {
  if (want <= 0 || candidates.length === 0) return [];
  const flat = (await run(redis, SCRIPTS.acquire, [keys.epoch, ...candidates.map((c) => keys.camera(c))], [workerId, ttlMs, want])) as number[];
  const out: AcquiredLease[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const camera = candidates[flat[i] as number];
    const epoch = flat[i + 1] as number;
    if (camera !== undefined) out.push({ camera, epoch, token: leaseToken(workerId, epoch) });
  }
  return out;
}

/** Compare-and-delete; with `deregister` the worker also leaves the registry in the same atomic step. */
export async function releaseLeases(
  redis: Redis,
  keys: LeaseKeys,
  leases: readonly HeldToken[],
  deregister?: string,
): Promise<boolean[]> {
  if (leases.length === 0 && !deregister) return [];
  const flags = (await run(
    redis,
    SCRIPTS.release,
    [keys.workers, ...leases.map((l) => keys.camera(l.camera))],
    [deregister ?? '', ...leases.map((l) => l.token)],
  )) as number[];
  return flags.map((f) => f === 1);
}
