import type { Command } from 'commander';
import { publicInspections, type PublicInspection } from '../../pipeline/dispatch/index.js';
import { DEFAULT_DATA_DIR } from '../../pipeline/store/index.js';
import { CliError } from '../cli-error.js';
import { withStore } from './db.js';
import { requireDispatchTables } from './declarations.js';
import { parseAsOf } from './risk.js';

const CSV_COLUMNS: Array<keyof PublicInspection> = ['inspection', 'date', 'target_kind', 'target', 'imo', 'vessel', 'berth', 'risk_level', 'drawn_by', 'inspector', 'result', 'outcome', 'findings'];

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function registerPublicCommands(program: Command): void {
  const pub = program.command('public').description('"one public": what is published about inspections');
  pub
    .command('export')
    .description('completed inspections (target, date, risk level, how drawn, inspector id, result) and each draw\'s public record')
    .option('--from <date>', 'completed on or after (YYYY-MM-DD or ISO date-time)')
    .option('--to <date>', 'completed before')
    .option('--format <csv|json>', 'json: {inspections, draws} with every draw record; csv: one row per inspection, draw ids in columns', 'json')
    .option('--data-dir <dir>', `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`)
    .action(async (opts: { from?: string; to?: string; format: string; dataDir?: string }) => {
      if (opts.format !== 'csv' && opts.format !== 'json') throw new CliError(`--format ${opts.format}: csv or json`, 2);
      const range = { ...(opts.from ? { from: parseAsOf(opts.from) } : {}), ...(opts.to ? { to: parseAsOf(opts.to) } : {}) };
      await withStore(opts, async (store) => {
        await requireDispatchTables(store);
        const rows = await publicInspections(store, range);
        if (opts.format === 'json') {
          const draws = new Map<string, unknown>();
          for (const r of rows) for (const d of [r.target_draw, r.inspector_draw]) if (d && typeof d.draw_id === 'string') draws.set(d.draw_id, d);
          const inspections = rows.map(({ target_draw, inspector_draw, ...rest }) => ({ ...rest, target_draw: (target_draw?.draw_id as string) ?? null, inspector_draw: (inspector_draw?.draw_id as string) ?? null }));
          process.stdout.write(JSON.stringify({ inspections, draws: [...draws.values()] }, null, 2) + '\n');
          return;
        }
        const lines = [[...CSV_COLUMNS, 'target_draw', 'inspector_draw'].join(',')];
        for (const r of rows) lines.push([...CSV_COLUMNS.map((c) => csvCell(r[c])), csvCell(r.target_draw?.draw_id), csvCell(r.inspector_draw?.draw_id)].join(','));
        process.stdout.write(lines.join('\n') + '\n');
      });
    });
}
