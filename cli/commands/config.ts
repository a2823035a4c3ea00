import type { Command } from 'commander';
import { checkSiteConfig, formatIssue, redactSiteConfig, summarizeSiteConfig, type ConfigCheckResult } from '../../pipeline/config/index.js';
import { CliError } from '../cli-error.js';

interface CheckFlags {
  allowMissingEnv?: boolean;
}

/** Prints every issue, one per line; throws (exit 2) when there is an error. */
function runCheck(file: string, flags: CheckFlags): ConfigCheckResult {
  const result = checkSiteConfig(file, { env: process.env, allow_missing_env: flags.allowMissingEnv === true });
  for (const issue of result.issues) process.stdout.write(`${formatIssue(issue)}\n`);
  if (!result.config) {
    const hint = result.issues.some((i) => i.code === 'missing_env' && i.severity === 'error')
      ? ' (set the missing environment variables, or add --allow-missing-env to check the rest)'
      : '';
    throw new CliError(`${file}: ${result.errors} error${result.errors === 1 ? '' : 's'}${hint}`, 2);
  }
  return result;
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check and show a site file (cameras, berths, feeds, inspectors, alerts)');

  config
    .command('check')
    .description('validate a site file; prints every problem as FILE:LINE:COLUMN path: reason and exits 2 if there is any error')
    .argument('<file>', 'the site YAML file')
    .option('--allow-missing-env', 'report unset ${VAR} credentials as warnings (checking a file before its secrets are in place)')
    .action((file: string, flags: CheckFlags) => {
      const result = runCheck(file, flags);
      const s = summarizeSiteConfig(result.config!);
      const warnings = result.warnings > 0 ? `, ${result.warnings} warning${result.warnings === 1 ? '' : 's'}` : '';
      process.stdout.write(
        `OK ${file}: site "${s.site}", ${s.cameras} cameras, ${s.berths} berths, ${s.zones} zones, ${s.tripwires} tripwires, ${s.feeds} feeds, ${s.inspectors} inspectors${warnings}\n`,
      );
    });

  config
    .command('show')
    .description('print the expanded site config (camera groups expanded, defaults applied) as JSON, credentials redacted')
    .argument('<file>', 'the site YAML file')
    .option('--allow-missing-env', 'report unset ${VAR} credentials as warnings instead of errors')
    .action((file: string, flags: CheckFlags) => {
      const result = checkSiteConfig(file, { env: process.env, allow_missing_env: flags.allowMissingEnv === true });
      // Issues go to stderr here: stdout carries the JSON only, so it can be piped.
      for (const issue of result.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      if (!result.config) throw new CliError(`${file}: ${result.errors} error${result.errors === 1 ? '' : 's'}`, 2);
      process.stdout.write(`${JSON.stringify(redactSiteConfig(result.config, result.env_refs), null, 2)}\n`);
    });
}
