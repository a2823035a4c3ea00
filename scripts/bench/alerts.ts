/**
 * Alerts benchmark, in one process (the alerts worker as it runs: BullMQ
 * consumer → rule engine → store → board) on the local Redis.
 *
 *   npm run bench:alerts
 *   npm run bench:alerts -- --events 20000 --rate 500 --seconds 10
 *
 * The store is the production one first: a TimescaleDB server (TSDB_BENCH_URL,
 * which `npm run bench` starts), else PostgreSQL (PG_BENCH_URL, else the local
 * server on 5432), a database created and dropped here; the worker process
 * is the one core measured, the server runs beside it as in production. Then
 * the embedded store (PGlite + TimescaleDB in memory, the demo's), which runs
 * inside the worker's thread: printed, labelled, not the headline.
 *
 * 1. Throughput: N events (284 cameras, people walking through a zone: start,
 *    an update every 2 s, end) are queued first; the clock runs from the
 *    consumer's start until every event is handled and its alerts are stored
 *    and on the board. Goal ≥ 5,000 events/s.
 *    Peer: the raw BullMQ round trip of the same N jobs (a Worker with a no-op
 *    processor, same concurrency): what the queue alone allows here.
 * 2. Latency at a steady 500 events/s: from publishing an event to the board
 *    message it caused (matched by the message's `cause`), p50 and p99.
 *    Goal p99 < 100 ms. Peer: the raw BullMQ round trip at the same rate
 *    (publish → a no-op worker's processor starting the job), p50 and p99.
 *    Under load the worker folds several changes of one alert into one board
 *    message (the latest `cause`); the events whose change was folded into a
 *    later one are counted, not timed.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { AlertsService } from '../../pipeline/alerts/index.js';
import { BoardStream } from '../../pipeline/board/index.js';
import { checkSiteConfigText, type SiteConfig } from '../../pipeline/config/index.js';
import { eventId, type PortEvent } from '../../pipeline/events/index.js';
import { silentLogger } from '../../pipeline/log/index.js';
import { EventQueue, eventJobId } from '../../pipeline/queue/index.js';
import { migrate, openStore } from '../../pipeline/store/index.js';
import { numberOption } from './options.js';
import { reportBench } from './report.js';
import { createServerDatabase } from '../test-services/server-database.js';

const arg = numberOption;

const EVENTS = arg('events', 20_000);
const RATE = arg('rate', 500);
const SECONDS = arg('seconds', 10);
const CAMERAS = 284;
const CONCURRENCY = 256;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = silentLogger();
const out = (s: string) => process.stdout.write(`${s}\n`);

function site(): SiteConfig {
  const cams = Array.from({ length: CAMERAS }, (_, i) => `  - { id: cam-${i}, kind: yard, streams: { main: "rtsp://127.0.0.1:8554/c${i}" }, zones: [{ id: fence, kind: restricted, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]], classes: [person] }] }`).join('\n');
  const text = `site: { name: bench, timezone: UTC }
defaults: { detect: { model: nanodet-int8 } }
cameras:
${cams}
alerts:
  routes: [{ id: board, kind: board }]
  rules:
    - { id: intrusion, kinds: [unauthorized_access], zones: [fence], severity: high, routes: [board], cooldown_seconds: 60 }
  escalate_after_seconds: { high: 0 }
`;
  const r = checkSiteConfigText(text, { file: 'bench-site.yaml', base_dir: process.cwd() });
  if (!r.config) throw new Error(r.issues.map((i) => i.message).join('\n'));
  return r.config;
}

/** People walking through each camera's zone: a track every ~20 s per camera, 8 s long, an update every 2 s. */
function* walkers(startMs: number, run: string): Generator<PortEvent> {
  let track = 0;
  for (let round = 0; ; round++) {
    for (let c = 0; c < CAMERAS; c++) {
      const camera = `cam-${c}`;
      const t0 = startMs + round * 20_000 + ((c * 71) % 20_000);
      const id = eventId(run, camera, ++track);
      const base = { id, kind: 'unauthorized_access' as const, camera, zone: 'fence', track, class: 'person', score: 0.8 };
      yield { ...base, time: new Date(t0), phase: 'start', snapshot: `${camera}/${track}.jpg` };
      for (let s = 2; s < 8; s += 2) yield { ...base, time: new Date(t0 + s * 1000), phase: 'update' };
      yield { ...base, time: new Date(t0 + 8_000), phase: 'end' };
    }
  }
}

