/**
 * End to end, whole processes: a frame with a person entering a restricted
 * zone → the alert on the API's live stream (SSE), and an AIS fix that makes a
 * vessel speed in the channel → its alert on the same stream; p50 and p99.
 *
 *   npm run bench:end-to-end
 *   npm run bench:end-to-end -- --cameras 60 --ais-rate 1000 --seconds 120 [--fps 1] [--sessions 1] [--seed 1] [--burst] [--split] [--cpu-prof DIR]
 *
 * One `portwatch run` process (cameras, AIS, alerts, API: what a small site
 * runs) on PostgreSQL (PG_BENCH_URL, else a private cluster) and Redis
 * (REDIS_URL, else a private one); the GStreamer RTSP simulator serving the
 * vtest footage to `--cameras` cameras, each with the demo's restricted zone
 * over the footpath, one analysed frame a second from the footage's 1 s GOP
 * (keyframes decoded on demand, the worker's default; `--fps 2` decodes
 * every frame); a TCP AIS feed of `--ais-rate` position
 * reports a second (1,000 still vessels, one report each a second) plus a
 * probe vessel every 2 s that sends two fixes at 14 kn in the 8 kn channel
 * (the second raises `ais_speeding`). This process reads /api/stream as an
 * operator's browser would.
 *
 * The cameras are independent scenes, as a port's are: each starts at its own
 * point of the ~80 s vtest loop, drawn uniformly at random from `--seed`
 * (the simulator's `--cam-start random`, at the keyframe at or before it), so
 * the people walking into the zone (two stretches of the loop, about 18–31 s
 * and 53–75 s of the clip) reach the detector spread over time as 60
 * unrelated cameras would send them, clusters of chance included. `--burst`
 * plays every camera's clip from its start instead (the old simulation): all
 * 60 connect together, so the same people enter on all 60 in the same second.
 * It was taken for the worst case; measured, it is not (docs/camera-pipeline.md).
 * The run prints the busiest second (most person entries in any 1 s).
 *
 * Latency, camera: from the frame's arrival (the event's time: the wall time
 * the frame was cut from ffmpeg) to the alert message on the stream; the
 * decoder's own delay before that is not in it. AIS: from the probe's second
 * fix written to the feed socket to its alert on the stream.
 *
 * Peer: the same path on an idle site (one camera, the probes alone, no AIS
 * load), measured in the same run: what the load costs. Goal p99 < 1 s loaded.
 * Measuring starts after a 45 s warm-up (`--warmup`); the alerts raised while
 * the process starts its 60 cameras are reported on a line of their own.
 *
 * `--split` runs the production layout of docker-compose.yml instead: one
 * `portwatch worker KIND` process per kind (camera, ais, alerts, dispatch,
 * api) on the same machine, database and Redis, so the alert path has event
 * loops of its own beside the cameras'.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { encodePositionReport } from '../../pipeline/ais-ingest/encode.js';
import { createApiToken } from '../../pipeline/api/index.js';
import { silentLogger } from '../../pipeline/log/index.js';
import { openStore } from '../../pipeline/store/index.js';
import { startPrivateRedis, type PrivateRedis } from '../demo/private-redis.js';
import { freePort, startRtspServer, type RtspServer } from '../sim/rtsp-sim.js';
import { startPrivatePostgres, type PrivatePostgres } from '../test-services/private-postgres.js';
import { numberOption } from './options.js';
import { reportBench } from './report.js';

const arg = (name: string, fallback: number) => numberOption(name, fallback, { allowZero: true });

const CAMERAS = arg('cameras', 60);
const AIS_RATE = arg('ais-rate', 1000);
const SECONDS = arg('seconds', 120);
const IDLE_SECONDS = arg('idle-seconds', 90);
// 60 cameras starting together take about half a minute to settle on 2 cores (60 decoders started, a
// backlog of frames and events drained): the figure is the site running, so measuring starts after
// that; what the start-up itself costs is printed on its own line (the alerts of the warm-up).
const WARMUP_S = arg('warmup', 45);
// One analysed frame a second from the 1 s GOP: keyframes decoded on demand, as the port's cameras run
// (docs/camera-pipeline.md); `--fps 2` decodes every frame (two sampled a second).
const FPS = arg('fps', 1);
/** Detector sessions (threads, about a core each) of the camera worker. */
const SESSIONS = arg('sessions', 1);
/** Seed of the cameras' starting points in the loop. */
const SEED = arg('seed', 1);
/** Every camera from the clip's start: the same people entering on every camera at once (worst case). */
const BURST = process.argv.includes('--burst');
/** One `portwatch worker KIND` process per kind (docker-compose.yml's layout) instead of one `portwatch run`. */
const SPLIT = process.argv.includes('--split');
const KINDS = ['camera', 'ais', 'alerts', 'dispatch', 'api'] as const;
/** `--cpu-prof DIR`: V8 CPU profiles of the `portwatch run` processes into DIR (where the time goes under load). */
const CPU_PROF = (() => {
  const i = process.argv.indexOf('--cpu-prof');
  return i >= 0 ? process.argv[i + 1] ?? null : null;
})();
const PROBE_EVERY_MS = 2000;
const root = fileURLToPath(new URL('../..', import.meta.url));
const out = (s: string) => process.stdout.write(`${s}\n`);
const now = () => performance.timeOrigin + performance.now();

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** The demo's restricted zone over vtest's footpath, on every camera. */
function siteYaml(o: { cameras: number; rtsp: RtspServer; aisPort: number; apiPort: number }): string {
  const cams = Array.from({ length: o.cameras }, (_, i) => {
    const n = String(i + 1).padStart(3, '0');
    return `  - id: cam-${n}
    kind: dock
    streams: { main: ${o.rtsp.url(`/cam/${n}`)} }
    zones:
      - { id: quay-edge-${n}, name: Quay edge, kind: restricted, polygon: [[0.0, 0.33], [0.28, 0.33], [0.28, 0.50], [0.0, 0.50]], classes: [person], min_dwell_seconds: 1 }
`;
  }).join('');
  return `site: { name: End-to-end bench, timezone: Asia/Shanghai }
defaults:
  detect: { fps: ${FPS}, keyframe_interval: 1, width: 640, height: 480, model: nanodet-int8, stream: main }
workers:
  camera: { stats_every_seconds: 10, detections_per_second: 1, sessions: ${SESSIONS} }
  api: { port: ${o.apiPort}, rate_limit_per_minute: 100000 }
cameras:
${cams}feeds:
  - { id: bench-feed, protocol: tcp, host: 127.0.0.1, port: ${o.aisPort}, station_id: bench }
ais:
  anomalies:
    port_area: [[24.39, 117.98], [24.48, 117.98], [24.48, 118.10], [24.39, 118.10]]
    dark_after_seconds: 3600
    jump_knots: 50
    speeding_fixes: 2
    channels:
      - { id: main-channel, speed_limit_kn: 8, polygon: [[24.420, 118.000], [24.449, 118.000], [24.449, 118.060], [24.420, 118.060]] }
alerts:
  routes:
    - { id: command-center, kind: board }
  rules:
    - { id: quay-intrusion, kinds: [unauthorized_access], severity: high, routes: [command-center] }
    - { id: vessel-anomalies, kinds: [ais_speeding], severity: high, routes: [command-center] }
`;
}

