/**
 * Redis key names of the camera lease protocol. Every key starts with the
 * caller's prefix so a site, a staging copy and every test run live side by
 * side in one Redis. On Redis Cluster give the prefix a hash tag, e.g.
 * `{portwatch}:`, so the multi-key scripts land on one slot.
 */
export interface LeaseKeys {
  /** Sorted set: member = worker id, score = expiry in Redis server milliseconds. */
  workers: string;
  /** Counter: the fencing epoch, incremented on every acquisition of any camera. */
  epoch: string;
  /** String per camera: `<workerId>|<epoch>`, with PX = lease TTL. */
  camera(camera: string): string;
  /** Every key of the protocol starts with this (for SCAN-based cleanup and inspection). */
  base: string;
}

export function leaseKeys(prefix: string): LeaseKeys {
  const base = `${prefix}lease:`;
  return {
    base,
    workers: `${base}workers`,
    epoch: `${base}epoch`,
    camera: (camera: string) => `${base}camera:${camera}`,
  };
}

/** The value stored under a camera key: who holds it and under which epoch. */
export function leaseToken(workerId: string, epoch: number): string {
  return `${workerId}|${epoch}`;
}

export function parseLeaseToken(token: string): { worker: string; epoch: number } | null {
  const bar = token.lastIndexOf('|');
  if (bar <= 0) return null;
  const epoch = Number(token.slice(bar + 1));
  if (!Number.isSafeInteger(epoch) || epoch <= 0) return null;
  return { worker: token.slice(0, bar), epoch };
}
