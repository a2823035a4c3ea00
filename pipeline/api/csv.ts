import { Readable } from 'node:stream';

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. Objects as JSON. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // A leading =, +, - or @ would be run as a formula by a spreadsheet: prefix a quote (OWASP CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/**
 * A CSV document as a stream, pulled chunk by chunk from `chunks`: the next
 * query runs only when the client has taken the previous rows, so memory is
 * bounded by one chunk whatever the range.
 */
export function csvStream<R>(columns: readonly string[], chunks: AsyncIterable<R[]>, toValues: (row: R) => unknown[]): Readable {
  async function* lines() {
    yield csvLine(columns);
    for await (const rows of chunks) {
      let text = '';
      for (const r of rows) text += csvLine(toValues(r));
      if (text) yield text;
    }
  }
  return Readable.from(lines(), { objectMode: false, highWaterMark: 1 });
}
