import type { Logger } from '../log/index.js';
// Imported from the defining modules, not the index: the hot path avoids re-export indirection.
import {
  OTHER_NMEA_FORMATTERS,
  parseGatehouse,
  parseOtherNmea,
  type GatehouseHeader,
  type OtherNmeaSentence,
} from '../nmea/other-sentences.js';
import { hexDigit } from '../nmea/checksum.js';
import { frameSentence, isSkippable, MAX_LINE_LENGTH, parseUscgTrailer, trimLine, type UscgTrailer } from '../nmea/sentence.js';
import { parseTagBlock, type TagBlock } from '../nmea/tag-block.js';
import { ARMOUR, BitBuffer } from './bits.js';
import { decodeAisPayload, type DecodeOptions } from './decode.js';
import { FragmentReassembler, type Fragment } from './reassembler.js';
import { Type24Store } from './type24.js';
import { REJECT_REASONS, type AisMessage, type RejectReason } from './types.js';

/** Where and when a sentence was received, from whichever source carried it. */
export interface ReceiveMeta {
  line: number;
  tagBlock?: TagBlock;
  uscg?: UscgTrailer;
  gatehouse?: GatehouseHeader;
}

/** A decoded AIS message with its framing metadata. */
export interface AisRecord extends ReceiveMeta {
  kind: 'ais';
  message: AisMessage;
  /** 'AI', 'BS', 'AB', ... */
  talker: string;
  /** 'VDM' (other vessels) or 'VDO' (own vessel). */
  formatter: string;
  /** Radio channel ('A', 'B', '1', '2' or ''). */
  channel: string;
  /** Feed name given in the options. */
  source?: string;
  /** Receiving station: tag block `s`, else the USCG station. */
  station?: string;
  /** Receive time, Unix seconds: tag block `c`, else USCG, else Gatehouse. */
  receivedAt?: number;
}

/** A non-AIS NMEA sentence (GGA, RMC, VTG, HDT, ZDA, TTM, ALR). */
export interface NmeaRecord extends ReceiveMeta {
  kind: 'nmea';
  sentence: OtherNmeaSentence;
  source?: string;
  station?: string;
  receivedAt?: number;
}

export type FeedRecord = AisRecord | NmeaRecord;

export interface RejectSample {
  reason: RejectReason;
  file?: string;
  line: number;
  /** The offending line, cut to 160 characters. */
  text: string;
  detail?: string;
}

export interface DecodeStats {
  lines: number;
  /** Blank and '#' comment lines. */
  skipped: number;
  /** AIS messages emitted. */
  messages: number;
  /** Other NMEA sentences emitted. */
  nmea: number;
  /** Valid sentences we do not decode, by formatter (GSA, GSV, ...). */
  ignored: Record<string, number>;
  rejected: number;
  rejects: Record<RejectReason, number>;
  /** First rejects of each reason, with file and line. */
  samples: RejectSample[];
  /** Fragments waiting for the rest of their message. */
  pendingGroups: number;
  /** Type 24 halves held for merging instead of being emitted alone. */
  heldType24: number;
  /** Sentences decoded although their `*hh` was cut off or one of its digits damaged (see decodeCutChecksum). */
  noChecksum: number;
}

export interface AisDecoderOptions {
  /** Receives every decoded record, in input order (multi-part messages on their last fragment). */
  onRecord: (record: FeedRecord) => void;
  logger?: Logger;
  /** File name reported with rejects. */
  file?: string;
  /** Feed name; part of the reassembly key and copied to records. */
  source?: string;
  /** gpsd scaled output (default) or raw integers (`gpsdecode -u`). */
  scaled?: boolean;
  /** Value of the `device` field (gpsdecode writes "stdin"); omitted when unset. */
  device?: string;
  /** Drop an incomplete multi-part message after this many ms of receive clock (default 60 s). */
  fragmentTimeoutMs?: number;
  /** ...or after this many input lines (default 1000), which bounds memory on replays. */
  fragmentMaxLines?: number;
  /** ...or when its next fragment is not within this many input lines of the previous one (default 20). */
  fragmentMaxGapLines?: number;
  /** ...or when the receive times its sentences carry (tag block, USCG) differ by more than this (default 2 s). */
  fragmentMaxTimeSkewS?: number;
  /** Receive clock in ms (default Date.now). */
  clock?: () => number;
  /** Log the first reject of each reason, then one in this many (default 1000). */
  logEvery?: number;
  /** Reject samples kept per reason for the report (default 5). */
  samplesPerReason?: number;
  /** Merge type 24 parts A and B per MMSI (default true, as gpsd). */
  mergeType24?: boolean;
  /** Also emit type 24 parts that are not (yet) merged, with a `part` key (default false, as gpsdecode). */
  emitType24Parts?: boolean;
}

