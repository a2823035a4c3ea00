import { checksumMatches } from './checksum.js';

/**
 * NMEA 4.10 tag block (`\s:station,c:unixtime,g:1-2-1234*hh\` before a
 * sentence): where and when a sentence was received, and how sentences group.
 */
export interface TagBlock {
  /** s: source/station id. */
  station?: string;
  /** c: receive time, Unix seconds (milliseconds are accepted and converted). */
  time?: number;
  /** g (or legacy G): sentence number, group size, group id. */
  group?: { sentence: number; groupsize: number; id: number };
  /** d: destination id. */
  destination?: string;
  /** n: line count. */
  lineCount?: number;
  /** r: relative time. */
  relativeTime?: number;
  /** t: free text. */
  text?: string;
  /** Any other parameter, by its letter (e.g. libais/ORBCOMM `T`, `q`). */
  other?: Record<string, string>;
}

/**
 * Parse the tag block text between the two backslashes, `body` being
 * line[start, end). Returns null when the block is malformed or its checksum
 * is wrong. A block without `*hh` is accepted: several receivers omit it.
 */
export function parseTagBlock(line: string, start: number, end: number): TagBlock | null {
  let stop = end;
  const star = line.lastIndexOf('*', end - 1);
  if (star >= start) {
    if (star + 3 !== end || !checksumMatches(line, start, star)) return null;
    stop = star;
  }
  if (stop <= start) return null;
  const tb: TagBlock = {};
  let i = start;
  while (i < stop) {
    let comma = line.indexOf(',', i);
    if (comma < 0 || comma > stop) comma = stop;
    if (comma - i < 2 || line.charCodeAt(i + 1) !== 58 /* ':' */) return null;
    const key = line[i]!;
    const value = line.slice(i + 2, comma);
    switch (key) {
      case 's':
        tb.station = value;
        break;
      case 'c': {
        const n = Number(value);
        if (!Number.isFinite(n) || value === '') return null;
        // Some receivers write milliseconds.
        tb.time = n > 1e11 ? n / 1000 : n;
        break;
      }
      case 'g':
      case 'G': {
        const parts = value.split('-');
        if (parts.length !== 3) return null;
        const sentence = Number(parts[0]);
        const groupsize = Number(parts[1]);
        const id = Number(parts[2]);
        if (!Number.isInteger(sentence) || !Number.isInteger(groupsize) || !Number.isInteger(id)) return null;
        tb.group = { sentence, groupsize, id };
        break;
      }
      case 'd':
        tb.destination = value;
        break;
      case 'n': {
        const n = Number(value);
        if (!Number.isFinite(n)) return null;
        tb.lineCount = n;
        break;
      }
      case 'r': {
        const n = Number(value);
        if (!Number.isFinite(n)) return null;
        tb.relativeTime = n;
        break;
      }
      case 't':
        tb.text = value;
        break;
      default:
        (tb.other ??= {})[key] = value;
    }
    i = comma + 1;
  }
  return tb;
}

/** ISO 8601 form of a tag-block time, in libais' `tagblock_timestamp` style. */
export function tagTimeIso(seconds: number): string {
  const d = new Date(Math.round(seconds * 1000));
  if (Number.isNaN(d.getTime())) return '';
  const iso = d.toISOString(); // 2014-12-10T00:41:53.000Z
  const micros = String(Math.round((seconds - Math.floor(seconds)) * 1e6)).padStart(6, '0');
  return `${iso.slice(0, 19)}.${micros}Z`;
}

/** Flatten a tag block into `tagblock_*` JSON fields (libais naming). */
export function tagBlockFields(tb: TagBlock, into: Record<string, unknown>): void {
  if (tb.station !== undefined) into.tagblock_station = tb.station;
  if (tb.time !== undefined) {
    into.tagblock_timestamp = tagTimeIso(tb.time);
    into.tagblock_time = tb.time;
  }
  if (tb.group !== undefined) into.tagblock_group = { ...tb.group };
  if (tb.destination !== undefined) into.tagblock_destination = tb.destination;
  if (tb.lineCount !== undefined) into.tagblock_line_count = tb.lineCount;
  if (tb.relativeTime !== undefined) into.tagblock_relative_time = tb.relativeTime;
  if (tb.text !== undefined) into.tagblock_text = tb.text;
  if (tb.other !== undefined) for (const [k, v] of Object.entries(tb.other)) into[`tagblock_${k}`] = v;
}