/**
 * The AIS source: `rate` still vessels' reports a second (south of the
 * channel, off the berths), and every 2 s a new probe vessel's two fixes at
 * 14 kn in the channel, a second apart; `probes` maps its MMSI to the moment
 * the second fix was written.
 */
async function startAisFeed(rate: number) {
  const probes = new Map<number, number>();
  const sockets = new Set<Socket>();
  let stopped = false;
  let probeN = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    const started = Date.now();
    let sent = 0;
    let v = 0;
    const fill = setInterval(() => {
      if (stopped || socket.destroyed) return clearInterval(fill);
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      const lines: string[] = [];
      for (; sent < due; sent++, v = (v + 1) % 1000) {
        const [line] = encodePositionReport(
          { type: 1, mmsi: 412100000 + v, status: 1, lat: 24.401 + (v % 40) * 0.0004, lon: 117.99 + Math.floor(v / 40) * 0.003, speed: 0, course: 0, heading: 0, second: new Date().getUTCSeconds() },
          { station: 'bench' },
        );
        lines.push(line!);
      }
      if (lines.length) socket.write(`${lines.join('\n')}\n`);
    }, 50);
    const probe = setInterval(() => {
      if (stopped || socket.destroyed) return clearInterval(probe);
      const mmsi = 413900000 + probeN++;
      const fix = (k: number) =>
        encodePositionReport({ type: 1, mmsi, status: 0, lat: 24.43, lon: 118.01 + k * 0.00008, speed: 14, course: 90, heading: 90, second: new Date().getUTCSeconds() }, { station: 'bench' })[0]!;
      socket.write(`${fix(0)}\n`);
      setTimeout(() => {
        if (socket.destroyed) return;
        socket.write(`${fix(1)}\n`);
        probes.set(mmsi, now());
      }, 1000);
    }, PROBE_EVERY_MS);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    probes,
    stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Reads /api/stream; every alert message with the moment it arrived. */
async function readStream(url: string, token: string, onAlert: (msg: Record<string, any>, at: number) => void): Promise<() => void> {
  const ctrl = new AbortController();
  const res = await fetch(`${url}/api/stream?types=alert`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
  if (!res.ok) throw new Error(`GET /api/stream: HTTP ${res.status}`);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = now();
        buf += dec.decode(value, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (/^event: alert$/m.test(block) && data) onAlert(JSON.parse(data), at);
        }
      }
    } catch {
      // aborted at the end
    }
  })();
  return () => ctrl.abort();
}

