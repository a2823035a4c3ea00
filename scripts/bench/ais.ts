/**
 * AIS decoding benchmark: `portwatch ais decode FILE > out.jsonl` against
 * `gpsdecode -j < FILE > out.jsonl` as whole processes, the way a user runs
 * them: same file (a real capture repeated), same moment, both writing to a
 * file, paired runs in alternating order, medians of wall time, CPU
 * (user + system) and peak memory, measured by /usr/bin/time.
 *
 *   npm run bench:ais                            # 340,000 and 30,000 lines, 5 paired runs each
 *   npm run bench:ais -- --runs 3 --sizes 100000
 *   npm run bench:ais -- --gigabyte              # also peak memory on a 1 GB capture (streamed)
 *   npm run bench:ais -- --sizes '' --gigabyte   # only that
 *   npm run bench:ais -- --in-process            # also the library figures (labelled in-process)
 *
 * The start-up bundle is built first (scripts/build-cli.mjs, as the bootstrap
 * does); the output says whether `portwatch ais decode` ran from its fast
 * entry (no commander), through commander, or through tsx.
 * End-to-end ingest into the store is scripts/bench/ais-ingest.ts.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AisLineDecoder, aisJsonLine, decodeAisReadable, type FeedRecord } from '../../pipeline/ais/index.js';
// @ts-expect-error plain JavaScript build script without type declarations
import { bundleFor, fastCommandsBundle } from '../build-cli.mjs';
import { reportBench } from './report.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_CORPUS = join(root, 'test/fixtures/ais/pyais/nmea_data_sample.txt');
const TIME = '/usr/bin/time';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '340000,30000' },
    corpus: { type: 'string', default: DEFAULT_CORPUS },
    gigabyte: { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
  },
});

interface Measure {
  wall: number;
  cpu: number;
  /** Peak resident set, MiB. */
  rss: number;
  lines: number;
}

