import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseAisIngestSettings } from '../../pipeline/ais-ingest/index.js';
import { type SiteConfig } from '../../pipeline/config/index.js';
import { createLogger, type Logger } from '../../pipeline/log/index.js';
import { redisOptionsFromUrl } from '../../pipeline/redis/index.js';
import { WORKER_KINDS, killChildren, startRuntime, workersSettingsSchema, type Runtime, type WorkerOptions, type WorkersSettings } from '../../pipeline/runtime/index.js';
import { CliError } from '../cli-error.js';
import { loadSiteFile } from '../site-file.js';

/** Flags shared by `portwatch run` and `portwatch worker KIND`; each overrides one field of the site's `workers:` section or the environment. */
export interface RunFlags {
  site?: string;
  dataDir?: string;
  dbDir?: string;
  metricsPort?: string;
  redis?: string;
  workerId?: string;
  duration?: string;
  stopDeadline?: string;
  logLevel?: string;
  redisPrefix?: string;
  queuePrefix?: string;
  queue?: string;
  capacity?: string;
  leaseTtlMs?: string;
  snapshots?: string;
  keyframeInterval?: string;
  decode?: string;
  detectionsPerS?: string;
  healthEvery?: string;
  healthThresholds?: string;
  backoffCapMs?: string;
  statsEvery?: string;
  maxBatch?: string;
  sessions?: string;
  aisOptions?: string;
  clock?: string;
  speed?: string;
  replay?: string;
  sweepEvery?: string;
}

function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--site <file>', 'site file (or PORTWATCH_SITE)')
    .option('--data-dir <dir>', 'data folder: embedded database in pglite/, snapshots in snapshots/ (default ./data)')
    .option('--db-dir <dir>', 'embedded database folder when DATABASE_URL is unset (default <data-dir>/pglite; memory:// for none on disk)')
    .option('--redis <url>', 'Redis (or REDIS_URL): redis://[user[:password]@]host[:port][/db], rediss:// for TLS; none: events are stored only, cameras unshared')
    .option('--worker-id <id>', 'unique per process (or PORTWATCH_WORKER_ID; default host:pid:random)')
    .option('--duration <s>', 'stop after this many seconds and print a summary JSON on stdout')
    .option('--stop-deadline <s>', 'SIGTERM drains within this (workers.stop_deadline_seconds, default 10)')
    .option('--log-level <level>', 'pino level (or LOG_LEVEL; default info)')
    .option('--redis-prefix <p>', 'camera lease key prefix (workers.lease_prefix)')
    .option('--queue-prefix <p>', 'BullMQ prefix (workers.queue_prefix)')
    .option('--queue <name>', 'events queue name (default events)')
    .option('--capacity <n>', 'most cameras this process runs (workers.camera.capacity)')
    .option('--lease-ttl-ms <ms>', 'camera lease TTL (workers.camera.lease_ttl_seconds)')
    .option('--snapshots <dir>', 'event snapshots (default <data-dir>/snapshots)')
    .option('--keyframe-interval <s>', "the cameras' GOP where the site gives none (workers.camera.keyframe_interval)")
    .option('--decode <mode>', 'on-demand or every-keyframe (workers.camera.decode)')
    .option('--detections-per-s <n>', 'detection rows per camera per second (workers.camera.detections_per_second)')
    .option('--health-every <s>', 'camera_health row interval (workers.camera.health_every_seconds)')
    .option('--health-thresholds <json>', 'camera health thresholds as JSON, e.g. \'{"offline_after_s":20,"frozen_after_s":30}\' (workers.camera.health)')
    .option('--backoff-cap-ms <ms>', 'longest camera reconnect wait (workers.camera.backoff_cap_seconds)')
    .option('--stats-every <s>', 'stats line interval of the camera and AIS workers')
    .option('--max-batch <n>', 'detector batch (workers.camera.max_batch)')
    .option('--sessions <n>', 'detector sessions per model (workers.camera.sessions)')
    .option('--ais-options <file>', "YAML/JSON overriding the site's ais: thresholds field by field")
    .option('--clock <clock>', 'AIS clock: wall (live feeds) or data (recorded; default when every feed is a file)')
    .option('--speed <n>', 'AIS file feeds: replay speed factor')
    .option('--replay <mode>', 'AIS file feeds: fast or realtime')
    .option('--sweep-every <s>', 'AIS silent-vessel sweep (workers.ais.sweep_every_seconds)')
    .option('--metrics-port <port>', "serve this process's Prometheus metrics on http://127.0.0.1:PORT/metrics");
}

