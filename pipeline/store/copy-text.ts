/**
 * PostgreSQL COPY text format (the default COPY format): one line per row,
 * tab-separated, `\N` for NULL, backslash escapes. Arrays become array literals;
 * JSON columns must be passed as strings (the row mappers do that) because an
 * array value cannot tell a real[] column from a jsonb one.
 */

function escapeText(s: string): string {
  // Fast path: most values (ids, camera names, numbers) contain nothing to escape.
  if (!/[\\\t\n\r]/.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function arrayLiteral(values: unknown[]): string {
  const parts = values.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `"${String(v)}"`;
    const s = String(v);
    return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${parts.join(',')}}`;
}

/** One value in COPY text form; throws a TypeError/RangeError the caller turns into a row rejection. */
export function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  switch (typeof v) {
    case 'string':
      return escapeText(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 't' : 'f';
    default:
      if (v instanceof Date) return v.toISOString();
      if (Array.isArray(v)) return escapeText(arrayLiteral(v));
      return escapeText(JSON.stringify(v));
  }
}

/** One row as a COPY text line, newline included. */
export function copyLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    line += copyValue(values[i]);
  }
  return line + '\n';
}
