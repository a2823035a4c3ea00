import type { LineHandler, LineMeta } from './types.js';

/**
 * Hands lines to the handler in order. Stays synchronous while the handler
 * is, and only awaits when it returns a promise, so a fast handler costs no
 * microtask per line.
 */
export async function deliver(lines: string[], handler: LineHandler, meta: (line: string) => LineMeta): Promise<void> {
  for (const line of lines) {
    const r = handler(line, meta(line));
    if (r && typeof (r as Promise<void>).then === 'function') await r;
  }
}
