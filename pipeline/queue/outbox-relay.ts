import type { PortEvent } from '../events/index.js';
import type { Logger } from '../log/index.js';
import { describeRedisError, isRedisConnectionError, type RedisOutageTracker } from '../redis/index.js';
import type { Queryable } from '../store/index.js';
import { reviveEvent } from './event-job.js';
import type { EventQueue } from './event-queue.js';

export interface OutboxRelayOptions {
  store: Queryable;
  /** Where stored events go; null: nothing to publish to (no Redis): entries are only handed to listeners and dropped. */
  queue: Pick<EventQueue, 'publishMany'> | null;
  logger: Logger;
  /** While it says Redis is down the relay does not try (the entries wait in the outbox). */
  outages?: RedisOutageTracker | null;
  /** Outbox entries per round trip. Default 500. */
  batch?: number;
  /** Look at the outbox this often even when nobody kicks. Default 250 ms. */
  everyMs?: number;
  /** A publish that has not answered by then is left in flight and the entries stay; default 5000 ms. */
  publishTimeoutMs?: number;
}

export interface OutboxRelayStats {
  published: number;
  /** Outbox entries that could not be events (counted, logged, removed: they would block the outbox). */
  refused: number;
  /** Publish attempts that failed or timed out (the entries were kept and retried). */
  failures: number;
  /** Entries left at the last look. */
  pending: number;
}

const TIMEOUT = Symbol('timeout');

/**
 * Publishes the `event_outbox` (filled by the trigger on `events`, migration 3)
 * to the `events` queue and deletes what was published. Publishing is at least
 * once (a crash between publish and delete publishes again), and the queue's
 * job ids (event id + phase) make the second one a no-op: exactly once in effect.
 * Several relays on one database may publish an entry twice; the job id absorbs
 * that too.
 */
export class OutboxRelay {
  private readonly log: Logger;
  private readonly batch: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** A publish still waiting for Redis after its timeout: the next one waits for it first. */
  private hung: Promise<unknown> | null = null;
  private stopped = false;
  private readonly listeners = new Set<(e: PortEvent) => void>();
  private readonly c: OutboxRelayStats = { published: 0, refused: 0, failures: 0, pending: 0 };
  private lastFailure: string | null = null;
  private countedAt = 0;

  constructor(private readonly o: OutboxRelayOptions) {
    this.log = o.logger.child({ stage: 'outbox' });
    this.batch = o.batch ?? 500;
  }

  start(): this {
    const tick = () => {
      this.timer = setTimeout(() => {
        this.kick();
        tick();
      }, this.o.everyMs ?? 250);
      this.timer.unref();
    };
    if (!this.stopped) tick();
    this.o.outages?.onChange((s) => s.up && this.kick());
    return this;
  }

  /** Every published event, after it is on the queue (the demo prints them). */
  onPublished(listener: (e: PortEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Look at the outbox now (events were just stored). */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.log.warn({ err }, 'outbox relay pass failed; retrying'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.kick();
        }
      });
    return this.running;
  }

  stats(): OutboxRelayStats {
    return { ...this.c };
  }

  /** Stops the timer and makes one last pass within `timeoutMs`; returns the entries left (they are published at the next start). */
  async stop(options: { timeoutMs?: number } = {}): Promise<number> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = options.timeoutMs ?? 5_000;
    const last = (async () => {
      if (this.running) await this.running;
      await this.drain();
    })().catch((err: unknown) => this.log.warn({ err }, 'outbox relay: last pass failed'));
    await race(last, deadline);
    try {
      const r = await race(this.o.store.query<{ n: string | number }>('SELECT count(*) AS n FROM event_outbox'), 1_000);
      if (r !== TIMEOUT) this.c.pending = Number(r.rows[0]?.n ?? 0);
    } catch {
      // The database is down: the entries are in it, whatever their number.
    }
    return this.c.pending;
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.o.queue && this.o.outages && !this.o.outages.up) {
        // Not publishing, but the backlog is still worth knowing (stats, the stop report).
        if (Date.now() - this.countedAt >= 1_000) {
          this.countedAt = Date.now();
          this.c.pending = Number((await this.o.store.query<{ n: string | number }>('SELECT count(*) AS n FROM event_outbox')).rows[0]?.n ?? 0);
        }
        return;
      }
      if (this.hung) {
        const h = await race(this.hung, this.o.publishTimeoutMs ?? 5_000);
        if (h === TIMEOUT) return;
        this.hung = null;
      }
      const rows = (await this.o.store.query<{ seq: string | number; event: unknown }>('SELECT seq, event FROM event_outbox ORDER BY seq LIMIT $1', [this.batch])).rows;
      this.c.pending = rows.length;
      if (rows.length === 0) return;
      const events: PortEvent[] = [];
      const seqs: number[] = [];
      for (const row of rows) {
        seqs.push(Number(row.seq));
        try {
          events.push(fromRow(row.event));
        } catch (err) {
          this.c.refused++;
          this.log.error({ seq: row.seq, err: (err as Error).message }, 'outbox entry is not an event; removed');
        }
      }
      if (this.o.queue && events.length > 0) {
        const publishing = this.o.queue.publishMany(events);
        const r = await race(publishing, this.o.publishTimeoutMs ?? 5_000).catch((err: Error) => err);
        if (r === TIMEOUT || r instanceof Error) {
          this.c.failures++;
          const why = r === TIMEOUT ? 'Redis did not answer' : describeRedisError(r);
          if (r === TIMEOUT) this.hung = publishing.catch(() => undefined);
          // One line per kind of failure, not per pass; an unreachable Redis is the tracker's to report (once per outage).
          const outage = r === TIMEOUT || isRedisConnectionError(r) || (this.o.outages ? !this.o.outages.up : false);
          if (why !== this.lastFailure) this.log[outage ? 'debug' : 'warn']({ reason: why, pending: rows.length }, `outbox: events not published yet (${why}); they stay in the outbox`);
          this.lastFailure = why;
          return;
        }
        this.lastFailure = null;
        this.c.refused += r.rejected.length;
      }
      await this.o.store.query('DELETE FROM event_outbox WHERE seq = ANY($1::bigint[])', [seqs]);
      this.c.published += events.length;
      for (const e of events) for (const l of this.listeners) l(e);
      if (rows.length < this.batch) {
        this.c.pending = 0;
        return;
      }
    }
  }
}

/** An `events` row as `to_jsonb` wrote it → a PortEvent (absent columns are null there, left out here). */
function fromRow(raw: unknown): PortEvent {
  const obj = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  if (typeof obj !== 'object' || obj === null) throw new Error('not an object');
  const e = Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null));
  return reviveEvent(e);
}

function race<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<typeof TIMEOUT>((r) => (t = setTimeout(() => r(TIMEOUT), ms)))]).finally(() => clearTimeout(t));
}
