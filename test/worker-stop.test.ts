/**
 * Issue 19, "stopping is bounded", for every process a site runs: `portwatch
 * worker camera|ais|alerts|dispatch|api` and the demo (`scripts/demo/demo.ts`,
 * what `npm run demo` starts), as real processes on a real camera stream, AIS
 * feed, Redis and PostgreSQL. With Redis down, then with the database down,
 * SIGTERM ends each one within the 10 s drain deadline (measured from the
 * signal to the exit), what could not be flushed is named in one line, the
 * outage costs at most one warning about Redis, no `Unhandled error event` is
 * printed, and no child process (ffmpeg, the demo's simulators and Redis)
 * outlives its parent. The processes of one case run side by side.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childPids, processName, processRunning } from '../pipeline/runtime/index.js';
import { startPrivateRedis, type PrivateRedis } from '../scripts/demo/private-redis.js';
import { AisReplay } from '../scripts/sim/ais-replay.js';
import { portScenario } from '../scripts/sim/ais-scenario.js';
import { startPrivatePostgres, type PrivatePostgres } from '../scripts/test-services/private-postgres.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { freePort, startRtspServer, type RtspServer } from './helpers/rtsp-server.js';
import { vtestSiteText } from './helpers/vtest-site.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEADLINE_MS = 10_000;
const KINDS = ['camera', 'ais', 'alerts', 'dispatch', 'api'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}

interface Proc {
  name: string;
  child: ChildProcess;
  /** JSON log lines: the worker's stderr, the demo's log file. */
  logs(): Line[];
  /** Everything not JSON: the demo's terminal, stack traces, ioredis' complaints. */
  raw(): string;
  exited: Promise<{ code: number | null; at: number }>;
  /** Every child process seen while it ran: pid → command name. */
  children: Map<number, string>;
}

const comm = processName;
const running = processRunning;

function parseLines(text: string, into: Line[], raw: (l: string) => void): void {
  for (const l of text.split('\n')) {
    if (!l) continue;
    try {
      into.push(JSON.parse(l) as Line);
    } catch {
      raw(l);
    }
  }
}

function spawnProc(name: string, args: string[], env: NodeJS.ProcessEnv, logFile?: string): Proc {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderrLines: Line[] = [];
  let raw = '';
  createInterface({ input: child.stderr! }).on('line', (l) => parseLines(l, stderrLines, (r) => (raw += `${r}\n`)));
  child.stdout!.on('data', (d: Buffer) => (raw += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((r) => child.once('exit', (code) => r({ code, at: Date.now() })));
  const children = new Map<number, string>();
  const watch = setInterval(() => {
    if (child.exitCode !== null || child.signalCode !== null) return clearInterval(watch);
    // Named again on every look: caught between fork and exec, an ffmpeg child is still called node.
    for (const pid of childPids(child.pid!)) children.set(pid, comm(pid) ?? children.get(pid) ?? '?');
  }, 250);
  return {
    name,
    child,
    logs() {
      if (!logFile) return stderrLines;
      const out: Line[] = [];
      if (existsSync(logFile)) parseLines(readFileSync(logFile, 'utf8'), out, (r) => (raw += `${r}\n`));
      return [...stderrLines, ...out];
    },
    raw: () => raw,
    exited,
    children,
  };
}

async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs: number, p?: Proc): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (p && p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}) while waiting for ${what}: ${tail(p)}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${p ? `: ${tail(p)}` : ''}`);
    await sleep(250);
  }
}

const tail = (p: Proc) => `log tail ${JSON.stringify(p.logs().slice(-8).map((l) => l.msg))} output ${p.raw().slice(-1500)}`;

/** What "ready" means per process: it is doing the work the outage will interrupt. */
function ready(p: Proc): boolean {
  const logs = p.logs();
  switch (p.name) {
    case 'camera':
      return logs.some((l) => l.msg === 'stats' && (l.frames as number) > 0);
    case 'ais':
      return logs.some((l) => l.msg === 'AIS ingest stats' && (l.lines as number) > 0);
    case 'api':
      return logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('API listening on'));
    case 'demo':
      return /portwatch demo is running/.test(p.raw()) && logs.some((l) => l.msg === 'stats' && (l.frames as number) > 0);
    default:
      return logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('started: '));
  }
}

/** SIGTERM, then the time to the exit (a SIGKILL after 30 s keeps a hung process from hanging the suite). */
async function stop(p: Proc): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  p.child.kill('SIGTERM');
  const hard = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
  const { code, at } = await p.exited;
  clearTimeout(hard);
  return { code, ms: at - t0 };
}

/** The runtime's one line about the stop: "stopped", or what was left and why. */
const stopLines = (p: Proc) => p.logs().filter((l) => typeof l.msg === 'string' && /^(stopped|stop deadline)/.test(l.msg));

const dir = mkdtempSync(join(tmpdir(), 'pw-worker-stop-'));
let rtsp: RtspServer;
let replay: AisReplay;
let redis: PrivateRedis;
let cluster: PrivatePostgres;
let db: TestDatabase;
let siteFile: string;

function workerSite(): string {
  return `${vtestSiteText({ name: 'Stop port', cameraUrl: rtsp.url('/vtest'), aisPort: replay.port })}inspectors:
  - id: insp-01
    name: Chen Wei
    skills: [health_quarantine, container, vessel]
    shifts: [{ days: daily, from: "00:00", to: "24:00" }]
