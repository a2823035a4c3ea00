import { createReadStream, existsSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { aisJsonLine, decodeAisReadable, MESSAGE_JSON_ROOM, REJECT_REASONS, writeAisJson, type AisRecord, type DecodeStats, type FeedRecord } from '../../pipeline/ais/index.js';
import { CliError } from '../cli-error.js';

/**
 * `portwatch ais decode`: its options, its run, and the plain parser of its
 * arguments that lets bin/portwatch.js start it without commander (the
 * start-up of a short decode is most of its time; see cli/fast-commands.ts).
 * cli/commands/ais.ts registers the same options with commander.
 */

export interface AisDecodeFlags {
  unscaled?: boolean;
  type24Parts?: boolean;
  nmea?: boolean;
  quiet?: boolean;
}

/** The options of `ais decode`, in commander's notation; commander and parseAisDecodeArgs both read them. */
export const AIS_DECODE_OPTIONS: readonly { flags: string; key: keyof AisDecodeFlags; description: string }[] = [
  { flags: '-u, --unscaled', key: 'unscaled', description: 'raw integer values, like gpsdecode -u' },
  { flags: '--type24-parts', key: 'type24Parts', description: 'also print type 24 parts A/B that are not merged (gpsd daemon style)' },
  { flags: '--nmea', key: 'nmea', description: 'also print the other NMEA sentences (GGA, RMC, VTG, HDT, ZDA, TTM, ALR) as JSON' },
  { flags: '-q, --quiet', key: 'quiet', description: 'no reject summary on stderr' },
];

/**
 * The file and flags of `ais decode` from the arguments after `ais decode`, or
 * null for anything but a plain run (help, an unknown or combined option, `--`,
 * a second file): commander then parses them and answers as it always does.
 */
export function parseAisDecodeArgs(args: readonly string[]): { file: string; flags: AisDecodeFlags } | null {
  const flags: AisDecodeFlags = {};
  let file: string | undefined;
  for (const arg of args) {
    if (arg === '-' || !arg.startsWith('-')) {
      if (file !== undefined) return null;
      file = arg;
      continue;
    }
    const option = AIS_DECODE_OPTIONS.find((o) => o.flags.split(', ').includes(arg));
    if (option === undefined) return null;
    flags[option.key] = true;
  }
  return { file: file ?? '-', flags };
}

/** Decodes `file` (or stdin for -) to gpsd JSON lines on stdout; the reject summary goes to stderr. */
export async function aisDecode(file: string, flags: AisDecodeFlags): Promise<void> {
  const fromStdin = file === '-';
  if (!fromStdin && !existsSync(file)) throw new CliError(`ais decode: no such file: ${file} (give a path, or - for stdin)`, 2);
  if (!fromStdin && statSync(file).size < SHORT_INPUT_BYTES) withoutOptimiserInlining();
  const out = new LineWriter(process.stdout);
  // 64 KiB reads: each becomes one string, and a larger one would be born in the old generation.
  const input = fromStdin ? process.stdin : createReadStream(file, { highWaterMark: 1 << 16 });
  async function* paced(): AsyncGenerator<Buffer | string> {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      yield chunk;
      await out.flush();
      // The reader went away (`| head`): decoding the rest would be for nobody.
      if (out.closed) throw READER_GONE;
    }
  }
  let stats: DecodeStats;
  try {
    stats = await decodeAisReadable(paced(), {
      scaled: !flags.unscaled,
      device: 'stdin',
      file: fromStdin ? 'stdin' : file,
      emitType24Parts: flags.type24Parts === true,
      onRecord: (rec: FeedRecord) => {
        if (rec.kind === 'ais') out.record(rec);
        else if (flags.nmea) out.line(JSON.stringify({ class: 'NMEA', line: rec.line, ...rec.sentence }));
      },
    });
  } catch (err) {
    // Like a C tool killed by SIGPIPE, but quiet: no summary of a run cut short, exit code 0.
    if (err === READER_GONE) return;
    throw err;
  }
  await out.flush();
  if (out.closed) return;
  if (!flags.quiet) process.stderr.write(formatSummary(stats));
}

/** Thrown into the decoding loop when stdout's reader closed the pipe. */
const READER_GONE = new Error('stdout closed by its reader');

/**
 * Files below this size (about 1.5 million lines) are decoded without
 * inlining; longer files and stdin, whose run is mostly optimised code, keep
 * V8's default (over 3.4 million lines the difference was within the noise,
 * at most 5 %).
 */
const SHORT_INPUT_BYTES = 64 << 20;

