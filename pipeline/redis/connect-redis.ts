import { Redis } from 'ioredis';
import type { Logger } from '../log/index.js';
import { RedisOutageTracker, type RedisState } from './redis-outages.js';
import { redisOptionsFromUrl } from './redis-url.js';

// One tracker per process: that is the point of it (N connections, one warning).
// Callers that want their own (tests with two simulated processes) pass `outages`.
let processOutages: RedisOutageTracker | null = null;

/** The outage tracker every connection of this process reports to by default. */
export function processRedisOutages(): RedisOutageTracker {
  return (processOutages ??= new RedisOutageTracker());
}

/** 1 while this process reaches Redis, 0 during an outage: the `redis_up` gauge. */
export function redisUp(outages: RedisOutageTracker = processRedisOutages()): boolean {
  return outages.up;
}

export function redisState(outages: RedisOutageTracker = processRedisOutages()): RedisState {
  return outages.state();
}

export interface ConnectRedisOptions {
  /** `redis://[user[:password]@]host[:port][/db]` or `rediss://…` for TLS. */
  url: string;
  logger: Logger;
  /** What this connection is for (`leases`, `events-queue`): names it in logs and in Redis CLIENT LIST. */
  name: string;
  /** Default: the process's tracker. */
  outages?: RedisOutageTracker;
  /** Where the URL came from, for errors (default `REDIS_URL`). */
  source?: string;
  /** Longest wait between reconnect attempts. Default 2000 ms: Redis back means work resumes within 2 s. */
  maxReconnectDelayMs?: number;
}

let serial = 0;

/**
 * The one way portwatch opens Redis. The connection:
 * - takes everything from the URL (database, user, TLS) through `redisOptionsFromUrl`;
 * - has `maxRetriesPerRequest: null`, which BullMQ requires and which makes a
 *   command wait for Redis to return instead of failing after 20 retries;
 * - always has an error listener (an ioredis connection without one prints an
 *   "Unhandled error event" stack per reconnect attempt);
 * - reports loss and return to the process's outage tracker, which logs one
 *   warning and one info line per outage whatever the number of connections.
 */
export function connectRedis(o: ConnectRedisOptions): Redis {
  const options = redisOptionsFromUrl(o.url, o.source ?? 'REDIS_URL');
  const outages = o.outages ?? processRedisOutages();
  const name = `${o.name}#${++serial}`;
  const log = o.logger;
  const cap = o.maxReconnectDelayMs ?? 2_000;
  const redis = new Redis({
    ...options,
    connectionName: `portwatch:${o.name}`,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 10), cap),
  });
  watchRedis(redis, name, log, outages);
  return redis;
}

/**
 * Reports a connection's loss and return to `outages` and keeps its errors
 * off the console. Exported for connections made by `redis.duplicate()`.
 */
export function watchRedis(redis: Redis, name: string, logger: Logger, outages: RedisOutageTracker = processRedisOutages()): void {
  outages.register(name);
  let lastError: string | null = null;
  redis.on('error', (err: Error) => {
    lastError = describeRedisError(err);
    outages.lost(name, lastError, logger);
    logger.debug({ connection: name, err: lastError }, 'Redis connection error');
  });
  // 'reconnecting' only follows a close that was not asked for (quit and disconnect end without it).
  redis.on('reconnecting', () => outages.lost(name, lastError ?? 'connection closed', logger));
  redis.on('ready', () => {
    lastError = null;
    outages.ready(name, logger);
  });
  redis.on('end', () => outages.unregister(name));
}

/** A one-line reason from an ioredis or socket error (`ECONNREFUSED 127.0.0.1:6390`). */
export function describeRedisError(err: Error & { code?: string }): string {
  const agg = (err as { errors?: Array<Error & { code?: string }> }).errors;
  const first = agg && agg.length > 0 ? agg[0]! : err;
  return first.message || first.code || first.name;
}

/** True for errors that only say Redis is unreachable (logged once by the tracker, not per occurrence). */
export function isRedisConnectionError(err: Error & { code?: string }): boolean {
  const code = err.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  return /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Stream isn't writeable|connect ETIMEDOUT|Socket closed/i.test(err.message ?? '');
}

/**
 * Keeps a BullMQ Queue, Worker or QueueEvents from emitting an unhandled
 * 'error': connection errors are left to the outage tracker (its own
 * connections report them once), anything else is a warning.
 */
export function quietBullmqErrors(emitter: { on(event: 'error', listener: (err: Error) => void): unknown }, logger: Logger, what: string): void {
  emitter.on('error', (err: Error) => {
    if (isRedisConnectionError(err)) logger.debug({ err: describeRedisError(err) }, `${what}: Redis connection error`);
    else logger.warn({ err }, `${what}: Redis error`);
  });
}