interface Figures {
  camera: number[];
  ais: number[];
  /** Most person entries (camera events started) in any 1 s of the measured window. */
  busiestSecond: number;
}

async function scenario(label: string, o: { cameras: number; aisRate: number; seconds: number; pgAdmin: string; redisUrl: string }): Promise<Figures> {
  out(`\n${label}: ${o.cameras} camera(s) at ${FPS} frame/s, ${o.aisRate} AIS reports/s, ${o.seconds} s measured after ${WARMUP_S} s; ${SPLIT ? `one process per worker kind (${KINDS.join(', ')})` : 'one portwatch run process'}`);
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-e2e-'));
  const dbName = `bench_e2e_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: o.pgAdmin });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const dbUrl = new URL(o.pgAdmin);
  dbUrl.pathname = `/${dbName}`;
  const rtsp = await startRtspServer({ cams: Math.max(1, o.cameras), camStart: BURST ? 'clip-start' : 'random', seed: SEED });
  const starts = Array.from({ length: Math.max(1, o.cameras) }, (_, i) => rtsp.starts[`/cam/${String(i + 1).padStart(3, '0')}`] ?? 0);
  out(
    BURST
      ? '  every camera plays the clip from its start (--burst)'
      : `  cameras start at their own point of the loop (seed ${SEED}): ${new Set(starts).size} distinct keyframe seconds among ${o.cameras}, ${Math.min(...starts)}–${Math.max(...starts)} s`,
  );
  const feed = await startAisFeed(o.aisRate);
  const apiPort = await freePort();
  const site = join(dir, 'site.yaml');
  writeFileSync(site, siteYaml({ cameras: o.cameras, rtsp, aisPort: feed.port, apiPort }));
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  let stopStream: (() => void) | null = null;
  try {
    const profile = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF, '--cpu-prof-interval', '2000'] : [];
    const common = ['--site', site, '--data-dir', dir, '--redis', o.redisUrl, '--redis-prefix', `bench-e2e:${dbName}:`, '--queue-prefix', `bench-e2e-${dbName}`, '--clock', 'wall'];
    for (const command of SPLIT ? KINDS.map((k) => ['worker', k]) : [['run']]) {
      const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'cli/main.ts', ...command, ...common], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: dbUrl.toString(), LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      child.stdout!.resume();
      createInterface({ input: child.stderr! }).on('line', (l) => {
        logs.push(l);
        if (logs.length > 200) logs.shift();
      });
    }
    const startedAt = Date.now();
    // The API answers once the store is migrated.
    for (;;) {
      const ended = children.find((c) => c.exitCode !== null);
      if (ended) throw new Error(`portwatch ${ended.spawnargs.slice(4, 6).join(' ')} exited with ${ended.exitCode}: ${logs.slice(-10).join('\n')}`);
      if (Date.now() - startedAt > 120_000) throw new Error(`the API did not come up within 120 s: ${logs.slice(-10).join('\n')}`);
      const ok = await fetch(`http://127.0.0.1:${apiPort}/api/health`).then((r) => r.status < 500, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const store = await openStore({ databaseUrl: dbUrl.toString(), logger: silentLogger() });
    const { token } = await createApiToken(store, { role: 'operator', name: 'bench' });
    await store.close();
    // Every alert, tagged with the part of the run it came in: the warm-up (the process starting its
    // cameras and feeds) is reported on its own line, the measured window is the figure.
    type Phase = 'warm-up' | 'measured';
    const camera: Array<{ cause: string; at: number; phase: Phase }> = [];
    const aisAlerts: Array<{ ms: number; at: number; phase: Phase }> = [];
    let phase: Phase | null = 'warm-up';
    stopStream = await readStream(`http://127.0.0.1:${apiPort}`, token, (msg, at) => {
      if (phase === null) return;
      const cause = String(msg.cause ?? '');
      if (msg.rule === 'vessel-anomalies' || /ais_speeding/.test(JSON.stringify(msg.kinds ?? msg.kind ?? ''))) {
        const mmsi = Number(msg.mmsi ?? /"mmsi":(\d+)/.exec(JSON.stringify(msg))?.[1]);
        const sent = feed.probes.get(mmsi);
        if (sent !== undefined && msg.change === 'opened') aisAlerts.push({ ms: at - sent, at, phase });
      } else if (cause.endsWith('.start')) camera.push({ cause: cause.slice(0, -'.start'.length), at, phase });
    });
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    phase = 'measured';
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    phase = null;
    // The camera events' own times (the frame's arrival), from the store.
    const c = new pg.Client({ connectionString: dbUrl.toString() });
    await c.connect();
    const times = new Map<string, number>();
    try {
      const ids = [...new Set(camera.map((x) => x.cause))];
      const rows = ids.length ? (await c.query<{ id: string; time: Date }>(`SELECT id, time FROM events WHERE id = ANY($1) AND phase = 'start'`, [ids])).rows : [];
      for (const r of rows) times.set(r.id, r.time.getTime());
    } finally {
      await c.end();
    }
    const latencies = (p: Phase) => ({
      cam: camera.flatMap((x) => (x.phase === p && times.has(x.cause) ? [x.at - times.get(x.cause)!] : [])),
      camAt: camera.flatMap((x) => (x.phase === p && times.has(x.cause) ? [x.at] : [])),
      ais: aisAlerts.flatMap((x) => (x.phase === p ? [x.ms] : [])),
      aisAt: aisAlerts.flatMap((x) => (x.phase === p ? [x.at] : [])),
    });
    const warm = latencies('warm-up');
    const { cam, camAt, ais, aisAt } = latencies('measured');
    out(`  ${describe(`during the ${WARMUP_S} s warm-up (the process starting), camera`, warm.cam)}; ${describe('AIS', warm.ais)}`);
    // When the slowest alerts came (seconds into the measured window): one stall or a spread tail.
    const slowest = (ms: number[], at: number[]) =>
      ms
        .map((m, i) => ({ m, s: (at[i]! - t0) / 1000 }))
        .sort((a, b) => b.m - a.m)
        .slice(0, 5)
        .map((x) => `${(x.m / 1000).toFixed(1)} s at ${x.s.toFixed(0)} s`)
        .join(', ');
    out(`  slowest alerts (latency at arrival time into the window): camera ${slowest(cam, camAt) || '-'}; AIS ${slowest(ais, aisAt) || '-'}`);
    // How bunched the entries were: the most event starts within any 1 s.
    const entries = camera.flatMap((x) => (x.phase === 'measured' && times.has(x.cause) ? [times.get(x.cause)!] : [])).sort((a, b) => a - b);
    let busiestSecond = 0;
    for (let i = 0, j = 0; j < entries.length; j++) {
      while (entries[j]! - entries[i]! >= 1000) i++;
      busiestSecond = Math.max(busiestSecond, j - i + 1);
    }
    const stats = logs.filter((l) => l.includes('"msg":"stats"')).slice(-1)[0] ?? '';
    out(`  measured ${((Date.now() - t0) / 1000).toFixed(0)} s; busiest second: ${busiestSecond} person entries; last camera stats: ${stats.slice(0, 400)}`);
    return { camera: cam, ais, busiestSecond };
  } finally {
    stopStream?.();
    await Promise.all(
      children
        .filter((child) => child.exitCode === null)
        .map(async (child) => {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(hard);
        }),
    );
    feed.stop();
    await rtsp.stop();
    const a = new pg.Client({ connectionString: o.pgAdmin });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await a.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

function describe(label: string, xs: number[]): string {
  if (xs.length === 0) return `${label}: no samples`;
  return `${label}: ${xs.length} alerts, p50 ${pct(xs, 50).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
}

let pgServer: PrivatePostgres | null = null;
let redis: PrivateRedis | null = null;
const scratch = mkdtempSync(join(tmpdir(), 'pw-bench-e2e-redis-'));
try {
  let pgAdmin = process.env.PG_BENCH_URL;
  if (!pgAdmin) {
    pgServer = await startPrivatePostgres({ name: 'bench-e2e' });
    pgAdmin = pgServer.url;
  }
  if (!process.env.REDIS_URL) redis = await startPrivateRedis(scratch);
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const idle = await scenario('idle (peer)', { cameras: 1, aisRate: 0, seconds: IDLE_SECONDS, pgAdmin, redisUrl });
  const loaded = await scenario('loaded', { cameras: CAMERAS, aisRate: AIS_RATE, seconds: SECONDS, pgAdmin, redisUrl });
  out('');
  out(describe(`camera → alert on /api/stream, idle (1 camera)`, idle.camera));
  out(describe(`camera → alert on /api/stream, ${CAMERAS} cameras + ${AIS_RATE} AIS/s`, loaded.camera));
  out(describe(`AIS fix → alert on /api/stream, idle`, idle.ais));
  out(describe(`AIS fix → alert on /api/stream, ${CAMERAS} cameras + ${AIS_RATE} AIS/s`, loaded.ais));
  const report = (what: string, l: number[], i: number[]) => {
    for (const p of [50, 99] as const) {
      if (l.length === 0) continue;
      reportBench({
        name: `${what} → alert on the live stream, p${p}, ${CAMERAS} cameras + ${AIS_RATE} AIS msgs/s vs idle${SPLIT ? ', worker processes' : ''}`,
        ours: pct(l, p),
        peer: i.length ? pct(i, p) : null,
        unit: 'ms',
        better: 'lower',
        ...(p === 99 ? { goal: 'p99 < 1000' } : {}),
        note: `${SPLIT ? 'one process per worker kind; ' : 'one portwatch run process; '}${l.length} alerts loaded, ${i.length} idle; cameras ${BURST ? 'all from the clip start (--burst)' : `independent (seed ${SEED})`}, busiest second ${loaded.busiestSecond} entries; peer: the same path on an idle site`,
      });
    }
  };
  report('person entering a restricted zone (frame arrival)', loaded.camera, idle.camera);
  report('AIS speeding (second fix sent)', loaded.ais, idle.ais);
} finally {
  await redis?.stop();
  await pgServer?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
