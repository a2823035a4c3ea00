/**
 * End-to-end AIS ingest benchmark: lines → decoder → AisIngest (positions
 * through the batched writer, vessel upserts, berth occupancy, anomalies,
 * events) → committed rows, into the embedded store and into the PostgreSQL
 * server (COPY path), in the same run. The clock stops when every row is
 * committed (`close()`), so the figure is what a feed can sustain.
 *
 *   node --import tsx scripts/bench/ais-ingest.ts [--lines 300000] [--corpus FILE] [--targets embedded,server]
 *
 * The server is PG_BENCH_URL (default postgres://postgres@127.0.0.1:5432/test);
 * the benchmark creates and drops its own database there. Each line gets its
 * own receive time (see receiveTime), as a replay of a busy receiver would, so
 * the repeated corpus makes distinct rows rather than duplicates.
 *
 * `scripts/bench/ais.ts` calls `benchIngest` for its "ingest" lines.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { AisIngest, type AisIngestStats } from '../../pipeline/ais-ingest/index.js';
import { silentLogger } from '../../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../../pipeline/store/index.js';
import { reportBench } from './report.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const DEFAULT_CORPUS = join(here, '../../test/fixtures/ais/pyais/nmea_data_sample.txt');
const ADMIN_URL = process.env.PG_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface IngestRun {
  target: string;
  lines: number;
  messages: number;
  positions: number;
  rows: number;
  events: number;
  seconds: number;
  cpuSeconds: number;
  messagesPerSecond: number;
  messagesPerCpuSecond: number;
  stats: AisIngestStats;
}

/** The corpus repeated to `target` lines; `period` is the corpus length (one pass). */
function readLines(file: string, target: number): string[] & { period?: number } {
  const base = readFileSync(file, 'latin1')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const lines: string[] & { period?: number } = [];
  while (lines.length < target) for (const l of base) lines.push(l);
  lines.length = target;
  lines.period = base.length;
  return lines;
}

/**
 * Receive times: one line per second of data time within a pass of the
 * corpus, the next pass a minute after the last line. The corpus is a real
 * capture whose reports of one vessel are seconds to minutes apart; replayed
 * 1 ms apart, every moving vessel would seem to jump at hundreds of knots and
 * a third of the reports would become position-jump events, which no port
 * sees. The data clock does not pace anything: the lines go in as fast as the
 * ingest takes them.
 */
function receiveTime(base: number, i: number, period: number): number {
  return base + Math.floor(i / period) * (period * 1000 + 60_000) + (i % period) * 1000;
}

async function runOn(target: string, store: Store, lines: readonly string[] & { period?: number }): Promise<IngestRun> {
  const period = lines.period ?? lines.length;
  const logger = silentLogger();
  await migrate(store, { logger });
  const ingest = new AisIngest({ store, logger, batchSize: 5000 });
  const base = Date.parse('2031-01-01T00:00:00Z');
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i++) {
    const r = ingest.handleLine(lines[i]!, { feed: 'bench', received: new Date(receiveTime(base, i, period)), line_number: i + 1 });
    if (r) await r;
  }
  const stats = await ingest.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rows = Number((await store.query<{ n: number }>('SELECT count(*) AS n FROM ais_positions')).rows[0]!.n);
  return {
    target,
    lines: lines.length,
    messages: stats.messages,
    positions: stats.positions,
    rows,
    events: stats.events_total,
    seconds,
    cpuSeconds,
    messagesPerSecond: stats.messages / seconds,
    messagesPerCpuSecond: stats.messages / cpuSeconds,
    stats,
  };
}

export async function benchEmbedded(lines: readonly string[] & { period?: number }): Promise<IngestRun> {
  const dir = mkdtempSync(join(tmpdir(), 'portwatch-bench-ingest-'));
  const store = await openStore({ dataDir: dir, logger: silentLogger() });
  try {
    return await runOn('embedded', store, lines);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchServer(lines: readonly string[] & { period?: number }): Promise<IngestRun> {
  const name = `pw_bench_ingest_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString(), logger: silentLogger() });
  try {
    return await runOn(store.kind, store, lines);
  } finally {
    await store.close();
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  }
}

export function formatRun(r: IngestRun): string {
  return (
    `ingest ${r.target.padEnd(10)} ${r.messages} messages (${r.positions} positions → ${r.rows} rows, ${r.events} events) in ${r.seconds.toFixed(2)} s: ` +
    `${Math.round(r.messagesPerSecond).toLocaleString('en-US')} msg/s wall, ${Math.round(r.messagesPerCpuSecond).toLocaleString('en-US')} msg/s per CPU second`
  );
}

/**
 * The entry `scripts/bench/ais.ts` calls: end-to-end msg/s into the embedded
 * store and the server. The embedded run uses at most 200k lines (PGlite is
 * single-threaded WASM and the figure is steady well before that).
 */
export async function benchIngest(file: string, lines: number, log: (s: string) => void = (s) => console.log(s)): Promise<Record<string, number>> {
  const input = readLines(file, lines);
  const out: Record<string, number> = {};
  const embedded = await benchEmbedded(Object.assign(input.slice(0, Math.min(input.length, 200_000)), { period: input.period }));
  log(formatRun(embedded));
  out.embedded = embedded.messagesPerSecond;
  const server = await benchServer(input);
  log(formatRun(server));
  out[server.target] = server.messagesPerSecond;
  return out;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(arg('lines', '300000'));
  const corpus = arg('corpus', DEFAULT_CORPUS);
  const targets = arg('targets', 'embedded,server').split(',');
  const lines = readLines(corpus, n);
  console.log(`corpus ${corpus}, ${lines.length} lines`);
  // Warm the JIT on the decoder and ingest path before timing.
  if (targets.includes('embedded')) {
    const r = await benchEmbedded(Object.assign(lines.slice(0, Math.min(lines.length, Number(arg('embedded-lines', '200000')))), { period: lines.period }));
    console.log(formatRun(r));
    reportBench({ name: 'AIS ingest into the embedded store (decode → rows committed)', ours: r.messagesPerSecond, unit: 'msg/s', inProcess: true, note: 'no peer' });
  }
  if (targets.includes('server')) {
    const r = await benchServer(lines);
    console.log(formatRun(r));
    console.log(`goal ≥ 50,000 msg/s into the server: ${r.messagesPerSecond >= 50_000 ? 'met' : 'NOT met'}`);
    reportBench({ name: `AIS ingest into the ${r.target} server (decode → rows committed)`, ours: r.messagesPerSecond, unit: 'msg/s', goal: '≥ 50000', note: 'no peer' });
  }
}
