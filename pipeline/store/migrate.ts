import { createHash } from 'node:crypto';
import type { Logger } from '../log/index.js';
import type { Queryable, Store } from './store.js';
import { MIGRATIONS, TIME_SERIES_TABLES, type Migration, type MigrationStep } from './schema.js';
import { resolveStoreSettings, type StoreSettings } from './settings.js';

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: Date;
}

export interface MigrateResult {
  /** Migrations run now (empty when the database was up to date). */
  applied: Array<{ version: number; name: string }>;
  /** Settings changes made now, e.g. "events: retention 5 years → 1 year". */
  settingsChanged: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(JSON.stringify({ version: m.version, name: m.name, steps: m.steps })).digest('hex');
}

function render(store: Store, step: MigrationStep): string[] {
  if ('sql' in step) return [step.sql];
  if ('timeSeries' in step) return store.capabilities.timeSeries(step.timeSeries);
  return store.capabilities.aggregate(step.aggregate);
}

// Any fixed key: two workers migrating at once take turns instead of racing.
const MIGRATION_LOCK = 7_230_815_001;

async function ensureMigrationTable(q: Queryable) {
  await q.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
}

export async function appliedMigrations(q: Queryable): Promise<AppliedMigration[]> {
  const exists = (await q.query(`SELECT to_regclass('schema_migrations') IS NOT NULL AS e`)).rows[0]?.e;
  if (!exists) return [];
  const rows = (await q.query(`SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version`)).rows;
  return rows.map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
}

/** Refuse to run over a database whose applied migrations differ from the code's. */
function verify(applied: AppliedMigration[], migrations: readonly Migration[], logger: Logger) {
  for (const a of applied) {
    const m = migrations.find((x) => x.version === a.version);
    if (!m) {
      logger.warn({ version: a.version, name: a.name }, `database has migration ${a.version} (${a.name}) that this code does not know: it is newer than the code`);
      continue;
    }
    const sum = migrationChecksum(m);
    if (sum !== a.checksum) {
      throw new MigrationError(
        `migration ${a.version} (${a.name}) was changed after it was applied ` +
          `(checksum in schema_migrations ${a.checksum.slice(0, 12)}…, in the code ${sum.slice(0, 12)}…): ` +
          'restore the applied migration and put the change in a new migration',
      );
    }
  }
}

/**
 * Bring the schema up to date, then apply the housekeeping settings (chunk
 * intervals, compression, retention). Both halves are idempotent: a second run
 * changes nothing and says so.
 */
export async function migrate(
  store: Store,
  options: {
    logger: Logger;
    settings?: Partial<StoreSettings>;
    migrations?: readonly Migration[];
    /**
     * False leaves chunk intervals and policies as they are: for commands that
     * only need the tables (tokens, queries), which do not know the site's
     * store settings and must not reset them to the defaults.
     */
    applySettings?: boolean;
  },
): Promise<MigrateResult> {
  const { logger } = options;
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  // CREATE TABLE IF NOT EXISTS is not safe against itself: two workers starting
  // together can both pass the check and one fails on pg_type's unique index.
  await store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await ensureMigrationTable(tx);
  });
  const applied: MigrateResult['applied'] = [];

  for (const m of migrations) {
    const done = await store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const already = await appliedMigrations(tx);
      verify(already, migrations, logger);
      if (already.some((a) => a.version === m.version)) return false;
      for (const step of m.steps) for (const sql of render(store, step)) await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, migrationChecksum(m)]);
      return true;
    });
    if (done) {
      applied.push({ version: m.version, name: m.name });
      logger.info({ version: m.version, migration: m.name, target: store.kind }, `applied migration ${m.version} (${m.name})`);
    }
  }
  if (applied.length === 0) {
    // Still verify checksums when there was nothing to run.
    verify(await appliedMigrations(store), migrations, logger);
  }

  const settingsChanged = options.applySettings === false ? [] : await applySettings(store, options.settings ?? {}, logger);
  return { applied, settingsChanged };
}

/**
 * Make chunk intervals and compression/retention policies match the settings.
 * Only what differs is touched, so job ids and history survive a re-run.
 */
export async function applySettings(store: Store, settings: Partial<StoreSettings>, logger: Logger): Promise<string[]> {
  if (!store.capabilities.timescale) return [];
  const s = resolveStoreSettings(settings);
  const changes: string[] = [];
  for (const table of TIME_SERIES_TABLES) {
    const chunk = s.chunk_interval[table];
    const current = (
      await store.query(
        `SELECT time_interval::text AS now, time_interval = $2::interval AS same FROM timescaledb_information.dimensions
          WHERE hypertable_name = $1 AND dimension_number = 1`,
        [table, chunk],
      )
    ).rows[0];
    if (!current) throw new MigrationError(`${table} is not a hypertable: run the migrations first`);
    if (!current.same) {
      await store.query(`SELECT set_chunk_time_interval($1, $2::interval)`, [table, chunk]);
      changes.push(`${table}: chunk interval ${current.now} → ${chunk}`);
    }
    for (const [policy, key, proc, value] of [
      ['compression', 'compress_after', 'policy_compression', s.compress_after[table]],
      ['retention', 'drop_after', 'policy_retention', s.retain_for[table]],
    ] as const) {
      const job = (
        await store.query(
          `SELECT job_id, config->>'${key}' AS now FROM timescaledb_information.jobs WHERE proc_name = $1 AND hypertable_name = $2`,
          [proc, table],
        )
      ).rows[0];
      const same =
        value === 'never' ? !job : job ? (await store.query(`SELECT $1::interval = $2::interval AS same`, [job.now, value])).rows[0]?.same : false;
      if (same) continue;
      await store.query(`SELECT remove_${policy}_policy($1, if_exists => true)`, [table]);
      if (value !== 'never') await store.query(`SELECT add_${policy}_policy($1, $2::interval)`, [table, value]);
      changes.push(`${table}: ${policy} ${job ? `after ${job.now}` : 'none'} → ${value === 'never' ? 'none' : `after ${value}`}`);
    }
  }
  for (const c of changes) logger.info({ target: store.kind, change: c }, `store setting applied: ${c}`);
  return changes;
}
