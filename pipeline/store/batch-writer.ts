import type { Logger } from '../log/index.js';
import type { Store } from './store.js';
import type { TableSpec } from './tables.js';

/** Why the database (or the row's own values) refused one row. */
export interface RowRejection {
  table: string;
  id: string;
  /** The offending column when it can be told, else null. */
  column: string | null;
  reason: string;
  /** SQLSTATE when the database raised it. */
  code?: string;
}

/** The outcome of one write: committed (or already present), or refused for its own values. */
export type WriteResult = { ok: true } | { ok: false; rejection: RowRejection };

export interface BatchWriterOptions {
  logger: Logger;
  /** Rows per batch (one transaction); default 1000. */
  batchSize?: number;
  /** Batches written at once (each on its own connection); default 2 on a server, 1 embedded. */
  concurrency?: number;
  /** A partial batch is flushed after this long; default 250 ms. */
  flushIntervalMs?: number;
  /** Rows held (buffered + being written) before writers must wait; default 10 × batchSize. */
  maxBuffered?: number;
  /** Writes allowed to wait for room before `write` throws BackpressureError; default maxBuffered. */
  maxWaiting?: number;
  /** Backoff of a failed flush: first delay and cap, ms; default 100 and 5000. */
  retry?: { initialMs?: number; maxMs?: number };
  /** Called for every refused row (it is also logged and counted). */
  onReject?: (rejection: RowRejection) => void;
}

export interface BatchWriterStats {
  /** Rows committed (a duplicate of a stored row counts: it is stored). */
  written: number;
  rejected: number;
  batches: number;
  /** Flush attempts that failed for a reason other than a row's values and were retried. */
  retries: number;
  /** Rows given up at close because the database stayed unreachable past the deadline. */
  abandoned: number;
  /** Rows held right now (buffered + being written). */
  held: number;
  waiting: number;
}

/** `write` was called while too many earlier writes were already waiting for room. */
export class BackpressureError extends Error {
  override name = 'BackpressureError';
}

/** `write` was called after `close`. */
export class WriterClosedError extends Error {
  override name = 'WriterClosedError';
}

interface Entry<T> {
  record: T;
  row: unknown[] | null;
  resolve: (r: WriteResult) => void;
}

/** What `push` rows resolve to: nobody waits on one row, `flush()` is their acknowledgement. */
const unobserved = (_r: WriteResult) => {};

const OK: WriteResult = { ok: true };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the row is at fault, not the connection. */
function isRowError(err: unknown): boolean {
  if (err instanceof RangeError || err instanceof TypeError) return true;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23)/.test(code);
}

/**
 * Buffers records for one table and writes them in batches, by size or after a
 * short delay, whichever comes first. One batch is written at a time, in order.
 *
 * - `write(record)` resolves only once the row is committed: that is the
 *   acknowledgement. `push(record)` takes a row without a promise (streams:
 *   `flush()` acknowledges everything pushed before it); `writeMany(records)`
 *   is one promise for many rows. Awaiting it is also the backpressure: when `maxBuffered`
 *   rows are held, `write` first waits for room. A caller that does not await
 *   should check `full` / `await ready()`; past `maxWaiting` waiting writes,
 *   `write` throws BackpressureError instead of growing without bound.
 * - A batch that fails for a transient reason (connection lost, server
 *   restarting) is retried with backoff; its rows stay held, nothing is lost.
 * - A batch the database refuses because of a row's own values is split and
 *   retried until the bad row is isolated; that row is reported (table, id,
 *   column, reason) and counted, the rest of the batch is committed.
 */
export class BatchWriter<T> {
  readonly table: string;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;
  private readonly maxWaiting: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly logger: Logger;

