import { loadSiteConfig, type SiteConfig } from '../pipeline/config/index.js';
import { CliError } from './cli-error.js';

/**
 * The site file a command runs on: `--site`, else PORTWATCH_SITE. Any problem
 * with it is a usage error (exit 2) whose message names FILE:LINE:COLUMN.
 * `allowMissingEnv` is for commands that never open a stream (a missing
 * camera password is then not worth refusing the file for).
 */
export function loadSiteFile(flag: string | undefined, options: { allowMissingEnv?: boolean } = {}): { site: SiteConfig; siteFile: string } {
  const siteFile = flag ?? process.env.PORTWATCH_SITE;
  if (!siteFile) throw new CliError('no site file: pass --site FILE or set PORTWATCH_SITE', 2);
  try {
    return { site: loadSiteConfig(siteFile, { env: process.env, ...(options.allowMissingEnv ? { allow_missing_env: true } : {}) }), siteFile };
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}
