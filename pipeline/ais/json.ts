import type { AisMessage } from './types.js';

/**
 * Fast JSON text for decoded messages. JSON.stringify dominated the CLI's
 * profile, so for the message types whose key set is fixed (per type, scale
 * mode and presence of `device`) a serializer is compiled once from the
 * first message's keys and then builds the text by concatenation. Values keep
 * their runtime type check (turn/speed may be a number or a marker string).
 * Everything else goes through JSON.stringify. The output is byte-identical
 * to JSON.stringify (checked over all corpora in test/ais-decoder.test.ts).
 */

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function jsonValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'string':
      return jsonString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return JSON.stringify(v) ?? 'null';
  }
}

type Serializer = (m: AisMessage, value: (v: unknown) => string) => string;

/** Types whose decoded key set never varies (for a given scaled/device combination). */
const FIXED_SHAPE = new Set([1, 2, 3, 4, 5, 9, 10, 11, 12, 14, 18, 19, 21, 27]);
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const compiled = new Map<number, { serialize: Serializer; keyCount: number }>();

function compile(m: AisMessage): { serialize: Serializer; keyCount: number } | null {
  const keys = Object.keys(m);
  if (!keys.every((k) => SIMPLE_KEY.test(k))) return null;
  // Each value is written by an inline fast path for the type seen in the
  // first message, falling back to the generic writer for anything else.
  const body = keys
    .map((k, i) => {
      const prefix = JSON.stringify(`${i === 0 ? '{' : ','}"${k}":`);
      const v = `m.${k}`;
      switch (typeof m[k]) {
        case 'number':
          return `${prefix} + (typeof ${v} === "number" && ${v} === ${v} && ${v} !== Infinity && ${v} !== -Infinity ? "" + ${v} : value(${v}))`;
        case 'boolean':
          return `${prefix} + (${v} === true ? "true" : ${v} === false ? "false" : value(${v}))`;
        default:
          return `${prefix} + value(${v})`;
      }
    })
    .join(' + ');
  const serialize = new Function('m', 'value', `return ${body} + "}";`) as Serializer;
  return { serialize, keyCount: keys.length };
}

function shapeKey(m: AisMessage): number {
  return m.type * 4 + (m.scaled ? 2 : 0) + (m.device === undefined ? 0 : 1);
}

/** JSON text of one message, identical to JSON.stringify(m). */
export function messageJson(m: AisMessage): string {
  if (!FIXED_SHAPE.has(m.type)) return JSON.stringify(m);
  const key = shapeKey(m);
  let s = compiled.get(key);
  if (s === undefined) {
    const c = compile(m);
    if (c === null) return JSON.stringify(m);
    compiled.set(key, c);
    s = c;
  }
  return s.serialize(m, jsonValue);
}

/** JSON text of a message followed by extra fields (tag block metadata). */
export function messageJsonWith(m: AisMessage, extra: Record<string, unknown>): string {
  const base = messageJson(m);
  let tail = '';
  for (const k in extra) {
    const v = extra[k];
    if (v === undefined) continue;
    tail += `,${jsonString(k)}:${jsonValue(v)}`;
  }
  return tail === '' ? base : `${base.slice(0, -1)}${tail}}`;
}