/** `portwatch run` and `portwatch worker KIND`: one code path, the runtime in pipeline/runtime. */
export function registerRunCommands(program: Command): void {
  // Registered under two group names (run, worker): once is enough.
  if (program.commands.some((c) => c.name() === 'run')) return;
  addRunOptions(program.command('run').description('Everything the site needs in one process (small sites, the demo; the embedded database allows one process)')).action(
    async (flags: RunFlags) => runProcess(undefined, flags),
  );
  addRunOptions(
    program
      .command('worker')
      .description(`One worker kind in its own process (scale out: many camera workers share the cameras through Redis leases)`)
      .argument('<kind>', WORKER_KINDS.map((k) => k.name).join(' | ')),
  ).action(async (kind: string, flags: RunFlags) => {
    if (!WORKER_KINDS.some((k) => k.name === kind)) throw new CliError(`worker: unknown kind "${kind}": one of ${WORKER_KINDS.map((k) => k.name).join(', ')}`, 2);
    await runProcess([kind], flags);
  });
}

function number(flag: string, v: string | undefined, scale = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new CliError(`--${flag}: "${v}" is not a number`, 2);
  return n * scale;
}

function metricsPort(v: string): number {
  const port = number('metrics-port', v)!;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliError(`--metrics-port: "${v}" is not a port (1-65535)`, 2);
  return port;
}

/** The site's `workers:` section with the flags applied, validated again (a flag gets the same checks as the file). */
export function workersSettingsWithFlags(site: SiteConfig, flags: RunFlags): WorkersSettings {
  const s = structuredClone(site.workers) as WorkersSettings;
  const set = <T>(v: T | undefined, apply: (v: T) => void) => v !== undefined && apply(v);
  set(number('stop-deadline', flags.stopDeadline), (v) => (s.stop_deadline_seconds = v));
  set(flags.redisPrefix, (v) => (s.lease_prefix = v));
  set(flags.queuePrefix, (v) => (s.queue_prefix = v));
  set(number('capacity', flags.capacity), (v) => (s.camera.capacity = v));
  set(number('lease-ttl-ms', flags.leaseTtlMs, 1 / 1000), (v) => (s.camera.lease_ttl_seconds = v));
  set(number('keyframe-interval', flags.keyframeInterval), (v) => (s.camera.keyframe_interval = v));
  set(flags.decode, (v) => (s.camera.decode = v as WorkersSettings['camera']['decode']));
  set(number('detections-per-s', flags.detectionsPerS), (v) => (s.camera.detections_per_second = v));
  set(number('health-every', flags.healthEvery), (v) => (s.camera.health_every_seconds = v));
  set(flags.healthThresholds, (v) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (err) {
      throw new CliError(`--health-thresholds is not JSON: ${(err as Error).message}`, 2);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError('--health-thresholds is a JSON object of thresholds', 2);
    // The health stage's own names (offlineAfterS) are accepted as well as the site file's (offline_after_s).
    const snake = Object.fromEntries(Object.entries(parsed).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), x]));
    s.camera.health = { ...s.camera.health, ...snake } as WorkersSettings['camera']['health'];
  });
  set(number('backoff-cap-ms', flags.backoffCapMs, 1 / 1000), (v) => (s.camera.backoff_cap_seconds = v));
  set(number('stats-every', flags.statsEvery), (v) => ((s.camera.stats_every_seconds = v), (s.ais.stats_every_seconds = v)));
  set(number('max-batch', flags.maxBatch), (v) => (s.camera.max_batch = v));
  set(number('sessions', flags.sessions), (v) => (s.camera.sessions = v));
  set(number('sweep-every', flags.sweepEvery), (v) => (s.ais.sweep_every_seconds = v));
  const r = workersSettingsSchema.safeParse(s);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new CliError(`workers.${i.path.map(String).join('.')}: ${i.message} (from the command line)`, 2);
  }
  return r.data;
}