interface PendingMeta {
  line: number;
  /** The sentence, for the reject report when its group is dropped. */
  text: string;
  tagBlock?: TagBlock;
  uscg?: UscgTrailer;
  gatehouse?: GatehouseHeader;
  talker: string;
  formatter: string;
  channel: string;
}

const MAX_FRAGMENTS = 9;

/**
 * Line → message decoder for AIS/NMEA feeds. Push lines (any bytes); decoded
 * records go to `onRecord`; nothing throws out of `push`. Every rejected line
 * is counted by reason, sampled into `stats().samples` and logged at a
 * sampled rate through the logger passed in.
 */
export class AisLineDecoder {
  private readonly bits = new BitBuffer();
  private readonly decodeOpts: DecodeOptions;
  private readonly type24: Type24Store | null;
  private readonly reassembler: FragmentReassembler<PendingMeta>;
  private readonly clock: () => number;
  private readonly logEvery: number;
  private readonly samplesPerReason: number;
  private readonly onRecord: (record: FeedRecord) => void;
  private readonly counts: Record<RejectReason, number>;
  private readonly samples: RejectSample[] = [];
  private readonly ignored: Record<string, number> = {};
  private gatehouse: GatehouseHeader | undefined;
  /** Comma positions of the sentence being decoded (see scan). */
  private readonly commas = new Int32Array(8);
  private ncommas = 0;
  private lineNo = 0;
  private lines = 0;
  private skipped = 0;
  private messages = 0;
  private nmea = 0;
  private rejected = 0;
  private heldType24 = 0;
  private noChecksum = 0;
  /** The sentence being decoded lost its fill-bit digit (see decodeCutChecksum). */
  private fillUnknown = false;

  constructor(private readonly opts: AisDecoderOptions) {
    this.onRecord = opts.onRecord;
    this.decodeOpts = { scaled: opts.scaled ?? true };
    if (opts.device !== undefined) this.decodeOpts.device = opts.device;
    if (opts.emitType24Parts === true) this.decodeOpts.emitType24Parts = true;
    this.type24 = opts.mergeType24 === false ? null : new Type24Store();
    this.clock = opts.clock ?? Date.now;
    this.logEvery = Math.max(1, opts.logEvery ?? 1000);
    this.samplesPerReason = opts.samplesPerReason ?? 5;
    this.counts = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
    this.reassembler = new FragmentReassembler<PendingMeta>({
      timeoutMs: opts.fragmentTimeoutMs ?? 60_000,
      maxLines: opts.fragmentMaxLines ?? 1000,
      maxGapLines: opts.fragmentMaxGapLines ?? 20,
      maxTimeSkewS: opts.fragmentMaxTimeSkewS ?? 2,
      onIncomplete: (count, expected, firstLine, meta, why) =>
        this.reject('incomplete_group', firstLine, meta?.text ?? '', `${count} of ${expected} fragments, dropped: ${why}`, count),
    });
  }

  /** Decode one line. `lineNo` defaults to a running count. Never throws. */
  push(raw: string, lineNo?: number): void {
    const line = lineNo ?? this.lineNo + 1;
    this.lineNo = line;
    this.lines++;
    try {
      this.decodeLine(raw, line);
    } catch (err) {
      this.reject('decoder_error', line, raw, err instanceof Error ? err.message : String(err));
    }
  }

