import { Transform, type TransformCallback } from 'node:stream';
import { tagBlockFields } from '../nmea/tag-block.js';
import { messageJson, messageJsonWith, writeMessageJson } from './json.js';
import { AisLineDecoder, type AisDecoderOptions, type AisRecord, type DecodeStats, type FeedRecord } from './line-decoder.js';

/**
 * A Transform stream: bytes (or strings) in, FeedRecord objects out. Lines
 * may be split across chunks; LF and CRLF both end a line. Bytes are read as
 * Latin-1 so arbitrary binary noise cannot throw in a text decoder.
 */
export class AisDecodeStream extends Transform {
  readonly decoder: AisLineDecoder;
  private rest = '';
  private lineNo = 0;

  constructor(opts: Omit<AisDecoderOptions, 'onRecord'> = {}) {
    super({ readableObjectMode: true, writableObjectMode: false });
    this.decoder = new AisLineDecoder({ ...opts, onRecord: (r) => this.push(r) });
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const text = this.rest + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.decoder.push(text.slice(start, nl), ++this.lineNo);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.rest = text.slice(start);
    // A line without a newline that grows without bound is noise; cut it.
    if (this.rest.length > 65536) {
      this.decoder.push(this.rest, ++this.lineNo);
      this.rest = '';
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.rest.length > 0) this.decoder.push(this.rest, ++this.lineNo);
    this.rest = '';
    this.decoder.finish();
    cb();
  }

  stats(): DecodeStats {
    return this.decoder.stats();
  }
}

/**
 * Decode a byte stream (file, socket, stdin) line by line, calling
 * `opts.onRecord` for each record; resolves with the stats at the end of the
 * input. Leaner than piping through AisDecodeStream (no object-mode stream
 * between records), which is what the CLI and bulk replays want.
 */
export async function decodeAisReadable(input: AsyncIterable<Buffer | string>, opts: AisDecoderOptions): Promise<DecodeStats> {
  const decoder = new AisLineDecoder(opts);
  let rest = '';
  let lineNo = 0;
  for await (const chunk of input) {
    const text = rest + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      decoder.push(text.slice(start, nl), ++lineNo);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    rest = text.slice(start);
    if (rest.length > 65536) {
      decoder.push(rest, ++lineNo);
      rest = '';
    }
  }
  if (rest.length > 0) decoder.push(rest, ++lineNo);
  decoder.finish();
  return decoder.stats();
}

export function createAisDecodeStream(opts: Omit<AisDecoderOptions, 'onRecord'> = {}): AisDecodeStream {
  return new AisDecodeStream(opts);
}

/** Decode an array of lines at once (tests, small files). */
export function decodeAisLines(
  lines: Iterable<string>,
  opts: Omit<AisDecoderOptions, 'onRecord'> = {},
): { records: FeedRecord[]; stats: DecodeStats } {
  const records: FeedRecord[] = [];
  const decoder = new AisLineDecoder({ ...opts, onRecord: (r) => records.push(r) });
  let n = 0;
  for (const line of lines) decoder.push(line, ++n);
  decoder.finish();
  return { records, stats: decoder.stats() };
}

/**
 * The gpsd-style JSON object for an AIS record: the message plus
 * `tagblock_*` fields when a tag block was present, and the USCG/Gatehouse
 * receive metadata when those framings were used.
 */
export function aisJsonObject(rec: AisRecord): Record<string, unknown> {
  if (rec.tagBlock === undefined && rec.uscg === undefined && rec.gatehouse === undefined) return rec.message;
  return { ...rec.message, ...receiveFields(rec) };
}

/** Receive metadata of a record as extra JSON fields (`tagblock_*`, `uscg_*`, `gatehouse_*`). */
export function receiveFields(rec: AisRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (rec.tagBlock !== undefined) tagBlockFields(rec.tagBlock, o);
  if (rec.uscg !== undefined) {
    if (rec.uscg.station !== undefined) o.uscg_station = rec.uscg.station;
    if (rec.uscg.time !== undefined) o.uscg_time = rec.uscg.time;
  }
  if (rec.gatehouse !== undefined) {
    o.gatehouse_time = rec.gatehouse.time;
    if (rec.gatehouse.country !== null) o.gatehouse_country = rec.gatehouse.country;
  }
  return o;
}

/**
 * One JSON line per AIS record, as `portwatch ais decode` prints it. Same
 * text as JSON.stringify(aisJsonObject(rec)), built faster.
 */
export function aisJsonLine(rec: AisRecord): string {
  if (rec.tagBlock === undefined && rec.uscg === undefined && rec.gatehouse === undefined) return messageJson(rec.message);
  return messageJsonWith(rec.message, receiveFields(rec));
}

/** aisJsonLine's text written as UTF-8 bytes into `b` at `p` (no newline); returns the end. Leave MESSAGE_JSON_ROOM bytes. */
export function writeAisJson(rec: AisRecord, b: Uint8Array, p: number): number {
  if (rec.tagBlock === undefined && rec.uscg === undefined && rec.gatehouse === undefined) return writeMessageJson(rec.message, b, p);
  return writeMessageJson(rec.message, b, p, receiveFields(rec));
}