function workerOptions(flags: RunFlags): WorkerOptions {
  const o: WorkerOptions = {};
  if (flags.clock !== undefined) {
    if (flags.clock !== 'wall' && flags.clock !== 'data') throw new CliError('--clock is wall or data', 2);
    o.aisClock = flags.clock;
  }
  const speed = number('speed', flags.speed);
  if (speed !== undefined && !(speed > 0)) throw new CliError('--speed is a factor above 0', 2);
  if (flags.replay !== undefined && flags.replay !== 'fast' && flags.replay !== 'realtime') throw new CliError('--replay is fast or realtime', 2);
  if (speed !== undefined || flags.replay !== undefined) o.feedOverrides = { ...(speed !== undefined ? { speed } : {}), ...(flags.replay ? { replay: flags.replay as 'fast' | 'realtime' } : {}) };
  if (flags.aisOptions) {
    const file = flags.aisOptions;
    try {
      o.aisOverrides = parseAisIngestSettings(parseYaml(readFileSync(file, 'utf8')), file) as WorkerOptions['aisOverrides'];
    } catch (err) {
      throw new CliError(`${file}: ${(err as Error).message}`, 2);
    }
  }
  return o;
}

/**
 * Runs kinds (all the site wants when undefined) until SIGTERM/SIGINT, the end
 * of --duration, or every input at its end. The first signal drains within the
 * deadline; a second one exits at once.
 */
async function runProcess(kinds: string[] | undefined, flags: RunFlags): Promise<void> {
  const name = kinds?.length === 1 ? `${kinds[0]}-worker` : 'portwatch';
  const logger: Logger = createLogger({ name, level: flags.logLevel ?? process.env.LOG_LEVEL ?? 'info' });
  const { site, siteFile } = loadSiteFile(flags.site);
  const settings = workersSettingsWithFlags(site, flags);
  const worker = workerOptions(flags);
  const duration = number('duration', flags.duration);
  if (duration !== undefined && !(duration > 0)) throw new CliError('--duration is a number of seconds above 0', 2);
  const redisUrl = flags.redis ?? (process.env.REDIS_URL || null);
  if (redisUrl) {
    try {
      redisOptionsFromUrl(redisUrl, flags.redis ? '--redis' : 'REDIS_URL');
    } catch (err) {
      throw new CliError((err as Error).message, 2);
    }
  }
  const dataDir = resolve(flags.dataDir ?? 'data');

  // Signals are taken before start-up: a SIGTERM while the store opens still drains.
  let stopRequested: ((why: string) => void) | null = null;
  const early: string[] = [];
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      const children = killChildren();
      logger.error({ signal, children }, `${signal} again while stopping: exiting now (stored events not yet published stay in the outbox)`);
      process.exit(1);
    }
    if (stopRequested) stopRequested(signal);
    else early.push(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const metricsAt = flags.metricsPort !== undefined ? metricsPort(flags.metricsPort) : undefined;
  let runtime: Runtime;
  try {
    runtime = await startRuntime({
      site,
      siteFile,
      settings,
      logger,
      dataDir,
      ...(flags.dbDir ? { dbDir: flags.dbDir } : {}),
      ...(metricsAt !== undefined ? { metricsPort: metricsAt } : {}),
      ...(flags.snapshots ? { snapshotDir: resolve(flags.snapshots) } : {}),
      databaseUrl: process.env.DATABASE_URL || null,
      redisUrl,
      redisSource: flags.redis ? '--redis' : 'REDIS_URL',
      workerId: flags.workerId ?? process.env.PORTWATCH_WORKER_ID,
      ...(flags.queue ? { queueName: flags.queue } : {}),
      policies: kinds === undefined,
      ...(kinds ? { kinds } : {}),
      worker,
    });
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  }

  const why = await new Promise<string>((resolveStop) => {
    stopRequested = resolveStop;
    if (early.length > 0) resolveStop(early[0]!);
    if (duration !== undefined) setTimeout(() => resolveStop('duration'), duration * 1000).unref();
    void runtime.ended.then(() => resolveStop('end of input'));
  });
  logger.info({ reason: why }, `stopping (${why}): draining within ${settings.stop_deadline_seconds} s`);
  const report = await runtime.stop();
  if (duration !== undefined || why === 'end of input') {
    const summaries = Object.fromEntries([...runtime.workers].map(([k, w]) => [k, w.summary?.() ?? {}]));
    const one = kinds?.length === 1 ? summaries[kinds[0]!] : summaries;
    process.stdout.write(`${JSON.stringify(one)}\n`);
  }
  // Past the deadline something still runs: its child processes (ffmpeg) must not outlive us.
  if (report.unfinished.length > 0) killChildren();
  process.exit(report.clean ? 0 : 1);
}
