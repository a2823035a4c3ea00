import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  AlertEngine,
  AlertNotFoundError,
  AlertStateError,
  ShelveError,
  acknowledgeAlert,
  alertMessage,
  isAlertState,
  listAlerts,
  parseEventLine,
  resolveAlert,
  shelveAlert,
  type AlertChange,
  type AlertUpdate,
  type DerivedAlert,
} from '../../pipeline/alerts/index.js';
import { ConfigError, loadSiteConfig, type SiteConfig } from '../../pipeline/config/index.js';
import { ALERT_SETTINGS_DEFAULTS } from '../../pipeline/config/schema.js';
import { DEFAULT_DATA_DIR } from '../../pipeline/store/index.js';
import { CliError } from '../cli-error.js';
import { withMigratedStore, withStore } from './db.js';

interface EvaluateOptions {
  site: string;
  start?: string;
}

function loadSite(file: string): SiteConfig {
  try {
    // Stream credentials do not matter to the rules.
    return loadSiteConfig(file, { env: process.env, allow_missing_env: true });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw new CliError(`${file}: ${(err as Error).message}`, 2);
  }
}

/** One alert change as `alerts evaluate` prints it; times as seconds from the origin when the input gave them so. */
function changeLine(c: AlertChange, seconds: ((d: Date) => number) | null): Record<string, unknown> {
  const a: DerivedAlert = c.alert;
  const time = (d: Date | null) => (d === null ? null : seconds ? seconds(d) : d.toISOString());
  return {
    alert: a.id,
    rule: a.rule,
    state: 'open',
    severity: a.severity,
    priority: a.priority,
    kind: a.kind,
    camera: a.camera,
    zone: a.zone,
    berth: a.berth,
    mmsi: a.mmsi,
    objects: a.objects.map((o) => ({ track: o.track, class: o.class, event: o.event, score: o.score, snapshot: o.snapshot, active: o.active })),
    first: time(a.first),
    last: time(a.last),
    active: a.active,
    cleared_at: time(a.cleared_at),
    ...(a.flood ? { flood: a.flood } : {}),
    ...(a.flood_count !== null ? { flood_count: a.flood_count } : {}),
    ...(a.merged_into !== null ? { merged_into: a.merged_into } : {}),
    t: time(c.t),
  };
}

