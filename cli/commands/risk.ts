import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { formatRejection, loadRiskModel, readJsonLines, RiskModelError, scoreVessel, vesselLineSchema, type RiskModel } from '../../pipeline/risk/index.js';
import { CliError } from '../cli-error.js';

export const DEFAULT_RISK_MODEL = 'config/risk/paris-mou-srp.yaml';

/** `--as-of DATE`: a calendar day (UTC midnight) or a full ISO date-time; default now. */
export function parseAsOf(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d.getTime())) throw new CliError(`--as-of ${value}: not a date; write YYYY-MM-DD or an ISO 8601 date-time`, 2);
  return d;
}

export function loadModelOrExit(file: string): RiskModel {
  if (!existsSync(file)) throw new CliError(`--model ${file}: no such file`, 2);
  try {
    return loadRiskModel(file);
  } catch (err) {
    if (err instanceof RiskModelError) throw new CliError(err.message, 2);
    throw err;
  }
}

export function registerRiskCommands(program: Command): void {
  const risk = program.command('risk').description('vessel risk profiles (Paris MoU SRP and the port model)');
  risk
    .command('score')
    .description('score vessels from a JSON-lines file: one JSON line per vessel with imo, profile (HRS|SRS|LRS), points and the breakdown')
    .requiredOption('--vessels <file>', 'JSON lines: imo, name, type, built, flag_list, flag_risk, flag_imo_audit, ro_performance, ro_eu_recognised, company_performance, inspections_36m (- for stdin)')
    .option('--model <file>', `risk model YAML (default ${DEFAULT_RISK_MODEL})`, DEFAULT_RISK_MODEL)
    .option('--as-of <date>', 'ages and 36-month windows count back from this day (default today)')
    .addHelpText('after', '\nBad lines are reported on stderr as FILE:LINE field: reason, the others scored; exit 2 when any line was rejected.')
    .action(async (opts: { vessels: string; model: string; asOf?: string }) => {
      const model = loadModelOrExit(opts.model);
      const asOf = parseAsOf(opts.asOf);
      if (opts.vessels !== '-' && !existsSync(opts.vessels)) throw new CliError(`--vessels ${opts.vessels}: no such file`, 2);
      let out = '';
      const { accepted, rejected } = await readJsonLines(
        opts.vessels,
        vesselLineSchema,
        (v) => {
          const s = scoreVessel(model, v, asOf);
          out += JSON.stringify({ imo: s.imo, name: s.name, profile: s.profile, points: s.points, breakdown: s.breakdown, profile_reason: s.profile_reason, model: s.model }) + '\n';
          if (out.length > 1 << 16) {
            process.stdout.write(out);
            out = '';
          }
        },
        (r) => process.stderr.write(formatRejection(r) + '\n'),
      );
      process.stdout.write(out);
      if (rejected > 0) throw new CliError(`${rejected} of ${accepted + rejected} vessel lines rejected (see above); the others were scored`, 2);
    });
}
