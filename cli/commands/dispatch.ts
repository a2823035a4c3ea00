import type { Command } from 'commander';
import { acknowledgeInspection, closeAlertForInspection, DispatchError, INSPECTION_STATES, listInspections, recordInspectionResult, type InspectionState } from '../../pipeline/dispatch/index.js';
import { DEFAULT_DATA_DIR } from '../../pipeline/store/index.js';
import { CliError } from '../cli-error.js';
import { withStore } from './db.js';
import { requireDispatchTables } from './declarations.js';

const dataDirOption = `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`;

function asCliError(err: unknown): never {
  if (err instanceof DispatchError) throw new CliError(err.message, err.code === 'invalid' ? 2 : 1);
  throw err;
}

export function registerDispatchCommands(program: Command): void {
  const dispatch = program.command('dispatch').description('inspections drawn for vessels and alerts: list, acknowledge, record results');

  dispatch
    .command('list')
    .description('inspections, newest first, one JSON line each')
    .option('--inspector <id>', "one inspector's jobs")
    .option('--company <name>', "one company's calls")
    .option('--imo <n>', "one vessel's", (v) => Number(v))
    .option('--state <state>', `one of ${INSPECTION_STATES.join(', ')}`)
    .option('--limit <n>', 'at most this many (default 100)', (v) => Number(v))
    .option('--data-dir <dir>', dataDirOption)
    .action(async (opts: { inspector?: string; company?: string; imo?: number; state?: string; limit?: number; dataDir?: string }) => {
      if (opts.state && !(INSPECTION_STATES as readonly string[]).includes(opts.state)) throw new CliError(`--state ${opts.state}: one of ${INSPECTION_STATES.join(', ')}`, 2);
      if (opts.imo !== undefined && !Number.isInteger(opts.imo)) throw new CliError('--imo: a whole number', 2);
      await withStore(opts, async (store) => {
        await requireDispatchTables(store);
        const rows = await listInspections(store, {
          ...(opts.inspector ? { inspector: opts.inspector } : {}),
          ...(opts.company ? { company: opts.company } : {}),
          ...(opts.imo !== undefined ? { imo: opts.imo } : {}),
          ...(opts.state ? { state: opts.state as InspectionState } : {}),
          ...(opts.limit ? { limit: opts.limit } : {}),
        });
        process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
      });
    });

  dispatch
    .command('ack <inspection>')
    .description('acknowledge an inspection assigned to you, before its deadline')
    .requiredOption('--inspector <id>', 'your inspector id (from the site roster)')
    .option('--data-dir <dir>', dataDirOption)
    .action(async (id: string, opts: { inspector: string; dataDir?: string }) => {
      await withStore(opts, async (store) => {
        await requireDispatchTables(store);
        const i = await acknowledgeInspection(store, id, { inspector: opts.inspector }).catch(asCliError);
        process.stdout.write(JSON.stringify({ inspection: i.id, state: i.state, inspector: i.inspector, acknowledged_at: i.acknowledged_at }) + '\n');
      });
    });

  dispatch
    .command('result <inspection>')
    .description('record the result of an acknowledged inspection: the target is released (pass) or held (fail), the alert closed')
    .requiredOption('--inspector <id>', 'your inspector id')
    .requiredOption('--result <pass|fail>', 'pass or fail')
    .option('--finding <text>', 'a finding (repeat for several)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--photo <ref>', 'a photo reference: path or URL of stored evidence (repeat for several)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--outcome <released|held>', 'override: default released on pass, held on fail')
    .option('--data-dir <dir>', dataDirOption)
    .action(async (id: string, opts: { inspector: string; result: string; finding: string[]; photo: string[]; outcome?: string; dataDir?: string }) => {
      if (opts.result !== 'pass' && opts.result !== 'fail') throw new CliError(`--result ${opts.result}: pass or fail`, 2);
      if (opts.outcome && opts.outcome !== 'released' && opts.outcome !== 'held') throw new CliError(`--outcome ${opts.outcome}: released or held`, 2);
      await withStore(opts, async (store, logger) => {
        await requireDispatchTables(store);
        const i = await recordInspectionResult(store, id, {
          inspector: opts.inspector,
          result: opts.result as 'pass' | 'fail',
          findings: opts.finding.map((text) => ({ text })),
          photos: opts.photo,
          ...(opts.outcome ? { outcome: opts.outcome as 'released' | 'held' } : {}),
        }).catch(asCliError);
        await closeAlertForInspection(store, i, logger);
        process.stdout.write(JSON.stringify({ inspection: i.id, state: i.state, result: i.result, outcome: i.outcome, alert: i.alert_id }) + '\n');
      });
    });
}
