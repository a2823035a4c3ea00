/**
 * API benchmark.
 *
 * 1. Berth activity: `queryBerthActivity` over the whole range for each berth,
 *    served from the continuous aggregates against the same query on the raw
 *    hypertables (each aggregate replaced by its own defining SELECT), same
 *    data, same run. Data: `--berths` berths, one vessel each, one AIS fix per
 *    10 s for `--days` days (the issue's case is 20 berths × 90 days, 15.5 M
 *    fixes), plus an arrival and a departure a day. Targets:
 *     - plain PostgreSQL (PG_BENCH_URL or the local server on 5432, a database
 *       created and dropped here), `--small-days` days: its "aggregates" are
 *       views, so both sides read the raw table: a comparison row, no goal;
 *     - the embedded store (PGlite + TimescaleDB, in memory), `--small-days`
 *       days, aggregates refreshed;
 *     - a TimescaleDB server when TSDB_BENCH_URL is set (`npm run bench`
 *       starts a private one).
 *    Goal: aggregate ≥ 20× faster than raw, p95 < 100 ms on a server.
 * 2. Live fan-out: `--clients` SSE clients on GET /api/stream of an API on
 *    loopback; an alert appended to the board, the time until the last client
 *    has it; p99 over `--alerts` alerts (goal < 100 ms). The clients run in a
 *    process of their own.
 *
 *   npm run bench:api
 *   npm run bench:api -- --days 90 --berths 20 --small-days 7 --queries 20 --clients 200 --alerts 50
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { bucketStart, buildApiServer, createApiToken, queryBerthActivity, type Bucket } from '../../pipeline/api/index.js';
import { BoardStream } from '../../pipeline/board/index.js';
import { silentLogger } from '../../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../../pipeline/store/index.js';
import { numberOption } from './options.js';
import { createServerDatabase } from '../test-services/server-database.js';
import { reportBench } from './report.js';

const arg = numberOption;

const DAYS = arg('days', 90);
// The embedded store (in memory) and plain PostgreSQL (no aggregates: a
// comparison row) get fewer days than the TimescaleDB server.
const SMALL_DAYS = arg('small-days', 7);
const BERTHS = arg('berths', 20);
const QUERIES = arg('queries', 20);
const CLIENTS = arg('clients', 200);
const ALERTS = arg('alerts', 50);
const BUCKET: Bucket = '1d';
const logger = silentLogger();
const out = (s: string) => process.stdout.write(`${s}\n`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Fixes every 10 s per berth's vessel, moored two days in three; an arrival and a departure a day. */
async function fill(store: Store, days: number): Promise<{ from: Date; to: Date; rows: number }> {
  const to = bucketStart(new Date(), '1d');
  const from = new Date(to.getTime() - days * 86_400_000);
  const perBerth = (days * 86_400) / 10;
  const t0 = performance.now();
  // A day at a time: bounded statements on every target.
  for (let d = 0; d < days; d++) {
    await store.query(
      `INSERT INTO ais_positions (id, time, mmsi, lat, lon, speed, msg_type, berth)
       SELECT gen_random_uuid(), $1::timestamptz + i * interval '10 seconds', 413000000 + b, 24.45, 118.03,
              CASE WHEN (i / 2880) % 3 = 2 THEN 6.0 ELSE 0.1 END, 1, 'B' || b
       FROM generate_series(1, $2::int) b, generate_series(0, 8639) i`,
      [new Date(from.getTime() + d * 86_400_000), BERTHS],
    );
    await store.query(
      `INSERT INTO events (id, time, kind, phase, berth, mmsi)
       SELECT gen_random_uuid(), $1::timestamptz + k * interval '6 hours', CASE WHEN k = 0 THEN 'berth_arrival' ELSE 'berth_departure' END, 'instant', 'B' || b, 413000000 + b
       FROM generate_series(1, $2::int) b, generate_series(0, 1) k`,
      [new Date(from.getTime() + d * 86_400_000), BERTHS],
    );
  }
  out(`  filled ${(perBerth * BERTHS).toLocaleString('en')} fixes (${BERTHS} berths × ${days} days, one per 10 s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (store.capabilities.timescale) {
    const t1 = performance.now();
    for (const name of ['berth_occupancy_hourly', 'berth_activity_hourly', 'detections_hourly']) await store.exec(`CALL refresh_continuous_aggregate('${name}', NULL, NULL)`);
    out(`  continuous aggregates refreshed in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }
  return { from, to, rows: perBerth * BERTHS };
}

async function timeQueries(store: Store, from: Date, to: Date, source: 'aggregate' | 'raw', n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const berth = `B${(i % BERTHS) + 1}`;
    const t0 = performance.now();
    const rows = await queryBerthActivity(store, store.capabilities, { berth, from, to, bucket: BUCKET, cameras: [], source });
    ms.push(performance.now() - t0);
    if (rows.length === 0) throw new Error('no rows');
  }
  return ms;
}

