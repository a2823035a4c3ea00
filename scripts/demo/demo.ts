/**
 * `npm run demo`: the whole system on the embedded database, fed by
 * simulators, in one terminal.
 *
 *   npm run demo                      run until Ctrl-C
 *   npm run demo -- --duration 60     run a minute, print a summary, exit 0
 *
 * Starts a private Redis (unless REDIS_URL is set), the GStreamer RTSP
 * simulator serving real footage at the site's camera URLs, the AIS replay of
 * a port scenario at the site's feed address, and every worker the site needs
 * in this process (pipeline/runtime, as `portwatch run` does). Logs
 * (JSON) go to data/logs/portwatch.log; the terminal shows where to look, the
 * events as they happen and a status line.
 */
import { createApiToken } from '../../pipeline/api/index.js';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSiteConfig, type SiteConfig } from '../../pipeline/config/index.js';
import type { AisService } from '../../pipeline/ais-ingest/index.js';
import type { CameraService } from '../../pipeline/camera/index.js';
import type { PortEvent } from '../../pipeline/events/index.js';
import { createLogger } from '../../pipeline/log/index.js';
import { killChildren, startRuntime, type Runtime } from '../../pipeline/runtime/index.js';
import { portScenario } from '../sim/ais-scenario.js';
import { AisReplay } from '../sim/ais-replay.js';
import { startRtspServer, type RtspServer } from '../sim/rtsp-sim.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { summariseStore, type StoreSummary } from './summary.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string' },
    site: { type: 'string', default: 'config/site.demo.yaml' },
    'data-dir': { type: 'string', default: 'data' },
    speed: { type: 'string', default: '60' },
  },
});

const out = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`.padStart(5);

async function main(): Promise<number> {
  const duration = args.duration !== undefined ? Number(args.duration) : null;
  if (duration !== null && !(duration > 0)) throw new Error('--duration is a number of seconds above 0');
  const dataDir = resolve(args['data-dir']!);
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const logFile = join(dataDir, 'logs', 'portwatch.log');
  const logger = createLogger({ name: 'demo', level: process.env.LOG_LEVEL ?? 'info', destination: createWriteStream(logFile, { flags: 'a' }) });

  const siteFile = resolve(args.site!);
  const site = loadSiteConfig(siteFile, { env: process.env });
  const rtspPort = cameraPort(site);

  out('portwatch demo: starting Redis, the RTSP camera simulator, the AIS replay and the workers…');
  const redis: PrivateRedis | null = process.env.REDIS_URL ? null : await startPrivateRedis(join(dataDir, 'redis'));
  // An empty REDIS_URL counts as unset (the demo then has a Redis of its own), as in `portwatch run`.
  const redisUrl = process.env.REDIS_URL || redis!.url;
  const cameras: RtspServer | null =
    site.cameras.length > 0
      ? await startRtspServer({ port: rtspPort, mounts: Object.fromEntries(site.cameras.map((c) => [cameraPath(c.streams.main), 'vtest' as const])) })
      : null;
  const tcpFeed = site.feeds.find((f) => f.protocol === 'tcp');
  // The scenario with a few corrupt lines mixed in: the demo shows them counted, not fatal.
  const replay = tcpFeed
    ? new AisReplay({ lines: portScenario({ badLines: true }).lines, tcpPort: tcpFeed.port, tcpHost: '127.0.0.1', loop: true, speed: Number(args.speed) })
    : null;
  await replay?.start();

  const byKind = new Map<string, number>();
  const runtime: Runtime = await startRuntime({
    site,
    siteFile,
    settings: site.workers,
    logger,
    dataDir,
    databaseUrl: process.env.DATABASE_URL || null,
    redisUrl,
    policies: true,
    worker: { aisClock: 'data' },
  });
  // Printed once stored and on the queue: what the alerts stage will see.
  runtime.ctx.events.onPublished((e) => {
    byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    out(`${elapsed()}  EVENT ${describeEvent(e, dataDir)}`);
  });
  const system: DemoSystem = {
    store: runtime.ctx.store,
    ais: (runtime.workers.get('ais') as { service?: AisService } | undefined)?.service ?? null,
    cameras: (runtime.workers.get('camera') as { service?: CameraService } | undefined)?.service ?? null,
  };

  out('');
  out(`portwatch demo is running — site "${site.site.name}" (${site.cameras.length} cameras, ${site.berths.length} berths, ${site.feeds.length} AIS feed)`);
  out(`  database   ${system.store.kind === 'embedded' ? `embedded TimescaleDB (PGlite) in ${rel(join(dataDir, 'pglite'))}` : system.store.location}`);
  out(`             after the demo: node bin/portwatch.js db status --data-dir ${rel(join(dataDir, 'pglite'))}`);
  if (cameras) out(`  cameras    ${site.cameras.map((c) => cameras.url(cameraPath(c.streams.main))).join('  ')}  (ffplay -rtsp_transport tcp URL)`);
  if (replay && tcpFeed) out(`  AIS feed   tcp://127.0.0.1:${tcpFeed.port}  (nc 127.0.0.1 ${tcpFeed.port} | node bin/portwatch.js ais decode -)`);
  out(`  queue      ${redisUrl}  BullMQ queue "events"`);
  const apiUrl = (runtime.workers.get('api') as { url?: string } | undefined)?.url;
  if (apiUrl) {
    // The embedded database is this process's alone while the demo runs: the demo hands out a day's admin token itself.
    const { token } = await createApiToken(runtime.ctx.store, { role: 'admin', name: 'demo', expiresAt: new Date(Date.now() + 86_400_000) });
    out(`  API        ${apiUrl}  (OpenAPI at ${apiUrl}openapi.json)`);
    out(`             admin token for today: ${token}`);
  }
  out(`  snapshots  ${rel(join(dataDir, 'snapshots'))}/`);
  out(`  logs       ${rel(logFile)}`);
  out(duration ? `  running for ${duration} s` : '  Ctrl-C stops it; everything accepted is flushed first');
  out('');

  const status = setInterval(() => out(`${elapsed()}  ${statusLine(system)}`), 10_000);
  status.unref();

  let signals = 0;
  const stopSignal = new Promise<string>((resolveStop) => {
    const onSignal = (signal: NodeJS.Signals) => {
      // A second Ctrl-C exits at once: what is stored and not yet published stays in the outbox.
      if (++signals > 1) {
        out(`${elapsed()}  ${signal} again: exiting now`);
        // The simulators, Redis and every ffmpeg decoder go with us.
        killChildren();
        process.exit(1);
        return;
      }
      resolveStop(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (duration) setTimeout(() => resolveStop('duration'), duration * 1000).unref();
  });
  const why = await stopSignal;
  clearInterval(status);
  out(`${elapsed()}  stopping (${why}): flushing everything accepted…`);
  const last = statusLine(system);
  await replay?.stop();
  let summary: StoreSummary | null = null;
  // The totals are read back from the store after everything is flushed, before it closes.
  // The whole stop fits the site's drain deadline: the workers get all of it but the last
  // 1.5 s, in which the simulators and Redis stop; whatever still runs then goes with us.
  const deadlineMs = site.workers.stop_deadline_seconds * 1000;
  const report = await runtime.stop({ deadlineMs: Math.max(1_000, deadlineMs - 1_500), beforeClose: async (store) => void (summary = await summariseStore(store)) });
  let simulatorsTimer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all([cameras?.stop(), redis?.stop()]), new Promise((r) => (simulatorsTimer = setTimeout(r, 1_000)))]);
  clearTimeout(simulatorsTimer);
  killChildren();
  if (summary) printSummary(summary, byKind, last);
  if (report.unpublished > 0) out(`  ${report.unpublished} stored events were not on the queue yet; they stay in the outbox and go out at the next start`);
  return report.clean ? 0 : 1;
}

