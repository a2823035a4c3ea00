import { createHash } from 'node:crypto';

/**
 * A deterministic id from the parts that make an event what it is. The same
 * detection replayed after a crash or a queue retry gets the same id, so the
 * store's `ON CONFLICT DO NOTHING` keeps exactly one row.
 */
export function eventId(...parts: Array<string | number | null | undefined>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p ?? '')).update('\u001f');
  // 128 bits as a UUID-shaped string: fits a `uuid` column and reads well in logs.
  const hex = h.digest('hex').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