  /** End of input: incomplete multi-part messages are counted (`incomplete_group`). */
  finish(): void {
    this.reassembler.flush();
  }

  /** Drop timed-out fragments now (feeds call this on a timer when traffic is quiet). */
  sweep(): void {
    this.reassembler.sweep(this.clock(), this.lineNo);
  }

  stats(): DecodeStats {
    return {
      lines: this.lines,
      skipped: this.skipped,
      messages: this.messages,
      nmea: this.nmea,
      ignored: { ...this.ignored },
      rejected: this.rejected,
      rejects: { ...this.counts },
      samples: this.samples.slice(),
      pendingGroups: this.reassembler.pending,
      heldType24: this.heldType24,
      noChecksum: this.noChecksum,
    };
  }

  private decodeLine(raw: string, line: number): void {
    const text = trimLine(raw);
    if (isSkippable(text)) {
      this.skipped++;
      return;
    }
    // Fast path for the common case, a well-formed !xxVDM/VDO sentence (after an
    // optional tag block): one pass computes the checksum and finds the commas.
    // Anything unusual takes the general path below, which names the reject.
    let pos = 0;
    let tagBlock: TagBlock | undefined;
    if (text.charCodeAt(0) === 92 /* '\\' */) {
      const close = text.indexOf('\\', 1);
      if (close > 0) {
        const tb = parseTagBlock(text, 1, close);
        if (tb !== null) {
          tagBlock = tb;
          pos = close + 1;
        }
      }
    }
    const badTagBlock = pos === 0 && text.charCodeAt(0) === 92;
    if (!badTagBlock && text.charCodeAt(pos) === 33 && text.length <= MAX_LINE_LENGTH) {
      const star = this.scan(text, pos);
      if (star > 0 && this.ncommas === 6) {
        const c1 = this.commas[0]!;
        const f0 = text.charCodeAt(c1 - 3);
        const f1 = text.charCodeAt(c1 - 2);
        const f2 = text.charCodeAt(c1 - 1);
        if (c1 - pos >= 4 && f0 === 86 && f1 === 68 && (f2 === 77 || f2 === 79)) {
          const after = star + 3;
          const uscg = after < text.length && text.charCodeAt(after) === 44 ? parseUscgTrailer(text.slice(after + 1)) : undefined;
          const talker = c1 - pos === 6 && text.charCodeAt(pos + 1) === 65 && text.charCodeAt(pos + 2) === 73 ? 'AI' : text.slice(pos + 1, c1 - 3);
          this.decodeAis(text, pos, star, talker, f2 === 77 ? 'VDM' : 'VDO', tagBlock, uscg, line);
          return;
        }
      }
    }
    const framed = frameSentence(text);
    if (typeof framed === 'string') {
      if (framed === 'checksum' && this.decodeCutChecksum(text, tagBlock === undefined ? 0 : pos, tagBlock, line)) return;
      this.reject(framed, line, text);
      return;
    }
    if (framed.badTagBlock === true) this.reject('tag_block', line, text, 'tag block dropped, sentence kept');
    const formatter = framed.formatter;
    if (framed.kind === '!' && (formatter === 'VDM' || formatter === 'VDO')) {
      this.scan(text, framed.start);
      if (this.ncommas !== 6) {
        this.reject('field_count', line, text);
        return;
      }
      this.decodeAis(text, framed.start, framed.star, framed.talker, formatter, framed.tagBlock, framed.uscg, line);
      return;
    }
    if (framed.talker === 'P' && formatter === 'GHP') {
      const gh = parseGatehouse(framed);
      if (gh === null) this.reject('nmea_fields', line, text, 'Gatehouse $PGHP header');
      else this.gatehouse = gh;
      return;
    }
    if (OTHER_NMEA_FORMATTERS.has(formatter)) {
      const sentence = parseOtherNmea(framed);
      if (sentence === null) {
        this.reject('nmea_fields', line, text, `${formatter} fields`);
        return;
      }
      const rec: NmeaRecord = { kind: 'nmea', sentence, line };
      this.attachMeta(rec, framed.tagBlock, framed.uscg);
      this.nmea++;
      this.onRecord(rec);
      return;
    }
    const key = framed.talker === 'P' ? `P${formatter}` : formatter;
    this.ignored[key] = (this.ignored[key] ?? 0) + 1;
  }

