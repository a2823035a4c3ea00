import { checksumMatches, hexDigit } from './checksum.js';
import { parseTagBlock, type TagBlock } from './tag-block.js';

/** Longest line we look at; NMEA sentences are ≤ 82 bytes, tag blocks and trailers add some. */
export const MAX_LINE_LENGTH = 4096;

/**
 * Receive metadata appended after the checksum by US Coast Guard (N-AIS)
 * receivers: `...*hh,b003669794,1272412827` or
 * `...*hh,d-109,S2105,t050056.00,T56.13,r003669946,1325394060,1325394001`.
 */
export interface UscgTrailer {
  /** Receiving station id (the `r…`/`b…` field). */
  station?: string;
  /** Receive time, Unix seconds (first all-digit field after the station). */
  time?: number;
  /** Raw trailer text without the leading comma. */
  raw: string;
}

/** One NMEA sentence located in a line, checksum verified. */
export interface FramedSentence {
  /** The (trimmed) line the sentence sits in. */
  line: string;
  /** Index of the leading '!' or '$'. */
  start: number;
  /** Index of the '*' before the checksum. */
  star: number;
  /** Two-letter talker ('AI', 'BS', 'GP', ...; 'P' + maker for proprietary). */
  talker: string;
  /** Sentence formatter ('VDM', 'VDO', 'GGA', 'GHP', ...). */
  formatter: string;
  /** '!' (encapsulated, AIS) or '$'. */
  kind: '!' | '$';
  tagBlock?: TagBlock;
  /**
   * Set when a tag block was present but malformed or failed its checksum:
   * the sentence (which has its own checksum) is kept, the metadata dropped.
   */
  badTagBlock?: true;
  uscg?: UscgTrailer;
}

export type FrameError = 'checksum' | 'tag_block' | 'not_nmea' | 'line_length';

/** Strip CR/LF and surrounding blanks without a regex. */
export function trimLine(raw: string): string {
  let end = raw.length;
  while (end > 0) {
    const c = raw.charCodeAt(end - 1);
    if (c === 10 || c === 13 || c === 32 || c === 9 || c === 0) end--;
    else break;
  }
  let start = 0;
  while (start < end) {
    const c = raw.charCodeAt(start);
    if (c === 32 || c === 9 || c === 0 || c === 0xfeff) start++;
    else break;
  }
  return start === 0 && end === raw.length ? raw : raw.slice(start, end);
}

/** True for blank lines and '#' comments, which are skipped without counting as rejects. */
export function isSkippable(line: string): boolean {
  return line.length === 0 || line.charCodeAt(0) === 35; // '#'
}

/**
 * Locate and verify the sentence in a trimmed line. Handles a leading tag
 * block, receiver prefixes before the '!'/'$', and USCG trailing fields.
 */
export function frameSentence(line: string): FramedSentence | FrameError {
  if (line.length > MAX_LINE_LENGTH) return 'line_length';
  let pos = 0;
  let tagBlock: TagBlock | undefined;
  let badTagBlock = false;
  if (line.charCodeAt(0) === 92 /* '\' */) {
    const close = line.indexOf('\\', 1);
    if (close < 0) return 'tag_block';
    const tb = parseTagBlock(line, 1, close);
    if (tb === null) badTagBlock = true;
    else tagBlock = tb;
    pos = close + 1;
  }
  // Some loggers prefix a timestamp or receiver name, and line noise can put any bytes (a
  // stray '!' or '$' among them) before a sentence: the sentence is the first '!'/'$' from
  // which a checksummed sentence follows.
  let start = pos;
  let star = -1;
  let error: FrameError = 'not_nmea';
  for (let tries = 0; ; tries++) {
    if (tries === 64) return error; // a line of noise full of '!' is not worth more
    const bang = line.indexOf('!', start);
    const dollar = line.indexOf('$', start);
    start = bang >= 0 && (dollar < 0 || bang < dollar) ? bang : dollar;
    if (start < 0) return error;
    star = line.indexOf('*', start);
    // A sentence-shaped line without '*hh' lacks its checksum; anything else is noise.
    if (star < 0) return error === 'checksum' || line.indexOf(',', start) > start + 5 ? 'checksum' : error;
    if (star - start >= 6) {
      if (checksumMatches(line, start + 1, star)) break;
      error = 'checksum';
    }
    start++;
  }
  const c = line.charCodeAt(start);
  if (tagBlock === undefined && !badTagBlock && start > pos + 1 && line.charCodeAt(start - 1) === 92) {
    // Noise before a tag block: take the tag block too when its own checksum vouches for it.
    const open = line.lastIndexOf('\\', start - 2);
    if (open >= 0 && line.lastIndexOf('*', start - 1) > open) {
      const tb = parseTagBlock(line, open + 1, start - 1);
      if (tb !== null) tagBlock = tb;
    }
  }
  const comma = line.indexOf(',', start);
  if (comma < 0 || comma > star) return 'not_nmea';
  const addr = line.slice(start + 1, comma);
  let talker: string;
  let formatter: string;
  if (addr.charCodeAt(0) === 80 /* 'P' */) {
    talker = 'P';
    formatter = addr.slice(1);
  } else {
    talker = addr.slice(0, addr.length - 3);
    formatter = addr.slice(addr.length - 3);
  }
  const framed: FramedSentence = { line, start, star, talker, formatter, kind: c === 33 ? '!' : '$' };
  if (tagBlock !== undefined) framed.tagBlock = tagBlock;
  if (badTagBlock) framed.badTagBlock = true;
  const after = star + 3;
  if (after < line.length && line.charCodeAt(after) === 44 /* ',' */) framed.uscg = parseUscgTrailer(line.slice(after + 1));
  return framed;
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function parseUscgTrailer(raw: string): UscgTrailer {
  const out: UscgTrailer = { raw };
  const parts = raw.split(',');
  let stationAt = -1;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const c = p.charCodeAt(0);
    if ((c === 114 || c === 98) && p.length > 1 && isDigits(p.slice(1))) {
      // 'r' or 'b' followed by digits: the receiving station
      out.station = p;
      stationAt = i;
      break;
    }
  }
  for (let i = stationAt + 1; i < parts.length; i++) {
    if (isDigits(parts[i]!)) {
      out.time = Number(parts[i]);
      break;
    }
  }
  return out;
}

/**
 * Split the comma-separated fields between the address field and the '*'.
 * For the hot AIS path the decoder scans fields itself; this is for the
 * other sentences.
 */
export function sentenceFields(s: FramedSentence): string[] {
  return s.line.slice(s.start + 1, s.star).split(',');
}

/** The checksum byte written after '*' in a framed sentence. */
export function sentenceChecksum(s: FramedSentence): number {
  return (hexDigit(s.line.charCodeAt(s.star + 1)) << 4) | hexDigit(s.line.charCodeAt(s.star + 2));
}