function take(n: number, start: number, run: string): PortEvent[] {
  const list: PortEvent[] = [];
  for (const e of walkers(start, run)) {
    list.push(e);
    if (list.length >= n) break;
  }
  // Roughly in time order, as cameras deliver them.
  return list.sort((a, b) => a.time.getTime() - b.time.getTime());
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function cleanup(redis: Redis, prefix: string) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

interface Target {
  label: string;
  /** A server database, or undefined for the embedded store in memory. */
  url?: string;
}

async function service(target: Target, prefix: string, boardPrefix: string, conns: Redis[]) {
  const store = await openStore(target.url ? { databaseUrl: target.url, logger } : { dataDir: 'memory://', logger });
  await migrate(store, { logger });
  const s = new AlertsService({
    site: site(),
    store,
    logger,
    connect: () => {
      const c = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
      conns.push(c);
      return c;
    },
    queuePrefix: prefix,
    boardPrefix,
    concurrency: CONCURRENCY,
    rebuildMs: 0,
  });
  return { s, store };
}

async function rawThroughput(redis: Redis, events: PortEvent[]): Promise<number> {
  const prefix = `bench-alerts-raw-${randomUUID().slice(0, 8)}`;
  const q = new EventQueue({ connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), logger, prefix });
  for (let i = 0; i < events.length; i += 1000) await q.publishMany(events.slice(i, i + 1000));
  let done = 0;
  const t0 = performance.now();
  let release: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (release = resolve));
  const w = new Worker('events', async () => {
    if (++done === events.length) release();
  }, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: CONCURRENCY });
  await finished;
  const rate = events.length / ((performance.now() - t0) / 1000);
  await w.close();
  await q.close();
  await cleanup(redis, prefix);
  return rate;
}

async function oursThroughput(target: Target, redis: Redis, events: PortEvent[]): Promise<{ rate: number; alerts: number; boardMessages: number; storeRows: number; storeBatches: number; cpuPerEvent: number }> {
  const prefix = `bench-alerts-${randomUUID().slice(0, 8)}`;
  const conns: Redis[] = [];
  const q = new EventQueue({ connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), logger, prefix });
  for (let i = 0; i < events.length; i += 1000) await q.publishMany(events.slice(i, i + 1000));
  const { s, store } = await service(target, prefix, `${prefix}:`, conns);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await s.start();
  while (s.stats.events < events.length) await new Promise((r) => setTimeout(r, 5));
  // Handled means stored and on the board: jobs complete once folded, their batch is written after.
  const queue = new Queue('events', { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix });
  for (;;) {
    const c = await queue.getJobCounts('active', 'waiting');
    if ((c.active ?? 0) + (c.waiting ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await s.settled();
  const rate = events.length / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const cpuPerEvent = (cpu.user + cpu.system) / events.length;
  const alerts = Number((await store.query('SELECT count(*) AS n FROM alerts')).rows[0]!.n);
  const boardMessages = s.stats.board_messages;
  const storeRows = s.stats.store_rows;
  const storeBatches = s.stats.store_batches;
  await s.stop();
  await queue.close();
  await q.close();
  await store.close();
  for (const c of conns) c.disconnect();
  await cleanup(redis, prefix);
  return { rate, alerts, boardMessages, storeRows, storeBatches, cpuPerEvent };
}

/** Publishes at `rate`/s for `seconds`; `seen(cause)` resolves the time each event's effect was observed. */
async function paced(q: EventQueue, events: PortEvent[], rate: number, sent: Map<string, number>) {
  const t0 = performance.now();
  for (let i = 0; i < events.length; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const e = events[i]!;
    sent.set(eventJobId(e), performance.now());
    void q.publish(e);
  }
}

async function oursLatency(target: Target, redis: Redis, rate: number, seconds: number): Promise<{ latencies: number[]; published: number }> {
  const prefix = `bench-alerts-lat-${randomUUID().slice(0, 8)}`;
  const conns: Redis[] = [];
  const { s, store } = await service(target, prefix, `${prefix}:`, conns);
  await s.start();
  const board = new BoardStream({ redis: new Redis(REDIS_URL), prefix: `${prefix}:` });
  const q = new EventQueue({ connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), logger, prefix });
  const events = take(rate * seconds, Date.now(), prefix);
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  let reading = true;
  const reader = (async () => {
    let last = await board.lastId();
    while (reading) {
      const r = await board.read(last, { blockMs: 200, count: 1000 });
      const now = performance.now();
      for (const m of r.messages) {
        const cause = (m.data as { cause?: string }).cause;
        const t = cause ? sent.get(cause) : undefined;
        // The first message an event caused (a flood can announce the member and its flood alert).
        if (t !== undefined) {
          latencies.push(now - t);
          sent.delete(cause!);
        }
      }
      last = r.lastId;
    }
  })();
  await paced(q, events, rate, sent);
  await new Promise((r) => setTimeout(r, 1000));
  reading = false;
  await reader;
  await s.stop();
  await board.close();
  await q.close();
  await store.close();
  for (const c of conns) c.disconnect();
  await cleanup(redis, prefix);
  return { latencies: latencies.sort((a, b) => a - b), published: events.length };
}

async function rawLatency(redis: Redis, rate: number, seconds: number): Promise<number[]> {
  const prefix = `bench-alerts-rawlat-${randomUUID().slice(0, 8)}`;
  const q = new EventQueue({ connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), logger, prefix });
  const events = take(rate * seconds, Date.now(), prefix);
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const w = new Worker('events', async (job) => {
    const t = sent.get(job.id ?? '');
    if (t !== undefined) latencies.push(performance.now() - t);
  }, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: CONCURRENCY });
  await w.waitUntilReady();
  await paced(q, events, rate, sent);
  await new Promise((r) => setTimeout(r, 1000));
  await w.close();
  await q.close();
  await cleanup(redis, prefix);
  return latencies.sort((a, b) => a - b);
}

