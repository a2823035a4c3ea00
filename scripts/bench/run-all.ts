/**
 * `npm run bench`: every benchmark in scripts/bench/ (each `*.ts` but this file
 * and the helpers report.ts and options.ts, listed when it starts), one after
 * the other as whole
 * processes, then one markdown table in `bench-results.md` (not committed):
 * ours beside the peer and the ratio, from the `BENCH {…}` lines each one
 * prints (scripts/bench/report.ts), plus the machine: CPU model, cores,
 * memory and the load average before and after.
 *
 *   npm run bench
 *   npm run bench -- --only store,detect      # some of them
 *   npm run bench -- --skip cameras           # all but these
 *   npm run bench -- --out /tmp/bench.md --timeout-min 40
 *
 * Benchmarks that need a PostgreSQL server get a private cluster (as the
 * tests do) through PG_BENCH_URL unless it is set, and a private TimescaleDB
 * cluster through TSDB_BENCH_URL (built from the vendored source once, as for
 * the tests; without it those rows say why they were skipped); the machine's
 * own server is not used. Each benchmark's own output is shown as it runs.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPrivatePostgres, type PrivatePostgres } from '../test-services/private-postgres.js';
import { TIMESCALEDB_PG_MAJOR, defaultTarball, ensureTimescaleDb } from '../test-services/timescaledb.js';
import { parseBenchLines, type BenchResult } from './report.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    skip: { type: 'string' },
    out: { type: 'string', default: join(root, 'bench-results.md') },
    'timeout-min': { type: 'string', default: '30' },
  },
});

const NOT_BENCHMARKS = new Set(['options', 'report', 'run-all']);
const list = (v: string | undefined) => new Set((v ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const only = list(values.only);
const skip = list(values.skip);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'))
  .filter((n) => !NOT_BENCHMARKS.has(n))
  .sort();
for (const n of [...only, ...skip]) if (!all.includes(n)) throw new Error(`--only/--skip: no benchmark "${n}" in scripts/bench (there are: ${all.join(', ')})`);
const chosen = all.filter((n) => (only.size === 0 || only.has(n)) && !skip.has(n));
const timeoutMs = Number(values['timeout-min']) * 60_000;

function machine(): { cpu: string; cores: number; memoryGiB: number; load: string } {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux: os.cpus() named it
  }
  return { cpu, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), load: loadavg().map((l) => l.toFixed(2)).join(' / ') };
}

interface Outcome {
  name: string;
  code: number | null;
  seconds: number;
  results: BenchResult[];
  errors: string[];
}

function runOne(name: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const started = Date.now();
  process.stdout.write(`\n━━ ${name} (scripts/bench/${name}.ts)\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`)], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      process.stdout.write(d);
    });
    const timer = setTimeout(() => {
      process.stdout.write(`\n${name}: still running after ${values['timeout-min']} min, stopped\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const { results, errors } = parseBenchLines(text);
      resolve({ name, code, seconds: (Date.now() - started) / 1000, results, errors });
    });
  });
}

const num = (v: number | null) => (v === null ? '–' : Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString());
const cell = (s: string) => s.replace(/\|/g, '\\|');

function markdown(outcomes: Outcome[], before: ReturnType<typeof machine>, after: ReturnType<typeof machine>, startedAt: Date): string {
  const lines = [
    '# Benchmark results',
    '',
    `${startedAt.toISOString()}; machine: ${before.cpu}, ${before.cores} cores, ${before.memoryGiB} GiB; load average (1/5/15 min) ${before.load} before, ${after.load} after.`,
    '',
    'Ratio: times better than the peer (ours/peer when higher is better, peer/ours when lower is better), both measured in the same run.',
    '',
    '| benchmark | comparison | ours | peer | unit | ratio | goal | met |',
    '|---|---|---:|---:|---|---:|---|---|',
  ];
  for (const o of outcomes) {
    for (const r of o.results) {
      const label = `${r.name}${r.inProcess ? ' (in process)' : ''}${r.note ? ` — ${r.note}` : ''}`;
      const met = r.met === null ? '' : r.met ? 'met' : '**NOT met**';
      lines.push(`| ${o.name} | ${cell(label)} | ${num(r.ours)} | ${num(r.peer)} | ${cell(r.unit)} | ${r.ratio === null ? '–' : `${num(r.ratio)}×`} | ${cell(r.goal ?? '')} | ${met} |`);
    }
  }
  const trouble = outcomes.filter((o) => o.code !== 0 || o.results.length === 0 || o.errors.length > 0);
  if (trouble.length) {
    lines.push('', '## Benchmarks without a full result', '');
    for (const o of trouble) {
      const why = [o.code !== 0 ? `exit code ${o.code}` : '', o.results.length === 0 ? 'printed no BENCH line' : '', ...o.errors].filter(Boolean).join('; ');
      lines.push(`- ${o.name}: ${why}`);
    }
  }
  lines.push('', '## Durations', '', ...outcomes.map((o) => `- ${o.name}: ${o.seconds.toFixed(0)} s`), '');
  return lines.join('\n');
}

const startedAt = new Date();
const before = machine();
process.stdout.write(`benchmarks: ${chosen.join(', ')}\nmachine: ${before.cpu}, ${before.cores} cores, load ${before.load}\n`);
let pgServer: PrivatePostgres | null = null;
let tsdbServer: PrivatePostgres | null = null;
const env: NodeJS.ProcessEnv = { ...process.env };
try {
  if (!env.PG_BENCH_URL) {
    pgServer = await startPrivatePostgres({ name: 'bench' });
    env.PG_BENCH_URL = pgServer.url;
    process.stdout.write(`private PostgreSQL for the benchmarks: ${pgServer.url}\n`);
  }
  if (!env.TSDB_BENCH_URL) {
    const tsdb = ensureTimescaleDb({ tarball: defaultTarball(root), log: (line) => process.stdout.write(`${line}\n`) });
    if (tsdb.ok) {
      tsdbServer = await startPrivatePostgres({ name: 'bench-tsdb', major: TIMESCALEDB_PG_MAJOR, preload: ['timescaledb'], settings: { 'timescaledb.telemetry_level': 'off' } });
      env.TSDB_BENCH_URL = tsdbServer.url;
      process.stdout.write(`private TimescaleDB server for the benchmarks: ${tsdbServer.url}\n`);
    } else {
      process.stdout.write(`!!! no TimescaleDB server for the benchmarks: ${tsdb.reason}; set TSDB_BENCH_URL to include its rows\n`);
    }
  }
  const outcomes: Outcome[] = [];
  for (const name of chosen) outcomes.push(await runOne(name, env));
  const text = markdown(outcomes, before, machine(), startedAt);
  writeFileSync(values.out!, text);
  process.stdout.write(`\n${text}\nwritten to ${values.out}\n`);
  process.exitCode = outcomes.every((o) => o.code === 0) ? 0 : 1;
} finally {
  await pgServer?.stop();
  await tsdbServer?.stop();
}