  /**
   * A single-sentence AIS line that lost only its `*hh` (a line cut short right
   * after the fill-bit field, as gpsd accepts it): the payload field is closed
   * by its comma, so no payload character was cut. Without the fill digit only
   * position reports of their exact fixed length are taken, where the fill
   * cannot change the message. Returns false to let the caller reject the line.
   */
  private decodeCutChecksum(text: string, pos: number, tagBlock: TagBlock | undefined, line: number): boolean {
    if (text.charCodeAt(pos) !== 33 || text.length > MAX_LINE_LENGTH) return false;
    const star = text.indexOf('*', pos);
    if (star >= 0) return this.decodeDamagedChecksum(text, pos, star, tagBlock, line);
    this.scan(text, pos);
    if (this.ncommas !== 6) return false;
    const cm = this.commas;
    const c1 = cm[0]!;
    const c6 = cm[5]!;
    const end = text.length;
    if (c1 - pos < 4 || text.charCodeAt(c1 - 3) !== 86 || text.charCodeAt(c1 - 2) !== 68) return false;
    const f2 = text.charCodeAt(c1 - 1);
    if (f2 !== 77 && f2 !== 79) return false;
    const count = smallInt(text, c1 + 1, cm[1]!);
    const chars = c6 - cm[4]! - 1;
    if (end === c6 + 1) {
      if (count === 1) {
        const type = ARMOUR[text.charCodeAt(cm[4]! + 1)];
        const exact = (chars * 6 === 168 && (type === 1 || type === 2 || type === 3 || type === 4 || type === 9 || type === 11 || type === 18)) || (chars * 6 === 96 && type === 27);
        if (!exact) return false;
      } else {
        // The last fragment of a type 5, whose last bits are spare: checked once assembled.
        if (smallInt(text, cm[1]! + 1, cm[2]!) !== count) return false;
        this.fillUnknown = true;
      }
    } else if (end !== c6 + 2) {
      return false;
    }
    this.noChecksum++;
    this.decodeAis(text, pos, end, text.slice(pos + 1, c1 - 3), f2 === 77 ? 'VDM' : 'VDO', tagBlock, undefined, line);
    this.fillUnknown = false;
    return true;
  }

  /**
   * A sentence whose checksum field has one character that is not a hex digit
   * (gpsd then skips the check): the damage is in the checksum field itself,
   * and the other digit must still match the sentence's checksum.
   */
  private decodeDamagedChecksum(text: string, pos: number, star: number, tagBlock: TagBlock | undefined, line: number): boolean {
    if (star + 3 !== text.length) return false;
    const hi = hexDigit(text.charCodeAt(star + 1));
    const lo = hexDigit(text.charCodeAt(star + 2));
    if ((hi < 0) === (lo < 0)) return false;
    this.scan(text, pos);
    if (this.ncommas !== 6) return false;
    let x = 0;
    for (let i = pos + 1; i < star; i++) x ^= text.charCodeAt(i);
    if (hi >= 0 ? hi !== (x >> 4) : lo !== (x & 15)) return false;
    const c1 = this.commas[0]!;
    if (c1 - pos < 4 || text.charCodeAt(c1 - 3) !== 86 || text.charCodeAt(c1 - 2) !== 68) return false;
    const f2 = text.charCodeAt(c1 - 1);
    if (f2 !== 77 && f2 !== 79) return false;
    this.noChecksum++;
    this.decodeAis(text, pos, star, text.slice(pos + 1, c1 - 3), f2 === 77 ? 'VDM' : 'VDO', tagBlock, undefined, line);
    return true;
  }