function cameraPath(url: string): string {
  return new URL(url).pathname;
}

/** The demo serves every camera from one simulator, so the site's URLs must share a loopback port. */
function cameraPort(site: SiteConfig): number {
  const ports = new Set(site.cameras.map((c) => Number(new URL(c.streams.main).port || 554)));
  const hosts = new Set(site.cameras.map((c) => new URL(c.streams.main).hostname));
  if (ports.size > 1 || [...hosts].some((h) => h !== '127.0.0.1' && h !== 'localhost')) {
    throw new Error('the demo site must point every camera at one loopback RTSP port (rtsp://127.0.0.1:PORT/<camera>)');
  }
  return [...ports][0] ?? 8554;
}

function rel(path: string): string {
  return relative(process.cwd(), path) || '.';
}

function describeEvent(e: PortEvent, dataDir: string): string {
  const where = [e.camera, e.zone && `zone ${e.zone}`, e.berth && `berth ${e.berth}`, e.mmsi && `MMSI ${e.mmsi}`].filter(Boolean).join(' ');
  const what = [e.class, e.track != null && `track ${e.track}`, e.score != null && `score ${e.score.toFixed(2)}`].filter(Boolean).join(' ');
  const snap = e.snapshot ? `  snapshot ${rel(join(dataDir, 'snapshots', e.snapshot))}` : '';
  return `${e.kind} ${e.phase}  ${where}${what ? `  ${what}` : ''}${snap}`;
}

interface DemoSystem {
  store: Runtime['ctx']['store'];
  ais: AisService | null;
  cameras: CameraService | null;
}

function statusLine(system: DemoSystem): string {
  const parts: string[] = [];
  if (system.ais) {
    const s = system.ais.summary();
    parts.push(`AIS ${s.messages} messages, ${s.positions} positions, ${s.rejected} rejected, ${s.events_total} events`);
  }
  if (system.cameras) {
    const c = system.cameras.stats();
    parts.push(`cameras ${c.connected}/${c.cameras} connected, ${c.frames} frames, ${c.detectorRuns} detector runs, ${c.events} events`);
  }
  return parts.join(' | ');
}

function printSummary(s: StoreSummary, byKind: Map<string, number>, last: string): void {
  out('');
  out('portwatch demo summary');
  out(`  ${last}`);
  out(`  store: ${Object.entries(s.rows).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  out(`  events by kind: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  for (const v of s.visits) out(`  berth ${v.berth}: ${v.name ?? `MMSI ${v.mmsi}`} arrived ${v.arrived_at}${v.departed_at ? `, left ${v.departed_at}` : ''}`);
}

main()
  .then((code) => process.exit(code))
  .catch((err) => {
    process.stderr.write(`portwatch demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
