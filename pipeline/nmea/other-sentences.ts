import { createRequire } from 'node:module';
import type { GGAPacket, HDTPacket, RMCPacket, VTGPacket, ZDAPacket } from 'nmea-simple';
import { sentenceFields, type FramedSentence } from './sentence.js';

// nmea-simple is loaded on the first GPS sentence: AIS-only feeds and `ais decode`
// do not pay for loading it (a sixth of the command's start-up).
const requirePackage = createRequire(import.meta.url);
let parseNmeaSentence: ((sentence: string) => unknown) | undefined;

/** TTM: a target tracked by the berth radar/ARPA. */
export interface TtmSentence {
  sentenceId: 'TTM';
  talkerId: string;
  targetNumber: number | null;
  /** Distance from own ship, in `units`. */
  distance: number | null;
  bearing: number | null;
  bearingReference: 'T' | 'R' | null;
  speed: number | null;
  course: number | null;
  courseReference: 'T' | 'R' | null;
  cpaDistance: number | null;
  /** Time to CPA, minutes (negative: CPA passed). */
  cpaTime: number | null;
  /** K (km, km/h), N (nm, knots) or S (statute). */
  units: string | null;
  name: string;
  /** L lost, Q query/acquiring, T tracking. */
  status: string | null;
  referenceTarget: boolean;
  /** hhmmss.ss as sent. */
  time: string | null;
  /** A automatic, M manual, R reported. */
  acquisition: string | null;
}

/** ALR: an alarm raised by a bridge or berth device. */
export interface AlrSentence {
  sentenceId: 'ALR';
  talkerId: string;
  /** hhmmss.ss as sent. */
  time: string | null;
  alarmId: number | null;
  /** true: threshold exceeded (A); false: not exceeded (V). */
  active: boolean;
  /** true: acknowledged (A). */
  acknowledged: boolean;
  text: string;
}

export type OtherNmeaSentence = GGAPacket | RMCPacket | VTGPacket | HDTPacket | ZDAPacket | TtmSentence | AlrSentence;

/** Sentence formatters we turn into records; others are counted as ignored. */
export const OTHER_NMEA_FORMATTERS: ReadonlySet<string> = new Set(['GGA', 'RMC', 'VTG', 'HDT', 'ZDA', 'TTM', 'ALR']);

function num(s: string | undefined): number | null {
  if (s === undefined || s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

function str(s: string | undefined): string | null {
  return s === undefined || s === '' ? null : s;
}

function ref(s: string | undefined): 'T' | 'R' | null {
  return s === 'T' || s === 'R' ? s : null;
}

export function parseTtm(f: string[], talkerId: string): TtmSentence | null {
  if (f.length < 14) return null;
  return {
    sentenceId: 'TTM',
    talkerId,
    targetNumber: num(f[1]),
    distance: num(f[2]),
    bearing: num(f[3]),
    bearingReference: ref(f[4]),
    speed: num(f[5]),
    course: num(f[6]),
    courseReference: ref(f[7]),
    cpaDistance: num(f[8]),
    cpaTime: num(f[9]),
    units: str(f[10]),
    name: f[11] ?? '',
    status: str(f[12]),
    referenceTarget: f[13] === 'R',
    time: str(f[14]),
    acquisition: str(f[15]),
  };
}

export function parseAlr(f: string[], talkerId: string): AlrSentence | null {
  if (f.length < 6) return null;
  return {
    sentenceId: 'ALR',
    talkerId,
    time: str(f[1]),
    alarmId: num(f[2]),
    active: f[3] === 'A',
    acknowledged: f[4] === 'A',
    text: f.slice(5).join(','),
  };
}

/**
 * Parse one of the non-AIS sentences found on berth feeds. Returns null when
 * the sentence is not one we handle or its fields do not parse.
 */
export function parseOtherNmea(s: FramedSentence): OtherNmeaSentence | null {
  const f = s.formatter;
  if (f === 'TTM') return parseTtm(sentenceFields(s), s.talker);
  if (f === 'ALR') return parseAlr(sentenceFields(s), s.talker);
  if (!OTHER_NMEA_FORMATTERS.has(f)) return null;
  try {
    // nmea-simple wants the bare sentence: no tag block, no trailer.
    parseNmeaSentence ??= (requirePackage('nmea-simple') as typeof import('nmea-simple')).parseNmeaSentence;
    return parseNmeaSentence(s.line.slice(s.start, s.star + 3)) as OtherNmeaSentence;
  } catch {
    return null;
  }
}

/** Gatehouse `$PGHP,1,...` header: receive time and origin of the next AIS sentence. */
export interface GatehouseHeader {
  /** Receive time, Unix seconds. */
  time: number;
  /** MID of the country that received the message. */
  country: number | null;
  region: number | null;
  pss: number | null;
  online: number | null;
  /** Checksum of the sentence this header describes. */
  checksum: number | null;
}

export function parseGatehouse(s: FramedSentence): GatehouseHeader | null {
  const f = sentenceFields(s);
  if (f[1] !== '1' || f.length < 13) return null;
  const [y, mo, d, h, mi, sec, ms] = [f[2], f[3], f[4], f[5], f[6], f[7], f[8]].map((v) => Number(v));
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!, ms!);
  if (!Number.isFinite(t)) return null;
  const cks = f[13] ?? f[12];
  return {
    time: t / 1000,
    country: num(f[9]),
    region: num(f[10]),
    pss: num(f[11]),
    online: num(f[12]),
    checksum: cks !== undefined && cks.length === 2 ? parseInt(cks, 16) : null,
  };
}
