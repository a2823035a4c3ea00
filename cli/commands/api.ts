import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '../../pipeline/log/index.js';
import { startRuntime, workersSettingsSchema } from '../../pipeline/runtime/index.js';
import { CliError } from '../cli-error.js';
import { loadSiteFile } from '../site-file.js';

interface ApiFlags {
  port?: string;
  host?: string;
  site?: string;
  dataDir?: string;
  redis?: string;
  logLevel?: string;
  metricsPort?: string;
}

/**
 * `portwatch api`: the command-center API alone (the `api` worker kind). On a
 * database server run as many as the load needs; on the embedded database the
 * API runs inside `portwatch run` instead (only one process can open it).
 */
export function registerApiCommands(program: Command): void {
  program
    .command('api')
    .description('serve the command-center API and the web page (OpenAPI at /openapi.json)')
    .option('--port <n>', 'TCP port (workers.api.port, default 8080; 0 = any free port)')
    .option('--host <addr>', 'address to listen on (workers.api.host, default 127.0.0.1)')
    .option('--site <file>', 'site file (or PORTWATCH_SITE)')
    .option('--data-dir <dir>', 'data folder: embedded database in pglite/, snapshots, clips, photos (default ./data)')
    .option('--redis <url>', 'Redis (or REDIS_URL): live stream, shared rate limits')
    .option('--log-level <level>', 'pino level (or LOG_LEVEL; default info)')
    .option('--metrics-port <n>', 'also serve GET /metrics on this port (the API serves it at /metrics to admin and operator tokens)')
    .action(async (flags: ApiFlags) => {
      const logger = createLogger({ name: 'api', level: flags.logLevel ?? process.env.LOG_LEVEL ?? 'info' });
      const { site, siteFile } = loadSiteFile(flags.site);
      const s = structuredClone(site.workers);
      if (flags.port !== undefined) s.api.port = Number(flags.port);
      if (flags.host !== undefined) s.api.host = flags.host;
      const checked = workersSettingsSchema.safeParse(s);
      if (!checked.success) {
        const i = checked.error.issues[0]!;
        throw new CliError(`--${i.path.at(-1) === 'port' ? 'port' : 'host'}: ${i.message}`, 2);
      }
      const redisUrl = flags.redis ?? (process.env.REDIS_URL || null);
      let runtime;
      try {
        runtime = await startRuntime({
          site,
          siteFile,
          settings: checked.data,
          logger,
          dataDir: resolve(flags.dataDir ?? 'data'),
          databaseUrl: process.env.DATABASE_URL || null,
          redisUrl,
          redisSource: flags.redis ? '--redis' : 'REDIS_URL',
          kinds: ['api'],
          ...(flags.metricsPort !== undefined ? { metricsPort: Number(flags.metricsPort) } : {}),
        });
      } catch (err) {
        throw new CliError((err as Error).message, 1);
      }
      const url = (runtime.workers.get('api') as { url?: string } | undefined)?.url;
      if (!url) {
        await runtime.stop();
        throw new CliError(`the API could not listen on ${checked.data.api.host}:${checked.data.api.port} (the log says why)`, 1);
      }
      process.stdout.write(`${url}\n`);
      const signal = await new Promise<string>((r) => {
        process.once('SIGINT', () => r('SIGINT'));
        process.once('SIGTERM', () => r('SIGTERM'));
      });
      logger.info({ signal }, 'stopping the API');
      const report = await runtime.stop();
      process.exit(report.clean ? 0 : 1);
    });
}
