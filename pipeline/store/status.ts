import type { Store } from './store.js';
import { appliedMigrations, migrationChecksum, type AppliedMigration } from './migrate.js';
import { AGGREGATES, MIGRATIONS, TIME_SERIES_TABLES } from './schema.js';

export interface StoreStatus {
  kind: Store['kind'];
  location: string;
  timescaledbVersion: string | null;
  /** What the fallback target cannot do; empty on TimescaleDB. */
  lost: string[];
  migrations: { applied: AppliedMigration[]; pending: Array<{ version: number; name: string }>; changed: number[] };
  /** Time-series tables: hypertables (with chunk interval) or plain tables with a BRIN time index. */
  timeSeries: Array<{ table: string; hypertable: boolean; chunkInterval: string | null; chunks: number | null; compression: boolean; timeIndex: string | null }>;
  aggregates: Array<{ name: string; kind: 'continuous aggregate' | 'view' | 'missing'; refresh: string | null }>;
  policies: Array<{ table: string; policy: 'compression' | 'retention' | 'refresh'; setting: string; every: string; jobId: number }>;
}

/** What `db status` shows: read-only, safe on any target, also before the first migration. */
export async function storeStatus(store: Store): Promise<StoreStatus> {
  const applied = await appliedMigrations(store);
  const pending = MIGRATIONS.filter((m) => !applied.some((a) => a.version === m.version)).map((m) => ({ version: m.version, name: m.name }));
  const changed = applied.filter((a) => {
    const m = MIGRATIONS.find((x) => x.version === a.version);
    return m && migrationChecksum(m) !== a.checksum;
  }).map((a) => a.version);

  const status: StoreStatus = {
    kind: store.kind,
    location: store.location,
    timescaledbVersion: store.timescaledbVersion,
    lost: store.capabilities.lost,
    migrations: { applied, pending, changed },
    timeSeries: [],
    aggregates: [],
    policies: [],
  };

  const names = [...TIME_SERIES_TABLES];
  if (store.capabilities.timescale) {
    const hyper = (
      await store.query(
        `SELECT h.hypertable_name AS t, h.num_chunks AS chunks, h.compression_enabled AS compression, d.time_interval::text AS chunk
           FROM timescaledb_information.hypertables h
           JOIN timescaledb_information.dimensions d ON d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name AND d.dimension_number = 1
          WHERE h.hypertable_schema = 'public' AND h.hypertable_name = ANY($1)`,
        [names],
      )
    ).rows;
    for (const table of names) {
      const h = hyper.find((r) => r.t === table);
      status.timeSeries.push({
        table,
        hypertable: !!h,
        chunkInterval: h?.chunk ?? null,
        chunks: h ? Number(h.chunks) : null,
        compression: !!h?.compression,
        timeIndex: null,
      });
    }
    const caggs = (await store.query(`SELECT view_name AS v FROM timescaledb_information.continuous_aggregates WHERE view_schema = 'public'`)).rows;
    const jobs = (
      await store.query(
        `SELECT j.job_id, j.proc_name, j.schedule_interval::text AS every, j.config, j.hypertable_name, c.view_name
           FROM timescaledb_information.jobs j
           LEFT JOIN timescaledb_information.continuous_aggregates c
             ON c.materialization_hypertable_schema = j.hypertable_schema AND c.materialization_hypertable_name = j.hypertable_name
          WHERE j.proc_name IN ('policy_compression', 'policy_retention', 'policy_refresh_continuous_aggregate')
          ORDER BY j.job_id`,
      )
    ).rows;
    for (const j of jobs) {
      const config = typeof j.config === 'string' ? JSON.parse(j.config) : (j.config ?? {});
      if (j.proc_name === 'policy_compression') {
        status.policies.push({ table: j.hypertable_name, policy: 'compression', setting: `after ${config.compress_after}`, every: j.every, jobId: j.job_id });
      } else if (j.proc_name === 'policy_retention') {
        status.policies.push({ table: j.hypertable_name, policy: 'retention', setting: `drop after ${config.drop_after}`, every: j.every, jobId: j.job_id });
      } else {
        status.policies.push({
          table: j.view_name ?? j.hypertable_name,
          policy: 'refresh',
          setting: `window ${config.start_offset} .. ${config.end_offset} ago`,
          every: j.every,
          jobId: j.job_id,
        });
      }
    }
    for (const name of AGGREGATES) {
      const refresh = status.policies.find((p) => p.policy === 'refresh' && p.table === name);
      status.aggregates.push({
        name,
        kind: caggs.some((c) => c.v === name) ? 'continuous aggregate' : 'missing',
        refresh: refresh ? `every ${refresh.every}` : null,
      });
    }
  } else {
    const brin = (
      await store.query(
        `SELECT tablename AS t, indexname AS i FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1) AND indexdef ILIKE '%USING brin%'`,
        [names],
      )
    ).rows;
    for (const table of names) {
      status.timeSeries.push({
        table,
        hypertable: false,
        chunkInterval: null,
        chunks: null,
        compression: false,
        timeIndex: brin.find((r) => r.t === table)?.i ?? null,
      });
    }
    const views = (await store.query(`SELECT viewname AS v FROM pg_views WHERE schemaname = 'public'`)).rows;
    for (const name of AGGREGATES) {
      status.aggregates.push({ name, kind: views.some((v) => v.v === name) ? 'view' : 'missing', refresh: null });
    }
  }
  return status;
}

/** The human-readable form `db status` prints. */
export function formatStoreStatus(s: StoreStatus): string {
  const lines: string[] = [];
  lines.push(`target:       ${s.kind} (${s.location})`);
  lines.push(
    `timescaledb:  ${s.timescaledbVersion ?? `not installed (fallback: plain tables with BRIN time indexes, plain views; lost: ${s.lost.join('; ')})`}`,
  );
  const last = s.migrations.applied.at(-1);
  lines.push(
    `migrations:   ${s.migrations.applied.length} applied${last ? ` (latest ${last.version} "${last.name}" at ${last.appliedAt.toISOString()})` : ''}` +
      `${s.migrations.pending.length ? `, ${s.migrations.pending.length} pending: run \`portwatch db migrate\`` : ', up to date'}`,
  );
  if (s.migrations.changed.length) lines.push(`  CHANGED after being applied: ${s.migrations.changed.join(', ')} (db migrate will refuse)`);
  lines.push(s.kind === 'postgres' ? 'time-series tables:' : 'hypertables:');
  for (const t of s.timeSeries) {
    if (t.hypertable) lines.push(`  ${t.table.padEnd(15)} chunk ${t.chunkInterval}, ${t.chunks} chunks, compression ${t.compression ? 'on' : 'off'}`);
    else lines.push(`  ${t.table.padEnd(15)} ${t.timeIndex ? `plain table, BRIN index ${t.timeIndex}` : 'not created'}`);
  }
  lines.push('aggregates:');
  for (const a of s.aggregates) lines.push(`  ${a.name.padEnd(22)} ${a.kind}${a.refresh ? `, refreshed ${a.refresh}` : ''}`);
  lines.push('policies:');
  if (s.policies.length === 0) lines.push(`  none${s.kind === 'postgres' ? ' (no TimescaleDB: no compression, retention or refresh jobs)' : ''}`);
  for (const p of s.policies) lines.push(`  ${p.table.padEnd(22)} ${p.policy.padEnd(12)} ${p.setting}, runs every ${p.every} (job ${p.jobId})`);
  return lines.join('\n');
}