alerts:
  routes:
    - { id: board, kind: board }
    - { id: dispatch, kind: dispatch, min_severity: high }
  rules:
    - { id: intrusion, kinds: [unauthorized_access], severity: high, routes: [board, dispatch] }
    - { id: vessels, kinds: [ais_dark, ais_speeding, ais_unassigned_berth], severity: high, routes: [board, dispatch] }
workers:
  camera: { decode: every-keyframe, lease_ttl_seconds: 3 }
  api: { port: 0 }
`;
}

/** The demo's own site on free ports (a test must not take 8554, 10110 or 8080). */
async function demoSite(): Promise<string> {
  const text = readFileSync(join(ROOT, 'config/site.demo.yaml'), 'utf8')
    .replaceAll('127.0.0.1:8554', `127.0.0.1:${await freePort()}`)
    .replace('port: 10110', `port: ${await freePort()}`)
    .replace('model: risk/port.yaml', `model: ${join(ROOT, 'config/risk/port.yaml')}`);
  const file = join(dir, `demo-${randomUUID().slice(0, 6)}.yaml`);
  writeFileSync(file, `${text}\nworkers:\n  api: { port: 0 }\n  camera: { stats_every_seconds: 1 }\n`);
  return file;
}

/** Every worker kind on the site file and the demo, each with its own data folder; one queue and lease prefix per case. */
async function startAll(kase: string, demoDatabaseUrl: string | null, extraArgs: Partial<Record<(typeof KINDS)[number], string[]>> = {}): Promise<Proc[]> {
  const prefix = `pwtest-stop-${kase}-${randomUUID().slice(0, 6)}`;
  const procs = KINDS.map((kind) =>
    spawnProc(
      kind,
      ['bin/portwatch.js', 'worker', kind, '--site', siteFile, '--data-dir', join(dir, kase, kind), '--redis', redis.url, '--queue-prefix', prefix, '--redis-prefix', `${prefix}:`, '--stats-every', '1', ...(extraArgs[kind] ?? [])],
      { DATABASE_URL: db.url, REDIS_URL: '' },
    ),
  );
  const demoDir = join(dir, kase, 'demo');
  mkdirSync(demoDir, { recursive: true });
  procs.push(
    spawnProc(
      'demo',
      ['--import', 'tsx', 'scripts/demo/demo.ts', '--site', await demoSite(), '--data-dir', demoDir],
      // Without REDIS_URL the demo starts a Redis of its own, as `npm run demo` does.
      { DATABASE_URL: demoDatabaseUrl ?? '', REDIS_URL: '' },
      join(demoDir, 'logs', 'portwatch.log'),
    ),
  );
  return procs;
}

/** SIGTERM to every process at once; the checks every process must pass whatever is down. */
async function stopAll(what: string, procs: Proc[]): Promise<Map<string, { code: number | null; ms: number }>> {
  const results = await Promise.all(procs.map((p) => stop(p)));
  console.info(`SIGTERM to exit with ${what}:\n${procs.map((p, i) => `  ${p.name} ${results[i]!.ms} ms, exit ${results[i]!.code}: ${stopLines(p).map((l) => l.msg).join(' | ')}`).join('\n')}`);
  await sleep(300);
  const out = new Map<string, { code: number | null; ms: number }>();
  procs.forEach((p, i) => {
    const r = results[i]!;
    out.set(p.name, r);
    const why = `${p.name}: ${tail(p)}`;
    // Soft: one run reports every process that fails, not only the first.
    expect.soft(r.ms, why).toBeLessThan(DEADLINE_MS);
    expect.soft(p.raw(), why).not.toMatch(/Unhandled error event/);
    expect.soft(p.logs().filter((l) => l.level >= 40 && /redis/i.test(l.msg)).map((l) => l.msg).length, why).toBeLessThanOrEqual(1);
    expect.soft(stopLines(p), why).toHaveLength(1);
    for (const [pid, name] of p.children) expect.soft(running(pid), `${p.name}'s child ${name} (${pid}) still runs`).toBe(false);
  });
  return out;
}

