import type { RedisOptions } from 'ioredis';

/** A Redis URL that cannot be used; the message names the part that is wrong and never the password. */
export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

const SHAPE = 'redis://[user[:password]@]host[:port][/db] (rediss:// for TLS)';

/** The URL with its password replaced, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/**
 * ioredis options from a Redis URL: host, port, database number, user,
 * password, and TLS for `rediss://`. Everything in one place so that no worker
 * parses a URL by hand and silently drops the database, the user or TLS.
 * `source` names where the URL came from (`REDIS_URL`, `--redis`) in errors.
 */
export function redisOptionsFromUrl(url: string, source = 'Redis URL'): RedisOptions {
  const shown = redactRedisUrl(url);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new RedisUrlError(`${source} "${shown}" has no scheme; expected ${SHAPE}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`${source} "${shown}" is not a URL; expected ${SHAPE}`);
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') {
    throw new RedisUrlError(`${source} "${shown}": scheme "${scheme}:" is not redis: or rediss:; expected ${SHAPE}`);
  }
  // IPv6 literals come bracketed from URL; ioredis wants them bare.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new RedisUrlError(`${source} "${shown}": the host is missing; expected ${SHAPE}`);
  let port = 6379;
  if (u.port !== '') {
    port = Number(u.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RedisUrlError(`${source} "${shown}": port "${u.port}" is not a number from 1 to 65535`);
  }
  const path = u.pathname.replace(/^\//, '');
  let db = 0;
  if (path !== '') {
    if (!/^\d+$/.test(path)) throw new RedisUrlError(`${source} "${shown}": database "${decodeURIComponent(path)}" is not a number (the path is the database: /0, /1, …)`);
    db = Number(path);
  }
  for (const key of u.searchParams.keys()) {
    throw new RedisUrlError(`${source} "${shown}": query parameter "${key}" is not understood; put the database in the path (/1) and use rediss:// for TLS`);
  }
  let username: string | undefined;
  let password: string | undefined;
  try {
    if (u.username !== '') username = decodeURIComponent(u.username);
    if (u.password !== '') password = decodeURIComponent(u.password);
  } catch {
    throw new RedisUrlError(`${source} "${shown}": the user or password has a bad %-escape; percent-encode reserved characters (@ as %40, : as %3A)`);
  }
  return {
    host,
    port,
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(scheme === 'rediss' ? { tls: { servername: host } } : {}),
  };
}
