import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { AlertEngine, parseEventLine, type AlertChange, type DerivedAlert } from '../../pipeline/alerts/index.js';
import { ConfigError, loadSiteConfig, type SiteConfig } from '../../pipeline/config/index.js';
import { CliError } from '../cli-error.js';

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
}