/**
 * Turns off V8's inlining in optimised code for this process. Optimising the
 * decoder and the JSON writers with their callees inlined is most of the
 * compiler's work, which on background threads was about a third of the CPU
 * of a 30,000-line decode; without inlining that decode takes 12-17 % less
 * CPU, and 340,000 lines are no slower (docs/ais.md, "Performance"). V8 reads
 * the flag when it starts each compilation, so setting it before the first
 * line is enough; a Node that refuses late flags keeps its default.
 */
function withoutOptimiserInlining(): void {
  try {
    setFlagsFromString('--no-turbo-inlining');
  } catch {
    // Flags frozen after start-up (--freeze-flags-after-init): decode with the default.
  }
}

/** Buffer#utf8Write (what Buffer#write calls after sorting out its optional arguments, a third of the cost per line here). */
const fastUtf8 = (Buffer.prototype as unknown as { utf8Write?: (s: string, offset: number) => number }).utf8Write;
const utf8Write: (buf: Buffer, s: string, offset: number) => number =
  typeof fastUtf8 === 'function' ? (buf, s, offset) => fastUtf8.call(buf, s, offset) : (buf, s, offset) => buf.write(s, offset, 'utf8');

/**
 * Output lines copied into one 128 KiB buffer and written with one call when it
 * fills or the input chunk is done: no string is built from thousands of
 * pieces (which cost more in garbage collection than the decoding), and a
 * full pipe pauses decoding until it drains.
 */
class LineWriter {
  private static readonly SIZE = 1 << 17;
  private buf = Buffer.allocUnsafe(LineWriter.SIZE);
  private pos = 0;
  private waiting: Promise<void> | null = null;
  private failure: Error | null = null;
  /** True once the reader of a pipe closed it (EPIPE): what is left is dropped. */
  closed = false;

  constructor(private readonly out: NodeJS.WritableStream & { writableLength: number }) {
    // A pipe reports write errors as events; unheard, they would end the process with a stack trace.
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else this.failure ??= err;
      this.out.emit('drain');
    });
  }

  /** One AIS record as its JSON line, written straight into the buffer. */
  record(rec: AisRecord): void {
    if (this.pos + MESSAGE_JSON_ROOM + 1 > LineWriter.SIZE) this.write();
    const start = this.pos;
    try {
      this.pos = writeAisJson(rec, this.buf, this.pos);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.pos = start;
      this.line(aisJsonLine(rec));
      return;
    }
    this.buf[this.pos++] = 10;
  }

  line(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; JSON lines are ASCII in practice.
    if (this.pos + s.length * 3 + 1 > LineWriter.SIZE) {
      this.write();
      if (s.length * 3 + 1 > LineWriter.SIZE) {
        if (!this.closed) this.out.write(s + '\n');
        return;
      }
    }
    this.pos += utf8Write(this.buf, s, this.pos);
    this.buf[this.pos++] = 10;
  }

  /** Write what is buffered, and wait if the destination asked for a pause. */
  async flush(): Promise<void> {
    this.write();
    if (this.waiting !== null) {
      await this.waiting;
      this.waiting = null;
    }
    if (this.failure !== null) throw this.failure;
  }

  private write(): void {
    if (this.pos === 0) return;
    if (this.closed) {
      this.pos = 0;
      return;
    }
    const ok = this.out.write(this.buf.subarray(0, this.pos));
    // A stream that could not write at once holds on to the buffer: leave it that one.
    if (this.out.writableLength > 0) this.buf = Buffer.allocUnsafe(LineWriter.SIZE);
    this.pos = 0;
    if (!ok && this.waiting === null) this.waiting = new Promise((resolve) => this.out.once('drain', () => resolve()));
  }
}

/** The reject summary written to stderr: totals, then counts and first examples per reason. */
export function formatSummary(s: DecodeStats): string {
  const lines = [
    `ais decode: ${s.lines} lines, ${s.messages} AIS messages, ${s.nmea} other NMEA, ${s.rejected} rejected, ${s.skipped} blank/comment`,
  ];
  if (s.noChecksum > 0) lines.push(`  decoded with a cut or damaged checksum field (payload complete): ${s.noChecksum}`);
  const ignored = Object.entries(s.ignored);
  if (ignored.length > 0) lines.push(`  ignored sentences: ${ignored.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const reason of REJECT_REASONS) {
    const n = s.rejects[reason];
    if (n === 0) continue;
    lines.push(`  ${reason}: ${n}`);
    for (const ex of s.samples.filter((x) => x.reason === reason)) {
      lines.push(`    ${ex.file ?? ''}:${ex.line}${ex.detail ? ` (${ex.detail})` : ''}: ${ex.text}`);
    }
  }
  return lines.join('\n') + '\n';
}
