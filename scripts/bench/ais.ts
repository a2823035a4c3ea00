/**
 * AIS decoder benchmark: our decoder against gpsd's `gpsdecode -j` on the same
 * real input (a corpus from test/fixtures/ais repeated to about a million
 * lines), in the same run, ratio printed.
 *
 *   npm run bench:ais                      # 1M lines
 *   npm run bench:ais -- --lines 200000    # shorter
 *
 * Figures, all messages/s:
 *  - decode           lines → message objects, in memory (the library hot path)
 *  - decode+json      the same plus one JSON line per message (what `ais decode` prints)
 *  - file→json (CLI)  file read stream → decodeAisReadable → JSON text (what `ais decode` does)
 *  - Transform→json   the same through the object-mode AisDecodeStream
 *  - gpsdecode -j     `gpsdecode -j < file`, output counted by wc -l
 * The ratio compares "file→json (CLI)" with gpsdecode: both read the file and
 * produce JSON text. Each figure is given per wall-clock second and per
 * CPU second (user+system of the process doing the work): on a machine
 * shared with other jobs the CPU figure is the steadier comparison.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { AisDecodeStream, AisLineDecoder, aisJsonLine, decodeAisReadable, type FeedRecord } from '../../pipeline/ais/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const DEFAULT_CORPUS = join(here, '../../test/fixtures/ais/pyais/nmea_data_sample.txt');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function buildInput(corpus: string, targetLines: number): { text: string; lines: string[] } {
  const base = readFileSync(corpus, 'latin1')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const lines: string[] = [];
  while (lines.length < targetLines) for (const l of base) lines.push(l);
  lines.length = targetLines;
  return { text: lines.join('\n') + '\n', lines };
}

interface Run {
  messages: number;
  seconds: number;
  cpu: number;
}

function timed<T extends object>(fn: () => T): T & { seconds: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = fn();
  const c = process.cpuUsage(c0);
  return { ...r, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

async function timedAsync<T extends object>(fn: () => Promise<T>): Promise<T & { seconds: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await fn();
  const c = process.cpuUsage(c0);
  return { ...r, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

function decodeOnly(lines: string[]): { messages: number } {
  let messages = 0;
  const dec = new AisLineDecoder({ onRecord: () => void messages++ });
  for (let i = 0; i < lines.length; i++) dec.push(lines[i]!, i + 1);
  dec.finish();
  return { messages };
}

function decodeJson(lines: string[]): { messages: number; bytes: number } {
  let messages = 0;
  let bytes = 0;
  const dec = new AisLineDecoder({
    device: 'stdin',
    onRecord: (r: FeedRecord) => {
      if (r.kind !== 'ais') return;
      messages++;
      bytes += aisJsonLine(r).length + 1;
    },
  });
  for (let i = 0; i < lines.length; i++) dec.push(lines[i]!, i + 1);
  dec.finish();
  return { messages, bytes };
}

/** The CLI's path: file read stream → decodeAisReadable → JSON lines into 64 KB chunks. */
async function fileJson(file: string): Promise<{ messages: number }> {
  let messages = 0;
  let chunk = '';
  await decodeAisReadable(createReadStream(file, { highWaterMark: 1 << 20 }), {
    device: 'stdin',
    onRecord: (rec: FeedRecord) => {
      if (rec.kind !== 'ais') return;
      messages++;
      chunk += aisJsonLine(rec) + '\n';
      if (chunk.length > 65536) chunk = '';
    },
  });
  return { messages };
}

/** The same through the object-mode Transform (AisDecodeStream) for stream consumers. */
async function streamFile(file: string): Promise<{ messages: number }> {
  let messages = 0;
  const decoder = new AisDecodeStream({ device: 'stdin' });
  let chunk = '';
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 4096,
    write(rec: FeedRecord, _e, cb) {
      if (rec.kind === 'ais') {
        messages++;
        chunk += aisJsonLine(rec) + '\n';
        if (chunk.length > 65536) chunk = '';
      }
      cb();
    },
  });
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), decoder, sink);
  return { messages };
}