  private buffer: Entry<T>[] = [];
  private held = 0;
  private waiting: Array<{ entry: Entry<T>; admit: () => void }> = [];
  private roomWaiters: Array<() => void> = [];
  /** Rows accepted (write, push, writeMany) and rows settled (committed, refused or abandoned). */
  private accepted = 0;
  private settled = 0;
  private settleWaiters: Array<{ target: number; resolve: () => void }> = [];
  private timer: NodeJS.Timeout | null = null;
  private timerDue = false;
  private forced = 0;
  private active = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly concurrency: number;
  private closing = false;
  private abandonAt = Infinity;
  private readonly counts = { written: 0, rejected: 0, batches: 0, retries: 0, abandoned: 0 };

  constructor(
    private readonly store: Store,
    private readonly spec: TableSpec<T>,
    private readonly options: BatchWriterOptions,
  ) {
    this.table = spec.table;
    this.batchSize = options.batchSize ?? 1000;
    // In process (PGlite) there is one connection: a second batch would only queue.
    this.concurrency = Math.max(1, options.concurrency ?? (store.kind === 'embedded' ? 1 : 2));
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxBuffered = Math.max(this.batchSize, options.maxBuffered ?? this.batchSize * 10);
    this.maxWaiting = options.maxWaiting ?? this.maxBuffered;
    this.retryInitialMs = options.retry?.initialMs ?? 100;
    this.retryMaxMs = options.retry?.maxMs ?? 5000;
    this.logger = options.logger.child({ table: spec.table });
  }

  /** True when the next `write` would have to wait for room. */
  get full(): boolean {
    return this.held >= this.maxBuffered || this.waiting.length > 0;
  }

  get stats(): BatchWriterStats {
    return { ...this.counts, held: this.held, waiting: this.waiting.length };
  }

