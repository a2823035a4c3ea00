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
 *  - stream file→json AisDecodeStream from a file read stream to a null sink (like gpsdecode)
 *  - gpsdecode -j     `gpsdecode -j < file`, output counted by wc -l
 * The ratio compares "stream file→json" with gpsdecode: both read the file and
 * produce JSON text.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { AisDecodeStream, AisLineDecoder, aisJsonLine, type FeedRecord } from '../../pipeline/ais/index.js';

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

function decodeOnly(lines: string[]): { messages: number; seconds: number } {
  let messages = 0;
  const dec = new AisLineDecoder({ onRecord: () => void messages++ });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i++) dec.push(lines[i]!, i + 1);
  dec.finish();
  return { messages, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function decodeJson(lines: string[]): { messages: number; seconds: number; bytes: number } {
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
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i++) dec.push(lines[i]!, i + 1);
  dec.finish();
  return { messages, bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function streamFile(file: string): Promise<{ messages: number; seconds: number }> {
  let messages = 0;
  const t0 = process.hrtime.bigint();
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
  return { messages, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function gpsdecode(file: string): { messages: number; seconds: number } | { error: string } {
  const which = spawnSync('sh', ['-c', 'command -v gpsdecode']);
  if (which.status !== 0) return { error: 'gpsdecode not found: run `npm run bootstrap` (installs Debian gpsd-clients)' };
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', `gpsdecode -j < '${file}' 2>/dev/null | wc -l`], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) return { error: `gpsdecode failed: ${r.stderr}` };
  return { messages: Number(r.stdout.trim()), seconds };
}

/**
 * End-to-end ingest (decode + batched write into ais_positions) on embedded
 * TimescaleDB and on the PostgreSQL server: added by the feeds/store work
 * (issue 3 items 7-9). Returns null until then.
 */
export async function benchIngest(_file: string, _lines: number): Promise<null | Record<string, number>> {
  return null;
}

function rate(messages: number, seconds: number): string {
  return `${Math.round(messages / seconds).toLocaleString('en-US')} msg/s`;
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
    const d = decodeOnly(lines);
    console.log(`decode            ${d.messages} messages in ${d.seconds.toFixed(2)} s  ${rate(d.messages, d.seconds)}`);
    const j = decodeJson(lines);
    console.log(`decode+json       ${j.messages} messages in ${j.seconds.toFixed(2)} s  ${rate(j.messages, j.seconds)}`);
    const s = await streamFile(file);
    console.log(`stream file→json  ${s.messages} messages in ${s.seconds.toFixed(2)} s  ${rate(s.messages, s.seconds)}`);
    const g = gpsdecode(file);
    if ('error' in g) {
      console.log(`gpsdecode -j      ${g.error}`);
      process.exitCode = 1;
    } else {
      console.log(`gpsdecode -j      ${g.messages} messages in ${g.seconds.toFixed(2)} s  ${rate(g.messages, g.seconds)}`);
      const ours = s.messages / s.seconds;
      const theirs = g.messages / g.seconds;
      console.log(`ratio (stream file→json / gpsdecode -j): ${(ours / theirs).toFixed(2)}x`);
      console.log(`ratio (decode / gpsdecode -j):           ${(d.messages / d.seconds / theirs).toFixed(2)}x`);
    }
    const ingest = await benchIngest(file, lines.length);
    if (ingest === null) console.log('ingest            (end-to-end decode + write: not yet implemented, see benchIngest)');
    else for (const [k, v] of Object.entries(ingest)) console.log(`ingest ${k}  ${Math.round(v)} msg/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