  /**
   * One pass over s from `start` (the '!'): XOR checksum up to '*', comma
   * positions (up to 7) into `commas`/`ncommas`. Returns the '*' index when
   * the checksum matches, else -1.
   */
  private scan(s: string, start: number): number {
    const commas = this.commas;
    let n = 0;
    let x = 0;
    const len = s.length;
    let i = start + 1;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c === 42) break; // '*'
      if (c === 44 && n < 7) commas[n++] = i;
      x ^= c;
    }
    this.ncommas = n;
    if (i + 2 >= len) return -1;
    const hi = hexDigit(s.charCodeAt(i + 1));
    const lo = hexDigit(s.charCodeAt(i + 2));
    return hi >= 0 && lo >= 0 && ((hi << 4) | lo) === (x & 0xff) ? i : -1;
  }

  private attachMeta(rec: AisRecord | NmeaRecord, tb: TagBlock | undefined, us: UscgTrailer | undefined): void {
    if (this.opts.source !== undefined) rec.source = this.opts.source;
    if (tb !== undefined) rec.tagBlock = tb;
    if (us !== undefined) rec.uscg = us;
    const station = tb?.station ?? us?.station;
    if (station !== undefined) rec.station = station;
    const t = tb?.time ?? us?.time;
    if (t !== undefined) rec.receivedAt = t;
  }

  /**
   * An AIS sentence s[start..star] whose checksum is good and which has
   * exactly seven fields (commas in this.commas): address, count, number,
   * sequence id, channel, payload, fill bits.
   */
  private decodeAis(
    s: string,
    start: number,
    star: number,
    talker: string,
    formatter: string,
    tb: TagBlock | undefined,
    uscg: UscgTrailer | undefined,
    line: number,
  ): void {
    const cm = this.commas;
    const c1 = cm[0]!;
    const c2 = cm[1]!;
    const c3 = cm[2]!;
    const c4 = cm[3]!;
    const c5 = cm[4]!;
    const c6 = cm[5]!;
    const count = smallInt(s, c1 + 1, c2);
    const number = smallInt(s, c2 + 1, c3);
    if (count < 1 || count > MAX_FRAGMENTS || number < 1 || number > count) {
      this.reject('fragment_number', line, s);
      return;
    }
    const fill = star - c6 === 2 ? s.charCodeAt(c6 + 1) - 48 : star === c6 + 1 ? 0 : -1;
    if (fill < 0 || fill > 5) {
      this.reject('fill_bits', line, s);
      return;
    }
    const pStart = c5 + 1;
    const pEnd = c6;
    if (pEnd <= pStart) {
      this.reject('payload_length', line, s, 'empty payload');
      return;
    }
    const gh = this.takeGatehouse(s, star);
    const chLen = c5 - c4 - 1;
    const ch = s.charCodeAt(c4 + 1);
    const channel = chLen === 1 && ch === 65 ? 'A' : chLen === 1 && ch === 66 ? 'B' : s.slice(c4 + 1, c5);
    const bits = this.bits;
    if (count === 1) {
      bits.reset();
      if (!bits.append(s, pStart, pEnd)) {
        this.reject('payload_chars', line, s);
        return;
      }
      bits.finish(fill);
      this.emitAis(talker, formatter, line, channel, gh, tb, uscg, s);
      return;
    }
    // Multi-part: validate now so a bad fragment never poisons a message.
    for (let i = pStart; i < pEnd; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff || ARMOUR[c] === 255) {
        this.reject('payload_chars', line, s);
        return;
      }
    }
    const seq = s.slice(c3 + 1, c4);
    const group = tb?.group;
    // USCG receivers append the station only to some fragments, so it cannot key them.
    const origin = tb?.station;
    // A tag-block group id names the message itself, so only those fragments (when the
    // sentences carry no sequence id) may arrive out of order.
    const byGroup = group !== undefined && seq === '' && group.groupsize === count && group.sentence === number;
    const source = this.opts.source ?? '';
    const base = byGroup ? `${source}|g${group.id}|${count}` : `${source}|${channel}|${seq}|${count}`;
    const key = byGroup || origin === undefined ? base : `${base}|${origin}`;
    const meta: PendingMeta = { line, text: s, talker, formatter, channel };
    if (tb !== undefined) meta.tagBlock = tb;
    if (uscg !== undefined) meta.uscg = uscg;
    if (gh !== undefined) meta.gatehouse = gh;
    const frag: Fragment<PendingMeta> = { payload: s.slice(pStart, pEnd), fill, meta };
    const at = tb?.time ?? uscg?.time;
    if (at !== undefined) frag.at = at;
    const res = this.reassembler.add(key, number, count, frag, this.clock(), line, byGroup, base);
    if (res.status === 'duplicate') {
      this.reject('duplicate_fragment', line, s);
      return;
    }
    if (res.status !== 'complete') return;
    const parts = res.fragments;
    bits.reset();
    for (const p of parts) {
      if (!bits.append(p.payload, 0, p.payload.length)) {
        this.reject('payload_length', line, s, 'reassembled payload too long');
        return;
      }
    }
    bits.finish(parts[parts.length - 1]!.fill);
    if (this.fillUnknown && !(bits.u(0, 6) === 5 && bits.bitlen >= 424 && bits.bitlen <= 426)) {
      this.reject('checksum', line, s, 'no checksum, and the fill bits matter for this message');
      return;
    }
    // The tag block (station, time) is the first fragment's, or none: a later fragment's would
    // be another sentence's metadata. USCG receivers append their trailer to some fragments only.
    const first = parts[0]!.meta;
    this.emitAis(talker, formatter, line, channel, first.gatehouse ?? gh, first.tagBlock, first.uscg ?? uscg, s);
  }

  private takeGatehouse(s: string, star: number): GatehouseHeader | undefined {
    const gh = this.gatehouse;
    if (gh === undefined) return undefined;
    this.gatehouse = undefined;
    // The header names the checksum of the sentence it belongs to.
    const cks = (hexDigit(s.charCodeAt(star + 1)) << 4) | hexDigit(s.charCodeAt(star + 2));
    return gh.checksum === null || gh.checksum === cks ? gh : undefined;
  }

  private emitAis(
    talker: string,
    formatter: string,
    line: number,
    channel: string,
    gh: GatehouseHeader | undefined,
    tb: TagBlock | undefined,
    uscg: UscgTrailer | undefined,
    text: string,
  ): void {
    const result = decodeAisPayload(this.bits, this.decodeOpts, this.type24);
    if (result === null) {
      this.heldType24++;
      return;
    }
    if (typeof result === 'string') {
      this.reject(result, line, text, result === 'payload_length' ? `${this.bits.bitlen} bits` : undefined);
      return;
    }
    const rec: AisRecord = { kind: 'ais', message: result, talker, formatter, channel, line };
    if (tb !== undefined || uscg !== undefined || this.opts.source !== undefined) this.attachMeta(rec, tb, uscg);
    if (gh !== undefined) {
      rec.gatehouse = gh;
      rec.receivedAt ??= gh.time;
    }
    this.messages++;
    this.onRecord(rec);
  }

  private reject(reason: RejectReason, line: number, text: string, detail?: string, n = 1): void {
    this.rejected += n;
    const count = (this.counts[reason] += n);
    const file = this.opts.file;
    if (count - n < this.samplesPerReason) {
      const sample: RejectSample = { reason, line, text: text.length > 160 ? text.slice(0, 160) : text };
      if (file !== undefined) sample.file = file;
      if (detail !== undefined) sample.detail = detail;
      this.samples.push(sample);
    }
    const logger = this.opts.logger;
    if (logger !== undefined && (count === n || Math.floor(count / this.logEvery) !== Math.floor((count - n) / this.logEvery))) {
      logger.warn({ reason, file, line, count, text: text.slice(0, 160), detail }, 'rejected NMEA/AIS input');
    }
  }
}

/** Parse a one- or two-digit integer in s[start, end); -1 if it is not one. */
function smallInt(s: string, start: number, end: number): number {
  const len = end - start;
  if (len === 1) {
    const d = s.charCodeAt(start) - 48;
    return d >= 0 && d <= 9 ? d : -1;
  }
  if (len === 2) {
    const a = s.charCodeAt(start) - 48;
    const b = s.charCodeAt(start + 1) - 48;
    return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
  }
  return -1;
}