function corpusLines(corpus: string): string[] {
  return readFileSync(corpus, 'latin1')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** The capture repeated to `n` lines, written to `file`. */
function writeInput(file: string, base: string[], n: number): void {
  const fd = openSync(file, 'w');
  try {
    let written = 0;
    const block = base.join('\n') + '\n';
    while (written + base.length <= n) {
      writeSync(fd, block, null, 'latin1');
      written += base.length;
    }
    if (written < n) writeSync(fd, base.slice(0, n - written).join('\n') + '\n', null, 'latin1');
  } finally {
    closeSync(fd);
  }
}

function countLines(file: string): number {
  const r = spawnSync('wc', ['-l', file], { encoding: 'utf8' });
  return Number(r.stdout.trim().split(/\s+/)[0]);
}

/** One whole process under /usr/bin/time, stdin and stdout redirected to files. */
function timed(argv: string[], stdinFile: string | null, stdoutFile: string, timeFile: string): Measure {
  const inFd = stdinFile === null ? 'ignore' : openSync(stdinFile, 'r');
  const outFd = openSync(stdoutFile, 'w');
  // gpsdecode writes a line to stderr for every message it cannot parse: into a file, not a pipe.
  const errFile = `${stdoutFile}.stderr`;
  const errFd = openSync(errFile, 'w');
  try {
    const r = spawnSync(TIME, ['-f', '%e %U %S %M', '-o', timeFile, ...argv], { cwd: root, stdio: [inFd, outFd, errFd] });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${readFileSync(errFile, 'utf8').slice(-500)}`);
  } finally {
    if (typeof inFd === 'number') closeSync(inFd);
    closeSync(outFd);
    closeSync(errFd);
    rmSync(errFile, { force: true });
  }
  const [wall, user, sys, kb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wall: wall!, cpu: user! + sys!, rss: kb! / 1024, lines: countLines(stdoutFile) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (x: number, d = 2): string => x.toFixed(d);

function ours(file: string, out: string, timeFile: string): Measure {
  return timed([process.execPath, 'bin/portwatch.js', 'ais', 'decode', '-q', file], null, out, timeFile);
}

function gpsd(file: string, out: string, timeFile: string): Measure {
  return timed(['gpsdecode', '-j'], file, out, timeFile);
}

function wholeProcess(dir: string, base: string[], lines: number, runs: number): void {
  const file = join(dir, `capture-${lines}.nmea`);
  writeInput(file, base, lines);
  const mb = statSync(file).size / 2 ** 20;
  const a: Measure[] = [];
  const b: Measure[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate who goes first, so neither always meets a warm or a cold page cache.
    const run = [(): number => a.push(ours(file, join(dir, 'ours.jsonl'), join(dir, 'time'))), (): number => b.push(gpsd(file, join(dir, 'gpsd.jsonl'), join(dir, 'time')))];
    if (i % 2 === 1) run.reverse();
    for (const f of run) f();
  }
  const o = { wall: median(a.map((m) => m.wall)), cpu: median(a.map((m) => m.cpu)), rss: median(a.map((m) => m.rss)) };
  const g = { wall: median(b.map((m) => m.wall)), cpu: median(b.map((m) => m.cpu)), rss: median(b.map((m) => m.rss)) };
  console.log(`\n${lines.toLocaleString('en-US')} lines (${fmt(mb, 1)} MiB), ${runs} paired runs, medians:`);
  console.log(`  portwatch ais decode  wall ${fmt(o.wall)} s  cpu ${fmt(o.cpu)} s  peak ${fmt(o.rss, 0)} MiB  ${a[0]!.lines} JSON lines`);
  console.log(`  gpsdecode -j          wall ${fmt(g.wall)} s  cpu ${fmt(g.cpu)} s  peak ${fmt(g.rss, 0)} MiB  ${b[0]!.lines} JSON lines`);
  console.log(`  speed: ${fmt(g.wall / o.wall)}x gpsdecode by wall time, ${fmt(g.cpu / o.cpu)}x by CPU time`);
  console.log(`  runs (ours/gpsd wall s): ${a.map((m, i) => `${fmt(m.wall)}/${fmt(b[i]!.wall)}`).join('  ')}`);
  const goal = lines >= 300000 ? 1.5 : 1.0;
  const name = `ais decode FILE > out vs gpsdecode -j, whole processes, ${lines.toLocaleString('en-US')} lines`;
  reportBench({ name: `${name}, wall`, ours: o.wall, peer: g.wall, unit: 's', better: 'lower', goal });
  reportBench({ name: `${name}, CPU`, ours: o.cpu, peer: g.cpu, unit: 's', better: 'lower' });
  reportBench({ name: `${name}, peak memory`, ours: o.rss, peer: g.rss, unit: 'MiB', better: 'lower' });
}

/**
 * Peak memory on a 1 GiB capture, our process only: gpsdecode's peak (4 MiB)
 * does not grow with the file and is measured beside ours at the other sizes,
 * and its run over a gigabyte takes many minutes.
 */
function gigabyte(dir: string, base: string[]): void {
  const perLine = base.reduce((s, l) => s + l.length + 1, 0) / base.length;
  const lines = Math.ceil(2 ** 30 / perLine);
  const file = join(dir, 'capture-1g.nmea');
  writeInput(file, base, lines);
  const out = join(dir, 'big.jsonl');
  const o = ours(file, out, join(dir, 'time'));
  rmSync(out, { force: true });
  rmSync(file, { force: true });
  console.log(`\n1 GiB capture (${lines.toLocaleString('en-US')} lines), one run, output to a file:`);
  console.log(`  portwatch ais decode  wall ${fmt(o.wall)} s  cpu ${fmt(o.cpu)} s  peak ${fmt(o.rss, 0)} MiB  ${o.lines} JSON lines`);
  reportBench({ name: 'ais decode peak memory on a 1 GiB capture (streamed)', ours: o.rss, unit: 'MiB', better: 'lower', goal: '≤ 100' });
}

/** Library figures, one process: decoding alone and decoding to JSON text (not what a user gets). */
async function inProcess(dir: string, base: string[], n: number): Promise<void> {
  const lines: string[] = [];
  while (lines.length < n) lines.push(...base);
  lines.length = n;
  const file = join(dir, 'in-process.nmea');
  writeFileSync(file, lines.join('\n') + '\n', 'latin1');
  const run = async (name: string, fn: () => Promise<number> | number): Promise<void> => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const messages = await fn();
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    console.log(`  ${name.padEnd(26)} ${messages} msgs  wall ${fmt(wall)} s  cpu ${fmt(cpu)} s  ${Math.round(messages / cpu).toLocaleString('en-US')} msg per CPU s`);
    reportBench({ name: `in-process: ${name}, ${n} lines`, ours: messages / cpu, unit: 'msg per CPU s', inProcess: true });
  };
  const decode = (json: boolean): number => {
    let messages = 0;
    const dec = new AisLineDecoder({
      device: 'stdin',
      onRecord: (r: FeedRecord) => {
        if (r.kind !== 'ais') return;
        messages++;
        if (json) aisJsonLine(r);
      },
    });
    for (let i = 0; i < lines.length; i++) dec.push(lines[i]!, i + 1);
    dec.finish();
    return messages;
  };
  console.log(`\nin-process (one warm process, not what a user gets), ${n.toLocaleString('en-US')} lines:`);
  decode(true); // warm-up for the JIT
  await run('decode', () => decode(false));
  await run('decode + JSON text', () => decode(true));
  await run('file stream → JSON text', async () => {
    let messages = 0;
    await decodeAisReadable(createReadStream(file, { highWaterMark: 1 << 18 }), {
      device: 'stdin',
      onRecord: (r: FeedRecord) => {
        if (r.kind === 'ais') {
          messages++;
          aisJsonLine(r);
        }
      },
    });
    return messages;
  });
}

async function main(): Promise<void> {
  for (const [cmd, hint] of [
    [TIME, 'GNU time: apt-get install time'],
    ['gpsdecode', 'run `npm run bootstrap` (installs Debian gpsd-clients)'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) throw new Error(`${cmd} not found: ${hint}`);
  }
  const build = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building the start-up bundle failed (scripts/build-cli.mjs)');
  const from =
    fastCommandsBundle() !== null
      ? 'from the start-up bundle, without commander (.cache/cli, cli/fast-commands.ts)'
      : bundleFor('ais') !== null
        ? 'from the start-up bundle through commander (.cache/cli; the fast entry is out of date or missing)'
        : 'through tsx (the bundle is out of date or missing)';
  console.log(`portwatch ais decode runs ${from}`);
  const base = corpusLines(args.corpus);
  console.log(`corpus ${args.corpus}: ${base.length} lines, repeated`);
  const dir = mkdtempSync(join(tmpdir(), 'portwatch-bench-ais-'));
  try {
    const runs = Number(args.runs);
    const sizes = args.sizes.split(',').filter((x) => x !== '').map(Number);
    for (const n of sizes) wholeProcess(dir, base, n, runs);
    if (args.gigabyte) gigabyte(dir, base);
    if (args['in-process']) await inProcess(dir, base, sizes[0] ?? 340000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
