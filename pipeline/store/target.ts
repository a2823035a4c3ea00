/**
 * What differs between the three store targets, in one place. Everything else
 * (tables, migrations, the writer, status) runs the same code and asks this
 * object how to express the few TimescaleDB-only things.
 */

export type StoreKind = 'embedded' | 'timescaledb' | 'postgres';

/** A time-partitioned table: a hypertable on TimescaleDB, a plain table with a BRIN time index otherwise. */
export interface TimeSeriesSpec {
  table: string;
  time: string;
  /** Compression: the column(s) rows are grouped by inside a compressed chunk. */
  segmentBy: string;
  orderBy: string;
}

/** A rollup: a continuous aggregate on TimescaleDB, a plain view otherwise. */
export interface AggregateSpec {
  name: string;
  /** SELECT text in which `{{bucket}}` stands for the bucketing expression. */
  select: string;
  bucket: { width: string; column: string };
  /** Refresh window and cadence of the continuous aggregate policy. */
  refresh: { startOffset: string; endOffset: string; every: string };
}

export interface Capabilities {
  kind: StoreKind;
  /** True when hypertables, continuous aggregates and policies exist on this target. */
  timescale: boolean;
  /** What this target cannot do that TimescaleDB would; empty on TimescaleDB targets. */
  lost: string[];
  timeSeries(spec: TimeSeriesSpec): string[];
  aggregate(spec: AggregateSpec): string[];
  bucket(width: string, column: string): string;
}

const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

function timescaleCapabilities(kind: 'embedded' | 'timescaledb'): Capabilities {
  const bucket = (width: string, column: string) => `time_bucket(${quoteLiteral(width)}::interval, ${column})`;
  return {
    kind,
    timescale: true,
    lost: [],
    bucket,
    timeSeries: (s) => [
      // The chunk interval given here is a placeholder: applySettings sets the configured one.
      `SELECT create_hypertable(${quoteLiteral(s.table)}, by_range(${quoteLiteral(s.time)}), if_not_exists => true)`,
      `ALTER TABLE ${s.table} SET (timescaledb.compress, timescaledb.compress_segmentby = ${quoteLiteral(s.segmentBy)}, timescaledb.compress_orderby = ${quoteLiteral(s.orderBy)})`,
    ],
    aggregate: (a) => [
      // materialized_only = false: queries see the not-yet-materialised tail too,
      // which is what the plain view on the fallback target shows as well.
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${a.name} WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS ` +
        `${a.select.replaceAll('{{bucket}}', bucket(a.bucket.width, a.bucket.column))} WITH NO DATA`,
      `SELECT add_continuous_aggregate_policy(${quoteLiteral(a.name)}, start_offset => ${quoteLiteral(a.refresh.startOffset)}::interval, ` +
        `end_offset => ${quoteLiteral(a.refresh.endOffset)}::interval, schedule_interval => ${quoteLiteral(a.refresh.every)}::interval, if_not_exists => true)`,
    ],
  };
}

function postgresCapabilities(): Capabilities {
  // date_bin with TimescaleDB's default origin gives the same buckets as time_bucket.
  const bucket = (width: string, column: string) =>
    `date_bin(${quoteLiteral(width)}::interval, ${column}, timestamptz '2000-01-03 00:00:00+00')`;
  return {
    kind: 'postgres',
    timescale: false,
    lost: [
      'compression (chunks stay uncompressed)',
      'retention (old rows are never dropped automatically)',
      'incremental aggregates (the hourly rollups are plain views, computed on every query)',
      'chunking (tables are not partitioned by time; BRIN indexes on time instead)',
    ],
    bucket,
    timeSeries: (s) => [`CREATE INDEX IF NOT EXISTS ${s.table}_${s.time}_brin ON ${s.table} USING brin (${s.time})`],
    aggregate: (a) => [
      `CREATE OR REPLACE VIEW ${a.name} AS ${a.select.replaceAll('{{bucket}}', bucket(a.bucket.width, a.bucket.column))}`,
    ],
  };
}

export function capabilitiesFor(kind: StoreKind): Capabilities {
  return kind === 'postgres' ? postgresCapabilities() : timescaleCapabilities(kind);
}