  /** Resolves when there is room for another row. */
  ready(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Accept one record; resolves when it is committed (or refused for its own values).
   * Throws synchronously when the writer is closed or too many writes already wait.
   */
  write(record: T): Promise<WriteResult> {
    let resolve!: (r: WriteResult) => void;
    const done = new Promise<WriteResult>((r) => (resolve = r));
    this.accept(record, resolve);
    return done;
  }

  /**
   * Accept one record without a promise for it: the fast path for streams
   * (one promise per row was the AIS ingest's largest cost). `flush()` resolving
   * is the acknowledgement of every row pushed before it; a refused row is
   * logged, counted and reported to `onReject` exactly as with `write`.
   * Backpressure as with an un-awaited `write`: check `full` / `await ready()`;
   * throws BackpressureError past `maxWaiting` waiting rows, WriterClosedError after `close`.
   */
  push(record: T): void {
    this.accept(record, unobserved);
  }

  /**
   * Accept several records with one promise, resolved when all of them are
   * committed or refused: `{ written, rejections }`, a refusal per refused row
   * (as `write` would have resolved it). Throws like `write` if the writer is
   * closed or the rows cannot all be taken (nothing is taken then).
   */
  writeMany(records: readonly T[]): Promise<{ written: number; rejections: RowRejection[] }> {
    if (this.closing) throw new WriterClosedError(`${this.table} writer is closed: no more writes are accepted`);
    if (records.length === 0) return Promise.resolve({ written: 0, rejections: [] });
    const direct = this.waiting.length > 0 ? 0 : Math.max(0, this.maxBuffered - this.held);
    const toWait = records.length - direct;
    if (toWait > 0 && this.waiting.length + toWait > this.maxWaiting) {
      throw new BackpressureError(
        `${this.table} writer is full (${this.held} rows held, ${this.waiting.length} writes waiting): await writer.ready() before writing ${records.length} more rows`,
      );
    }
    return new Promise((resolveAll) => {
      let left = records.length;
      let written = 0;
      const rejections: RowRejection[] = [];
      const one = (r: WriteResult) => {
        if (r.ok) written++;
        else rejections.push(r.rejection);
        if (--left === 0) resolveAll({ written, rejections });
      };
      for (const record of records) this.accept(record, one, true);
    });
  }

  private accept(record: T, resolve: (r: WriteResult) => void, checked = false): void {
    if (this.closing) throw new WriterClosedError(`${this.table} writer is closed: no more writes are accepted`);
    const entry: Entry<T> = { record, row: null, resolve };
    if (!this.full) {
      // Counted before admit: a full batch is prepared at once, and a row refused there settles synchronously.
      this.accepted++;
      this.admit(entry);
    } else {
      if (!checked && this.waiting.length >= this.maxWaiting) {
        throw new BackpressureError(
          `${this.table} writer is full (${this.held} rows held, ${this.waiting.length} writes waiting): await write() or writer.ready() before writing more`,
        );
      }
      this.accepted++;
      this.waiting.push({ entry, admit: () => this.admit(entry) });
    }
  }

  /** Count a row as done (committed, refused or abandoned) and wake the flushes it completes. */
  private settle(e: Entry<T>, r: WriteResult): void {
    this.settled++;
    e.resolve(r);
    if (this.settleWaiters.length > 0 && this.settled >= this.settleWaiters[0]!.target) {
      const done = this.settleWaiters.filter((w) => this.settled >= w.target);
      this.settleWaiters = this.settleWaiters.filter((w) => this.settled < w.target);
      for (const w of done) w.resolve();
    }
  }

  /** Write everything accepted so far (including writes waiting for room); resolves when it is committed. */
  async flush(): Promise<void> {
    const target = this.accepted;
    if (this.settled < target) {
      this.forced = this.held + this.waiting.length;
      this.kick();
      await new Promise<void>((resolve) => {
        this.settleWaiters.push({ target, resolve });
        this.settleWaiters.sort((a, b) => a.target - b.target);
      });
    }
    // Batches go out in acceptance order, but with several in flight a later one can
    // commit first: once as many rows as were accepted have settled, every earlier row
    // is settled or in a batch still in flight.
    await Promise.all([...this.inFlight]);
  }

  /**
   * Stop accepting, write everything accepted, and resolve. With `timeoutMs`, rows
   * still unwritten when it expires (the database unreachable) are given up,
   * logged and counted as abandoned, instead of hanging the shutdown forever.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<BatchWriterStats> {
    this.closing = true;
    if (options.timeoutMs !== undefined) this.abandonAt = Date.now() + options.timeoutMs;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.stats;
  }

  private admit(entry: Entry<T>) {
    this.held++;
    this.buffer.push(entry);
    if (this.buffer.length >= this.batchSize) this.kick();
    else if (!this.timer) this.startTimer();
  }

  private startTimer() {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = true;
      this.kick();
    }, this.flushIntervalMs);
  }

  private kick() {
    while (this.active < this.concurrency && this.buffer.length > 0) {
      const ready = this.buffer.length >= this.batchSize || this.timerDue || this.forced > 0 || this.closing;
      if (!ready) break;
      this.timerDue = false;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      const batch = this.buffer.splice(0, this.batchSize);
      this.forced = Math.max(0, this.forced - batch.length);
      this.active++;
      const done = this.writeBatch(batch).then(() => {
        this.active--;
        this.inFlight.delete(done);
        this.held -= batch.length;
        this.release();
        this.kick();
      });
      this.inFlight.add(done);
    }
    if (this.buffer.length > 0 && !this.timer && this.active < this.concurrency) this.startTimer();
  }

  /** Let waiting writes in, oldest first, as far as there is room. */
  private release() {
    while (this.waiting.length > 0 && this.held < this.maxBuffered) this.waiting.shift()!.admit();
    if (!this.full) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async writeBatch(batch: Entry<T>[]) {
    const good: Entry<T>[] = [];
    for (const e of batch) {
      const problem = this.prepare(e);
      if (problem) this.reject(e, problem.column, problem.reason);
      else good.push(e);
    }
    if (good.length > 0) await this.insert(good, 0);
    this.counts.batches++;
  }

  /** Build the row; refuse values no target could store, before they cost a round trip. */
  private prepare(e: Entry<T>): { column: string | null; reason: string } | null {
    try {
      e.row = this.spec.toRow(e.record);
    } catch (err) {
      return { column: null, reason: `cannot build the row: ${(err as Error).message}` };
    }
    const cols = this.spec.columns;
    for (let i = 0; i < cols.length; i++) {
      const v = e.row[i];
      if (v instanceof Date && Number.isNaN(v.getTime())) return { column: cols[i] ?? null, reason: 'invalid date' };
    }
    return null;
  }

  private async insert(entries: Entry<T>[], attempt: number): Promise<void> {
    for (;;) {
      try {
        await this.store.insertRows(
          this.table,
          this.spec.columns,
          entries.map((e) => e.row!),
        );
        this.counts.written += entries.length;
        for (const e of entries) this.settle(e, OK);
        return;
      } catch (err) {
        if (isRowError(err)) {
          if (entries.length === 1) {
            const e = entries[0]!;
            this.reject(e, this.columnOf(err), (err as Error).message, (err as { code?: string }).code);
            return;
          }
          const mid = entries.length >> 1;
          await this.insert(entries.slice(0, mid), 0);
          await this.insert(entries.slice(mid), 0);
          return;
        }
        if (Date.now() >= this.abandonAt) {
          this.counts.abandoned += entries.length;
          this.logger.error(
            { err, rows: entries.length, ids: entries.slice(0, 5).map((e) => safeId(this.spec, e.record)) },
            `${this.table}: gave up ${entries.length} rows at shutdown, the database stayed unreachable: ${(err as Error).message}`,
          );
          for (const e of entries) {
            this.settle(e, { ok: false, rejection: { table: this.table, id: safeId(this.spec, e.record), column: null, reason: `not written: ${(err as Error).message}` } });
          }
          return;
        }
        attempt++;
        this.counts.retries++;
        const delay = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** (attempt - 1));
        this.logger.warn(
          { err: { message: (err as Error).message, code: (err as { code?: string }).code }, rows: entries.length, attempt, retryInMs: delay },
          `${this.table}: flush failed, retrying in ${delay} ms (rows kept): ${(err as Error).message}`,
        );
        await sleep(Math.min(delay, Math.max(0, this.abandonAt - Date.now())));
      }
    }
  }

  /** Which column the database complained about, from whatever the error carries. */
  private columnOf(err: unknown): string | null {
    const e = err as { column?: string; where?: string; message?: string; constraint?: string };
    const cols = this.spec.columns;
    if (e.column) return e.column;
    const copy = /COPY \w+, line \d+, column (\w+)/.exec(e.where ?? '');
    if (copy?.[1]) return copy[1];
    const param = /parameter \$(\d+)/.exec(e.where ?? '');
    if (param?.[1]) return cols[(Number(param[1]) - 1) % cols.length] ?? null;
    const quoted = /column "(\w+)"/.exec(e.message ?? '');
    if (quoted?.[1]) return quoted[1];
    if (e.constraint) {
      // PostgreSQL names a column's CHECK constraint <table>_<column>_check.
      const m = new RegExp(`^${this.table}_(\\w+)_check$`).exec(e.constraint);
      if (m?.[1] && cols.includes(m[1])) return m[1];
    }
    return null;
  }

  private reject(e: Entry<T>, column: string | null, reason: string, code?: string) {
    const rejection: RowRejection = { table: this.table, id: safeId(this.spec, e.record), column, reason, ...(code ? { code } : {}) };
    this.counts.rejected++;
    const { table: _table, ...fields } = rejection;
    this.logger.warn(fields, `${this.table}: row ${rejection.id} rejected${column ? `, column ${column}` : ''}: ${reason}`);
    this.options.onReject?.(rejection);
    this.settle(e, { ok: false, rejection });
  }
}

function safeId<T>(spec: TableSpec<T>, record: T): string {
  try {
    return String(spec.id(record));
  } catch {
    return '(no id)';
  }
}

/** A writer for one table of the store. */
export function createBatchWriter<T>(store: Store, spec: TableSpec<T>, options: BatchWriterOptions): BatchWriter<T> {
  return new BatchWriter(store, spec, options);
}