/** `30m`, `2h`, `90s`, `1h30m` → milliseconds. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    end = re.lastIndex;
  }
  if (end !== text.length || text.length === 0 || total <= 0) throw new CliError(`--for must be a duration such as 30m, 2h or 1h30m, got "${text}"`, 2);
  return total;
}

interface StoreCliOptions {
  dataDir?: string;
}

async function withAlertStore<T>(opts: StoreCliOptions, fn: Parameters<typeof withStore<T>>[1]): Promise<T> {
  return withMigratedStore(opts, async (store, logger) => {
    try {
      return await fn(store, logger);
    } catch (err) {
      if (err instanceof AlertNotFoundError) throw new CliError(`${err.message} (portwatch alerts list shows the ids)`, 2);
      if (err instanceof AlertStateError || err instanceof ShelveError) throw new CliError(err.message, 2);
      throw err;
    }
  });
}

function printUpdate(u: AlertUpdate): void {
  process.stdout.write(`${JSON.stringify({ ...alertMessage(u.alert, u.history.action as never), history: u.history })}\n`);
}

const dataDirOption = ['--data-dir <dir>', `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`] as const;

export function registerAlertsCommands(program: Command): void {
  const alerts = program.command('alerts').description('Alert rules and the alerts of the store');

  alerts
    .command('evaluate')
    .description(
      "Run the site's alert rules over event lines (as `portwatch analyze` prints them, or stored events with ISO times); " +
        'no database, no Redis. Prints one JSON line per alert change. Bad lines are reported as FILE:LINE: reason on stderr and skipped; exit 1 if there were any.',
    )
    .argument('[events]', 'a JSONL file of events, or - for stdin', '-')
    .requiredOption('--site <file>', 'the site file whose alerts section applies')
    .option('--start <iso>', 'wall time of t = 0 for lines that give t (seconds) instead of time; output times are then ISO too')
    .action(async (file: string, opts: EvaluateOptions) => {
      const site = loadSite(opts.site);
      let origin = new Date(0);
      if (opts.start !== undefined) {
        origin = new Date(opts.start);
        if (Number.isNaN(origin.getTime())) throw new CliError(`--start must be an ISO date-time such as 2026-12-06T08:00:00+08:00, got "${opts.start}"`, 2);
      }
      const relativeOut = opts.start === undefined ? (d: Date) => (d.getTime() - origin.getTime()) / 1000 : null;
      const engine = new AlertEngine({ site });
      const name = file === '-' ? '(stdin)' : file;
      const input = file === '-' ? process.stdin : createReadStream(file);
      const opened = new Promise<void>((resolve, reject) => {
        if (file === '-') resolve();
        else {
          input.once('open', () => resolve());
          input.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(`${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, 2)));
        }
      });
      await opened;
      let lineNo = 0;
      let bad = 0;
      let mixed = 0;
      let relativeSeen: boolean | null = null;
      const write = (changes: AlertChange[], relative: boolean) => {
        for (const c of changes) process.stdout.write(`${JSON.stringify(changeLine(c, relative ? relativeOut : null))}\n`);
      };
      for await (const text of createInterface({ input, crlfDelay: Infinity })) {
        lineNo++;
        if (text.trim() === '') continue;
        const parsed = parseEventLine(text, origin);
        if ('error' in parsed) {
          bad++;
          process.stderr.write(`${name}:${lineNo}: ${parsed.error}\n`);
          continue;
        }
        if (relativeSeen !== null && relativeSeen !== parsed.relative) {
          mixed++;
          bad++;
          process.stderr.write(`${name}:${lineNo}: time: this line gives ${parsed.relative ? 't (seconds)' : 'time (ISO)'} but earlier lines gave the other; one stream uses one\n`);
          continue;
        }
        relativeSeen = parsed.relative;
        write(engine.ingest(parsed.event), parsed.relative);
      }
      const s = engine.stats;
      process.stderr.write(
        `alerts evaluate: ${lineNo} lines, ${s.events} events, ${bad} bad, ${s.unmatched} matched no rule, ${s.suppressed} suppressed, ${s.late} late, ${engine.current().length} alerts\n`,
      );
      if (bad > 0) process.exitCode = 1;
    });

  alerts
    .command('list')
    .description('Alerts in the store, newest first, one JSON line each (DATABASE_URL, or the embedded database)')
    .option('--state <state>', 'open, acknowledged, dispatched, resolved or false_alarm')
    .option('--since <iso>', 'incidents that started at or after this time')
    .option('--camera <id>', 'one camera')
    .option('--limit <n>', 'at most this many (default 50, at most 500)')
    .option(...dataDirOption)
    .action(async (opts: StoreCliOptions & { state?: string; since?: string; camera?: string; limit?: string }) => {
      if (opts.state !== undefined && !isAlertState(opts.state)) throw new CliError(`--state must be one of open, acknowledged, dispatched, resolved, false_alarm, got "${opts.state}"`, 2);
      let since: Date | undefined;
      if (opts.since !== undefined) {
        since = new Date(opts.since);
        if (Number.isNaN(since.getTime())) throw new CliError(`--since must be an ISO date-time, got "${opts.since}"`, 2);
      }
      const limit = opts.limit === undefined ? 50 : Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError(`--limit must be a whole number from 1 to 500, got "${opts.limit}"`, 2);
      await withAlertStore(opts, async (store) => {
        const page = await listAlerts(store, { ...(opts.state ? { state: opts.state as never } : {}), ...(since ? { since } : {}), ...(opts.camera ? { camera: opts.camera } : {}), limit });
        for (const a of page.alerts) process.stdout.write(`${JSON.stringify(alertMessage(a, 'updated'))}\n`);
        process.stderr.write(`${page.alerts.length} alerts${page.next ? ' (more: narrow with --since, --state or --camera)' : ''}\n`);
      });
    });

  alerts
    .command('ack')
    .description('Acknowledge an alert')
    .argument('<id>', 'the alert id')
    .requiredOption('--by <who>', 'who acknowledges (operator name or id)')
    .option('--comment <text>', 'why, what was done')
    .option(...dataDirOption)
    .action(async (id: string, opts: StoreCliOptions & { by: string; comment?: string }) => {
      await withAlertStore(opts, async (store) => printUpdate(await acknowledgeAlert(store, id, { by: opts.by, comment: opts.comment ?? null })));
    });

  alerts
    .command('shelve')
    .description('Silence an alert for a bounded time (at most alerts.max_shelve_minutes of the site file); it unshelves itself')
    .argument('<id>', 'the alert id')
    .requiredOption('--for <duration>', 'how long: 30m, 2h, 1h30m')
    .requiredOption('--reason <text>', 'why it is shelved')
    .option('--by <who>', 'who shelves it', process.env.USER ?? 'operator')
    .option('--site <file>', 'the site file whose alerts.max_shelve_minutes bounds --for (default 480 minutes)')
    .option(...dataDirOption)
    .action(async (id: string, opts: StoreCliOptions & { for: string; reason: string; by: string; site?: string }) => {
      const forMs = parseDuration(opts.for);
      const maxMinutes = opts.site ? loadSite(opts.site).alerts.max_shelve_minutes : ALERT_SETTINGS_DEFAULTS.max_shelve_minutes;
      await withAlertStore(opts, async (store) => printUpdate(await shelveAlert(store, id, { by: opts.by, reason: opts.reason, forMs, maxMs: maxMinutes * 60_000 })));
    });

  alerts
    .command('resolve')
    .description('Close an alert as resolved, or as a false alarm')
    .argument('<id>', 'the alert id')
    .option('--false-alarm', 'close it as a false alarm')
    .option('--by <who>', 'who closes it', process.env.USER ?? 'operator')
    .option('--comment <text>', 'what was found')
    .option(...dataDirOption)
    .action(async (id: string, opts: StoreCliOptions & { falseAlarm?: boolean; by: string; comment?: string }) => {
      await withAlertStore(opts, async (store) => printUpdate(await resolveAlert(store, id, { by: opts.by, falseAlarm: opts.falseAlarm ?? false, comment: opts.comment ?? null })));
    });
}