beforeAll(async () => {
  [rtsp, redis, cluster] = await Promise.all([startRtspServer(), startPrivateRedis(join(dir, 'redis')), startPrivatePostgres({ name: 'worker-stop' })]);
  replay = new AisReplay({ lines: portScenario({ badLines: false }).lines, tcpPort: 0, tcpHost: '127.0.0.1', loop: true, speed: 60 });
  await replay.start();
  db = await createTestDatabase('pw_worker_stop', cluster.url);
  siteFile = join(dir, 'site.yaml');
  writeFileSync(siteFile, workerSite());
}, 120_000);

afterAll(async () => {
  await replay?.stop();
  await rtsp?.stop();
  await redis?.stop();
  if (cluster && !cluster.running()) await cluster.start().catch(() => {});
  await db?.drop().catch(() => {});
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('every worker kind and the demo stop within the deadline', () => {
  it('with Redis down: SIGTERM ends each within 10 s, one warning about Redis, no unhandled error event, no child left', async () => {
    const procs = await startAll('redis', null);
    try {
      await Promise.all(procs.map((p) => until(`${p.name} ready`, () => ready(p), 150_000, p)));
      // The workers' shared Redis, and the demo's own (its child), killed as a crash would.
      await redis.kill();
      const demo = procs.find((p) => p.name === 'demo')!;
      const demoRedis = [...demo.children].filter(([pid, name]) => name === 'redis-server' && running(pid)).map(([pid]) => pid);
      expect(demoRedis).toHaveLength(1);
      process.kill(demoRedis[0]!, 'SIGKILL');
      // Every process has noticed (its one warning) before it is told to stop.
      await Promise.all(procs.map((p) => until(`${p.name} noticing the outage`, () => p.logs().some((l) => l.level === 40 && /^Redis unreachable/.test(l.msg)), 30_000, p)));
      await sleep(2_000);
      const stopped = await stopAll('Redis down', procs);
      for (const p of procs) {
        // Nothing is lost without Redis: exit 0, and stored events not yet on the queue are named as kept in the outbox.
        expect(stopped.get(p.name)!.code, `${p.name}: ${tail(p)}`).toBe(0);
        const [line] = stopLines(p);
        if ((line!.unpublished as number) > 0) expect(line!.msg).toMatch(/^stopped; \d+ stored events not on the queue yet \(they stay in the outbox/);
      }
      // The children the check above looked at were there: ffmpeg under the camera worker, the simulators under the demo.
      expect([...procs.find((p) => p.name === 'camera')!.children.values()]).toContain('ffmpeg');
      expect([...demo.children.values()]).toEqual(expect.arrayContaining(['redis-server', 'python3']));
    } finally {
      for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
      redis = await startPrivateRedis(join(dir, 'redis'), { port: redis.port });
    }
  }, 300_000);

  it('with the database down: SIGTERM ends each within 10 s (the AIS worker within its 4 s --stop-deadline), what was not written is named in one line, no child left', async () => {
    // The deadline is the site's setting or the flag's: the AIS worker gets 4 s here.
    const procs = await startAll('database', db.url, { ais: ['--stop-deadline', '4'] });
    try {
      await Promise.all(procs.map((p) => until(`${p.name} ready`, () => ready(p), 150_000, p)));
      cluster.pause();
      await sleep(4_000);
      const stopped = await stopAll('the database down', procs);
      for (const p of procs) {
        const [line] = stopLines(p);
        const r = stopped.get(p.name)!;
        // Exit 0 only when everything was flushed; otherwise 1 and the line says what was not.
        if (r.code !== 0) expect(line!.msg, `${p.name}: ${tail(p)}`).toMatch(/not (written|finished|on the queue)/);
        expect(r.code).toBe((line!.abandoned as number) > 0 || (line!.unfinished as string[]).length > 0 ? 1 : 0);
      }
      // The AIS worker held positions the stopped database never took: given up, counted, named.
      const ais = stopLines(procs.find((p) => p.name === 'ais')!)[0]!;
      expect(stopped.get('ais')!.ms).toBeLessThan(4_000);
      expect(ais.abandoned as number).toBeGreaterThan(0);
      expect(ais.msg).toBe(`stopped; ${ais.abandoned as number} rows not written (the database did not take them in time)`);
    } finally {
      for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
      if (!cluster.running()) await cluster.start();
    }
  }, 300_000);
});
