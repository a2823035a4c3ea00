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

/**
 * Types that decode.ts builds with the same keys in the same order share one
 * serializer (1–3, class A positions; 4 and 11): one function for the JIT to
 * warm up instead of one per type, which counts on a short file.
 */
const SAME_KEYS_AS: Record<number, number> = { 2: 1, 3: 1, 11: 4 };

function shapeKey(m: AisMessage): number {
  return (SAME_KEYS_AS[m.type] ?? m.type) * 4 + (m.scaled ? 2 : 0) + (m.device === undefined ? 0 : 1);
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

/**
 * The same JSON written straight into bytes, for `ais decode`: no string is
 * built per message. Integers are written digit by digit, strings needing no
 * escape byte by byte; everything else goes through the text writers above,
 * so the bytes are those of JSON.stringify encoded as UTF-8.
 */
type ByteSerializer = (m: AisMessage, b: Uint8Array, p: number) => number;
const compiledBytes = new Map<number, ByteSerializer | null>();
/** Keys whose values come from a short table (class, device, legends): their bytes are cached. */
const LEGEND_KEY = /^(class|device)$|_text$/;

/** Room a message needs at most in `writeMessageJson` (the fixed shapes are far smaller). */
export const MESSAGE_JSON_ROOM = 16384;

function putAscii(b: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/** Text that may hold any character, as UTF-8; a RangeError when it might not fit (never cut short). */
function putText(b: Uint8Array, p: number, s: string): number {
  if (p + s.length * 3 > b.length) throw new RangeError(`no room for ${s.length} characters of JSON`);
  return p + Buffer.from(b.buffer, b.byteOffset, b.byteLength).write(s, p, 'utf8');
}

function putInt(b: Uint8Array, p: number, v: number): number {
  if (v < 0) {
    b[p++] = 45;
    v = -v;
  }
  if (v < 10) {
    b[p++] = 48 + v;
    return p;
  }
  let d = 10;
  while (d * 10 <= v) d *= 10;
  for (; d >= 1; d /= 10) {
    const q = (v / d) | 0;
    b[p++] = 48 + q;
    v -= q * d;
  }
  return p;
}

/**
 * A number as String(v) writes it. Tenths (speeds, courses) and hundredths
 * (rates of turn) are written from their integer: when k/10 === v, v is the
 * double nearest k/10 and its shortest round-trip form is that decimal (the
 * same for k/100 when no tenth is v). String(v), which the rest takes, costs
 * several times more.
 */
function putNumber(b: Uint8Array, p: number, v: number): number {
  if ((v | 0) === v) return putInt(b, p, v);
  const k = Math.round(v * 10);
  if (k / 10 === v && k > -2e10 && k < 2e10) {
    let a = k;
    if (a < 0) {
      b[p++] = 45;
      a = -a;
    }
    const whole = Math.floor(a / 10);
    p = putInt(b, p, whole);
    b[p++] = 46;
    b[p++] = 48 + (a - whole * 10);
    return p;
  }
  const h = Math.round(v * 100);
  if (h / 100 === v && h > -2e10 && h < 2e10) {
    let a = h;
    if (a < 0) {
      b[p++] = 45;
      a = -a;
    }
    const whole = Math.floor(a / 100);
    const cents = a - whole * 100;
    p = putInt(b, p, whole);
    b[p++] = 46;
    b[p++] = 48 + Math.floor(cents / 10);
    b[p++] = 48 + (cents % 10);
    return p;
  }
  return putAscii(b, p, Number.isFinite(v) ? String(v) : 'null');
}

/** Encoded JSON of legend strings (status_text, shiptype_text, …), which repeat message after message. */
const legends = new Map<string, Uint8Array>();

function putLegend(b: Uint8Array, p: number, v: unknown): number {
  if (typeof v !== 'string') return putValue(b, p, v);
  let bytes = legends.get(v);
  if (bytes === undefined) {
    if (legends.size >= 4096 || NEEDS_ESCAPE.test(v)) return putValue(b, p, v);
    bytes = Buffer.from(`"${v}"`, 'latin1');
    legends.set(v, bytes);
  }
  b.set(bytes, p);
  return p + bytes.length;
}

function putValue(b: Uint8Array, p: number, v: unknown): number {
  switch (typeof v) {
    case 'number':
      return putNumber(b, p, v);
    case 'string':
      if (!NEEDS_ESCAPE.test(v)) {
        b[p++] = 34;
        p = putAscii(b, p, v);
        b[p++] = 34;
        return p;
      }
      return putText(b, p, JSON.stringify(v));
    case 'boolean':
      return putAscii(b, p, v ? 'true' : 'false');
    default:
      return putText(b, p, JSON.stringify(v) ?? 'null');
  }
}

function compileBytes(m: AisMessage): ByteSerializer | null {
  const keys = Object.keys(m);
  if (!keys.every((k) => SIMPLE_KEY.test(k))) return null;
  const prefixes = keys.map((k, i) => Buffer.from(`${i === 0 ? '{' : ','}"${k}":`, 'latin1'));
  const body = keys
    .map((k, i) => {
      const v = `m.${k}`;
      const prefix = `b.set(K${i}, p); p += ${prefixes[i]!.length};`;
      if (typeof m[k] === 'number') return `${prefix} p = ((${v} | 0) === ${v}) ? putInt(b, p, ${v}) : putValue(b, p, ${v});`;
      if (LEGEND_KEY.test(k)) return `${prefix} p = putLegend(b, p, ${v});`;
      return `${prefix} p = putValue(b, p, ${v});`;
    })
    .join('\n');
  const factory = new Function(...keys.map((_, i) => `K${i}`), 'putInt', 'putValue', 'putLegend', `return function (m, b, p) {\n${body}\nb[p++] = 125;\nreturn p;\n};`) as (
    ...args: unknown[]
  ) => ByteSerializer;
  return factory(...prefixes, putInt, putValue, putLegend);
}

/**
 * Write the JSON of `m` (then `extra` fields, as messageJsonWith) into `b` at
 * `p`; returns the position after it. The caller leaves MESSAGE_JSON_ROOM
 * bytes; a message that could need more throws a RangeError before writing
 * past them (write it as text instead).
 */
/** A value's JSON bytes as writeMessageJson writes them (tests compare it with JSON.stringify). */
export function writeJsonValue(v: unknown, b: Uint8Array, p: number): number {
  return putValue(b, p, v);
}

export function writeMessageJson(m: AisMessage, b: Uint8Array, p: number, extra?: Record<string, unknown>): number {
  let s: ByteSerializer | null | undefined = null;
  if (FIXED_SHAPE.has(m.type)) {
    const key = shapeKey(m);
    s = compiledBytes.get(key);
    if (s === undefined) {
      s = compileBytes(m);
      compiledBytes.set(key, s);
    }
  }
  if (extra === undefined) return s !== null ? s(m, b, p) : putText(b, p, messageJson(m));
  if (s === null) return putText(b, p, messageJsonWith(m, extra));
  const end = s(m, b, p);
  let q = end - 1; // over the closing brace
  let any = false;
  for (const k in extra) {
    const v = extra[k];
    if (v === undefined) continue;
    any = true;
    b[q++] = 44;
    q = putValue(b, q, k);
    b[q++] = 58;
    q = putValue(b, q, v);
  }
  if (!any) return end;
  b[q++] = 125;
  return q;
}