/** The server store: TimescaleDB when `npm run bench` started one, else PostgreSQL; undefined when none answers. */
async function serverTarget(): Promise<{ target: Target; drop(): Promise<void> } | undefined> {
  const [label, admin] = process.env.TSDB_BENCH_URL ? ['TimescaleDB server', process.env.TSDB_BENCH_URL] : ['PostgreSQL server', process.env.PG_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/test'];
  try {
    const db = await createServerDatabase('bench_alerts', admin);
    return { target: { label, url: db.url }, drop: () => db.drop() };
  } catch (err) {
    out(`!!! no database server for the headline (${admin}: ${(err as Error).message}); set TSDB_BENCH_URL or PG_BENCH_URL, or run \`npm run bench\`, which starts one`);
    return undefined;
  }
}

async function throughput(target: Target, raw: number, headline: boolean) {
  // Event times end at the start of the run, as live cameras' would: the worker's clock tick (every 5 s, wall time)
  // then moves nothing, and the same events give the same alerts whenever the tick falls.
  const span = Math.ceil(EVENTS / (CAMERAS * 5)) * 20_000 + 20_000;
  const r = await oursThroughput(target, redis, take(EVENTS, Date.now() - span, `tp-${randomUUID().slice(0, 8)}`));
  out(`  alerts worker, ${target.label.padEnd(20)} ${Math.round(r.rate).toLocaleString('en-US').padStart(6)} events/s   (${r.cpuPerEvent.toFixed(0)} µs of the worker's CPU per event; ${r.alerts} alerts, ${r.storeRows} alert rows written in ${r.storeBatches} batches, ${r.boardMessages} board messages${headline ? '; goal ≥ 5,000' : ''})`);
  reportBench({
    name: `alerts worker events/s (rules + store + board), ${target.label}, vs raw BullMQ round trip`,
    ours: Math.round(r.rate),
    peer: Math.round(raw),
    unit: 'events/s',
    better: 'higher',
    ...(headline ? { goal: '≥ 5000' } : { note: 'the embedded store runs in the worker\'s own thread (the demo\'s store); the goal is for the production store' }),
    inProcess: true,
  });
}

const redis = new Redis(REDIS_URL);
const started = performance.now();
out(`alerts benchmark: ${EVENTS.toLocaleString('en-US')} events for throughput, ${RATE}/s for ${SECONDS} s for latency; ${CAMERAS} cameras, concurrency ${CONCURRENCY} on both sides, one process`);
const server = await serverTarget();
const embedded: Target = { label: 'embedded store' };
const headline = server?.target ?? embedded;
try {
  const span = Math.ceil(EVENTS / (CAMERAS * 5)) * 20_000 + 20_000;
  const raw = await rawThroughput(redis, take(EVENTS, Date.now() - span, 'tp'));
  out('\nThroughput (events queued first, drained)');
  out(`  raw BullMQ round trip (no-op worker)         ${Math.round(raw).toLocaleString('en-US').padStart(6)} events/s`);
  if (server) await throughput(server.target, raw, true);
  await throughput(embedded, raw, !server);

  const rl = await rawLatency(redis, RATE, SECONDS);
  const ol = await oursLatency(headline, redis, RATE, SECONDS);
  const p = (l: number[], q: number) => percentile(l, q).toFixed(1);
  out(`\nLatency at ${RATE} events/s for ${SECONDS} s, ${headline.label}`);
  out(`  raw BullMQ publish → worker            p50 ${p(rl, 50)} ms, p99 ${p(rl, 99)} ms (${rl.length} jobs)`);
  out(`  event publish → alert on the board     p50 ${p(ol.latencies, 50)} ms, p99 ${p(ol.latencies, 99)} ms (${ol.latencies.length} of ${ol.published} events timed${ol.latencies.length < ol.published ? ', the rest folded into a later change of their alert' : ''}; goal p99 < 100 ms)`);
  reportBench({ name: `publish → board p99 at ${RATE} events/s, ${headline.label}, vs raw BullMQ round trip p99`, ours: Number(p(ol.latencies, 99)), peer: Number(p(rl, 99)), unit: 'ms', better: 'lower', goal: 'p99 < 100', inProcess: true });
} finally {
  await server?.drop();
}
out(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
redis.disconnect();
process.exit(0);