async function berthActivity(label: string, store: Store, days: number, server: boolean): Promise<void> {
  out(`\nberth activity on ${label} (${store.kind}${store.timescaledbVersion ? `, TimescaleDB ${store.timescaledbVersion}` : ''})`);
  const { from, to } = await fill(store, days);
  // Same answer from both (checked once), then warm both once, then time.
  const a = await queryBerthActivity(store, store.capabilities, { berth: 'B1', from, to, bucket: BUCKET, cameras: [] });
  const r = await queryBerthActivity(store, store.capabilities, { berth: 'B1', from, to, bucket: BUCKET, cameras: [], source: 'raw' });
  if (JSON.stringify(a) !== JSON.stringify(r)) out('  WARNING: aggregate and raw answers differ');
  const rawN = Math.max(3, Math.min(QUERIES, 5));
  const agg = await timeQueries(store, from, to, 'aggregate', QUERIES);
  const raw = await timeQueries(store, from, to, 'raw', rawN);
  const aggP50 = pct(agg, 50);
  const rawP50 = pct(raw, 50);
  out(`  aggregate: p50 ${aggP50.toFixed(1)} ms, p95 ${pct(agg, 95).toFixed(1)} ms (${agg.length} queries, ${days} days × 1 berth each, bucket ${BUCKET})`);
  out(`  raw:       p50 ${rawP50.toFixed(1)} ms, p95 ${pct(raw, 95).toFixed(1)} ms (${raw.length} queries)`);
  // Plain PostgreSQL has no continuous aggregates: both sides read the raw
  // table, so its row is for comparison and carries no goal.
  const aggregates = store.capabilities.timescale;
  const note = aggregates ? undefined : 'no continuous aggregates on plain PostgreSQL: both read the raw table';
  reportBench({ name: `berth activity ${days} d, aggregate vs raw, ${label}`, ours: aggP50, peer: rawP50, unit: 'ms p50', better: 'lower', goal: aggregates ? 20 : undefined, inProcess: true, note });
  if (server && aggregates) reportBench({ name: `berth activity ${days} d from the aggregate, p95, ${label}`, ours: pct(agg, 95), unit: 'ms', better: 'lower', goal: 'p95 < 100', inProcess: true });
}

async function onServer(label: string, adminUrl: string, days: number): Promise<void> {
  const db = await createServerDatabase('bench_api', adminUrl);
  const store = await openStore({ databaseUrl: db.url, logger });
  try {
    await migrate(store, { logger });
    await berthActivity(label, store, days, true);
  } finally {
    await store.close();
    await db.drop();
  }
}

async function fanOut(): Promise<void> {
  out(`\nlive fan-out: ${CLIENTS} SSE clients, ${ALERTS} alerts`);
  const store = await openStore({ dataDir: 'memory://', logger });
  await migrate(store, { logger });
  const redisUrl = process.env.REDIS_URL ?? process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const board = new BoardStream({ redis, prefix: `bench:api:${randomUUID().slice(0, 8)}:` });
  const api = await buildApiServer({ store, logger, redis, board, webRoot: null, rateLimitPerMinute: 1_000_000 });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = api.app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/api/stream`;
  const { token } = await createApiToken(store, { role: 'operator', name: 'bench' });
  // The clients run in a process of their own, as browsers do: the server's
  // event loop does not pay for parsing 200 streams, and the figure is what
  // the clients see. Times are wall-clock instants (timeOrigin + now), which
  // two processes on one machine share to well under a millisecond.
  const clients = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--sse-clients', url, token, String(CLIENTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: clients.stdout! });
  const waiting = new Map<number, (t: number) => void>();
  let ready!: () => void;
  const allConnected = new Promise<void>((r) => (ready = r));
  lines.on('line', (line) => {
    if (line === 'ready') return ready();
    const [n, t] = line.split(' ').map(Number);
    waiting.get(n!)?.(t!);
  });
  await allConnected;
  const lat: number[] = [];
  for (let n = 0; n < ALERTS; n++) {
    const arrived = new Promise<number>((done) => waiting.set(n, done));
    const t0 = performance.timeOrigin + performance.now();
    await board.append('alert', { n, kind: 'unauthorized_access' });
    const tLast = await arrived;
    lat.push(tLast - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  clients.kill();
  out(`  alert appended → last of ${CLIENTS} clients: p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`);
  reportBench({ name: `live fan-out to ${CLIENTS} SSE clients, alert to last client, p99`, ours: pct(lat, 99), unit: 'ms', better: 'lower', goal: 'p99 < 100', note: 'server and clients in two processes' });
  await api.close();
  await redis.del(board.key);
  await board.close();
  redis.disconnect();
  await store.close();
}

/** `--sse-clients URL TOKEN N`: N SSE clients; prints "ready", then "n time" when the last client has alert n. */
async function sseClients(url: string, token: string, count: number): Promise<void> {
  const left = new Map<number, number>();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let buf = '';
      void (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += dec.decode(value, { stream: true });
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const m = /data: \{"n":(\d+)/.exec(block);
            if (!m) continue;
            const n = Number(m[1]);
            const l = (left.get(n) ?? count) - 1;
            left.set(n, l);
            if (l === 0) out(`${n} ${performance.timeOrigin + performance.now()}`);
          }
        }
      })();
    }),
  );
  out('ready');
}

const clientsAt = process.argv.indexOf('--sse-clients');
if (clientsAt >= 0) {
  const [url, token, count] = process.argv.slice(clientsAt + 1);
  await sseClients(url!, token!, Number(count));
  await new Promise(() => {}); // until the benchmark kills it
}

const only = process.argv.includes('--fanout-only') ? 'fanout' : process.argv.includes('--activity-only') ? 'activity' : 'all';
if (only !== 'fanout') {
  await onServer('PostgreSQL server (plain, views)', process.env.PG_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', SMALL_DAYS);
  if (process.env.TSDB_BENCH_URL) await onServer('TimescaleDB server', process.env.TSDB_BENCH_URL, DAYS);
  else out('\nTimescaleDB server: skipped (set TSDB_BENCH_URL to a server with TimescaleDB preloaded; `npm run bench` starts one)');
  const embedded = await openStore({ dataDir: 'memory://', logger });
  await migrate(embedded, { logger });
  await berthActivity('embedded store', embedded, SMALL_DAYS, false);
  await embedded.close();
}
if (only !== 'activity') await fanOut();
process.exit(0);
