import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, strings
 * and numbers as JSON.stringify writes them, Dates as ISO 8601 strings. The same
 * value always gives the same text, whoever computes it, so its SHA-256 can be
 * recomputed by anyone (the audit chain, a draw's candidate list).
 * Refuses what JSON cannot say exactly (undefined inside arrays, NaN, Infinity,
 * functions, bigints) instead of writing something else.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(v: unknown, at: string): string {
  if (v === null) return 'null';
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new TypeError(`canonical JSON: invalid date at ${at}`);
    return JSON.stringify(v.toISOString());
  }
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonical JSON: ${v} at ${at} is not a JSON number`);
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => write(x, `${at}[${i}]`)).join(',')}]`;
      const keys = Object.keys(v as object)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write((v as Record<string, unknown>)[k], `${at}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: a ${typeof v} at ${at} has no JSON form`);
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