function gpsdecode(file: string): Run | { error: string } {
  const which = spawnSync('sh', ['-c', 'command -v gpsdecode']);
  if (which.status !== 0) return { error: 'gpsdecode not found: run `npm run bootstrap` (installs Debian gpsd-clients)' };
  // bash times gpsdecode alone (user+system CPU); wc counts the JSON lines it printed.
  const script = `TIMEFORMAT='%3U %3S'; { time gpsdecode -j < '${file}' 2>/dev/null ; } 2> '${file}.time' | wc -l`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) return { error: `gpsdecode failed: ${r.stderr.slice(0, 500)}` };
  const [user, sys] = readFileSync(`${file}.time`, 'utf8').trim().split(/\s+/).map(Number);
  return { messages: Number(r.stdout.trim()), seconds, cpu: (user ?? 0) + (sys ?? 0) };
}

/**
 * End-to-end ingest (decode + batched write into ais_positions) on embedded
 * TimescaleDB and on the PostgreSQL server: added by the feeds/store work
 * (issue 3 items 7-9). Returns null until then.
 */
export async function benchIngest(file: string, lines: number): Promise<null | Record<string, number>> {
  // The ingest engineer's module (scripts/bench/ais-ingest.ts) prints its own detail lines.
  const { benchIngest: run } = await import('./ais-ingest.js');
  return run(file, lines);
}

function rate(messages: number, seconds: number): string {
  return `${Math.round(messages / seconds).toLocaleString('en-US')}`.padStart(9);
}

function report(name: string, r: Run): void {
  console.log(
    `${name.padEnd(18)} ${String(r.messages).padStart(8)} msgs  wall ${r.seconds.toFixed(2)} s ${rate(r.messages, r.seconds)} msg/s   cpu ${r.cpu.toFixed(2)} s ${rate(r.messages, r.cpu)} msg/s`,
  );
}

async function main(): Promise<void> {
  const targetLines = Number(arg('lines', '1000000'));
  const corpus = arg('corpus', DEFAULT_CORPUS);
  const { text, lines } = buildInput(corpus, targetLines);
  const dir = mkdtempSync(join(tmpdir(), 'portwatch-bench-ais-'));
  const file = join(dir, 'input.nmea');
  writeFileSync(file, text, 'latin1');
  try {
    console.log(`corpus ${corpus}, ${lines.length} lines (${(text.length / 1e6).toFixed(1)} MB)`);
    decodeOnly(lines.slice(0, 50000)); // warm-up for the JIT
    decodeJson(lines.slice(0, 50000));
    const d = timed(() => decodeOnly(lines));
    report('decode', d);
    const j = timed(() => decodeJson(lines));
    report('decode+json', j);
    const s = await timedAsync(() => fileJson(file));
    report('file→json (CLI)', s);
    const t = await timedAsync(() => streamFile(file));
    report('Transform→json', t);
    const g = gpsdecode(file);
    if ('error' in g) {
      console.log(`gpsdecode -j       ${g.error}`);
      process.exitCode = 1;
    } else {
      report('gpsdecode -j', g);
      const ratio = (a: Run, wall: boolean): string =>
        ((a.messages / (wall ? a.seconds : a.cpu)) / (g.messages / (wall ? g.seconds : g.cpu))).toFixed(2);
      console.log(`ratio file→json (CLI) / gpsdecode -j: ${ratio(s, false)}x per CPU second, ${ratio(s, true)}x per wall second`);
      console.log(`ratio decode / gpsdecode -j:            ${ratio(d, false)}x per CPU second, ${ratio(d, true)}x per wall second`);
    }
    const ingest = await benchIngest(file, lines.length);
    if (ingest === null) console.log('ingest             (end-to-end decode + write: not yet implemented, see benchIngest)');
    else for (const [k, v] of Object.entries(ingest)) console.log(`ingest ${k}  ${Math.round(v)} msg/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
