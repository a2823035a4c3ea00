import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadSiteConfig } from '../../pipeline/config/index.js';
import { declarationSchema, storeDeclaration } from '../../pipeline/declarations/index.js';
import { formatRejection, readJsonLines, type RiskModel } from '../../pipeline/risk/index.js';
import { DEFAULT_DATA_DIR, type Queryable } from '../../pipeline/store/index.js';
import { CliError } from '../cli-error.js';
import { withStore } from './db.js';
import { loadModelOrExit } from './risk.js';

/** The commands of migration 5 need its tables: say how to get them instead of failing on SQL. */
export async function requireDispatchTables(q: Queryable): Promise<void> {
  const r = (await q.query(`SELECT to_regclass('vessel_calls') IS NOT NULL AND to_regclass('inspections') IS NOT NULL AND to_regclass('audit_log') IS NOT NULL AS ok`)).rows[0];
  if (!r?.ok) throw new CliError('the database has no declarations/dispatch tables yet: run `portwatch db migrate` first', 1);
}

export function registerDeclarationsCommands(program: Command): void {
  const decl = program.command('declarations').description('vessel calls declared before arrival (the paperless loop)');
  decl
    .command('import <file>')
    .description('validate and store declared calls (JSON lines), link them to AIS and berth visits, score each vessel; one JSON line per stored call')
    .option('--model <file>', 'risk model YAML (default: the site file\'s risk.model, else config/risk/port.yaml)')
    .option('--site <file>', 'site file: its risk.model and berths (a declared berth must exist)')
    .option('--data-dir <dir>', `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`)
    .addHelpText('after', '\nEach bad line is reported as FILE:LINE field: reason and skipped; exit 2 when any line was rejected.')
    .action(async (file: string, opts: { model?: string; site?: string; dataDir?: string }) => {
      if (file !== '-' && !existsSync(file)) throw new CliError(`${file}: no such file`, 2);
      const site = opts.site ? loadSiteConfig(opts.site, { env: process.env, allow_missing_env: true }) : null;
      const modelFile = opts.model ?? site?.risk?.model ?? 'config/risk/port.yaml';
      const model: RiskModel = loadModelOrExit(modelFile);
      const berths = site ? new Set(site.berths.map((b) => b.id)) : null;
      await withStore(opts, async (store) => {
        await requireDispatchTables(store);
        let unknownBerth = 0;
        const { accepted, rejected } = await readJsonLines(
          file,
          declarationSchema,
          async (d, line) => {
            if (berths && d.berth && !berths.has(d.berth)) {
              unknownBerth++;
              process.stderr.write(`${file}:${line} berth: "${d.berth}" is not a berth of the site (${[...berths].join(', ')})\n`);
              return;
            }
            const c = await storeDeclaration(store, d, { model });
            process.stdout.write(
              JSON.stringify({
                line,
                call: c.id,
                imo: c.imo,
                mmsi: c.mmsi,
                mmsi_from_ais: c.mmsiFromAis,
                berth_visit: c.berthVisit,
                replaced: c.replaced,
                profile: c.score?.profile ?? null,
                points: c.score?.points ?? null,
                score_stored: c.score?.stored ?? false,
              }) + '\n',
            );
          },
          (r) => process.stderr.write(formatRejection(r) + '\n'),
        );
        const bad = rejected + unknownBerth;
        if (bad > 0) throw new CliError(`${bad} of ${accepted + rejected} declaration lines rejected (see above); the others were stored`, 2);
      });
    });
}
