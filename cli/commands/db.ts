import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { createLogger } from '../../pipeline/log/index.js';
import {
  DEFAULT_DATA_DIR,
  MigrationError,
  formatStoreStatus,
  migrate,
  openStore,
  storeSettingsSchema,
  storeStatus,
  type Store,
  type StoreSettings,
} from '../../pipeline/store/index.js';
import { CliError } from '../cli-error.js';

export interface DbOptions {
  dataDir?: string;
  json?: boolean;
  settings?: string;
}

/** Store settings from a YAML file: either the settings themselves or a site config with a `store:` section. */
function readSettings(file: string): Partial<StoreSettings> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`, 2);
  }
  const section = doc && typeof doc === 'object' && 'store' in doc ? (doc as { store: unknown }).store : doc;
  const parsed = storeSettingsSchema.safeParse(section ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new CliError(`${file}: ${['store', ...first.path.map(String)].join('.')}: ${first.message}`, 2);
  }
  return parsed.data;
}

export async function withStore<T>(opts: DbOptions, fn: (store: Store, logger: ReturnType<typeof createLogger>) => Promise<T>): Promise<T> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  let store: Store;
  try {
    store = await openStore({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir: opts.dataDir ?? DEFAULT_DATA_DIR, logger });
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  }
  try {
    return await fn(store, logger);
  } catch (err) {
    if (err instanceof MigrationError) throw new CliError(err.message, 1);
    throw err;
  } finally {
    await store.close();
  }
}

/**
 * `withStore` on a store brought up to the code's migrations first (commands
 * that read or write application tables). The store's policies are left as the
 * workers set them from the site file (`db migrate --settings` changes them).
 */
export async function withMigratedStore<T>(opts: DbOptions, fn: (store: Store, logger: ReturnType<typeof createLogger>) => Promise<T>): Promise<T> {
  return withStore(opts, async (store, logger) => {
    await migrate(store, { logger, applySettings: false });
    return fn(store, logger);
  });
}

const TARGET_HELP = `
Target: DATABASE_URL (postgres://user:pass@host:5432/db) selects a server, with or
without TimescaleDB; unset, the embedded database under --data-dir (default ${DEFAULT_DATA_DIR}).`;

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the event store: migrations and status').addHelpText('after', TARGET_HELP);

  db.command('migrate')
    .description('apply pending migrations, then the chunk interval, compression and retention settings (idempotent)')
    .option('--data-dir <dir>', `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`)
    .option('--settings <file>', 'YAML with chunk_interval / compress_after / retain_for per hypertable (or a site config with a store: section)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', TARGET_HELP)
    .action(async (opts: DbOptions) => {
      const settings = opts.settings ? readSettings(opts.settings) : {};
      await withStore(opts, async (store, logger) => {
        const result = await migrate(store, { logger, settings });
        if (opts.json) {
          process.stdout.write(JSON.stringify({ target: store.kind, location: store.location, ...result }, null, 2) + '\n');
          return;
        }
        const out: string[] = [`target: ${store.kind} (${store.location})`];
        if (result.applied.length === 0) out.push('migrations: up to date, nothing applied');
        for (const m of result.applied) out.push(`applied migration ${m.version}: ${m.name}`);
        if (store.capabilities.timescale) {
          out.push(result.settingsChanged.length ? 'settings:' : 'settings: unchanged');
          for (const c of result.settingsChanged) out.push(`  ${c}`);
        } else {
          out.push(`settings: not applicable without TimescaleDB (lost: ${store.capabilities.lost.join('; ')})`);
        }
        process.stdout.write(out.join('\n') + '\n');
      });
    });

  db.command('status')
    .description('print the target, TimescaleDB version, migrations, hypertables, aggregates and policies')
    .option('--data-dir <dir>', `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`)
    .option('--json', 'print the status as JSON')
    .addHelpText('after', TARGET_HELP)
    .action(async (opts: DbOptions) => {
      await withStore(opts, async (store) => {
        const status = await storeStatus(store);
        process.stdout.write((opts.json ? JSON.stringify(status, null, 2) : formatStoreStatus(status)) + '\n');
      });
    });
}
