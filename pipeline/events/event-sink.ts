/**
 * Imported by its path (`../events/event-sink.js`), not through `events/index`: that index is
 * read by every stage for the event type, and this file pulls in the store and BullMQ.
 */
import type { Logger } from '../log/index.js';
import { OutboxRelay, type EventQueue } from '../queue/index.js';
import type { RedisOutageTracker } from '../redis/index.js';
import { createBatchWriter, eventsTable, type Store, type WriteResult } from '../store/index.js';
import type { PortEvent } from './types.js';

/**
 * The event spine, the one way a stage hands over an event: stored in `events`
 * (the outbox entry commits with the row, migration 3), then published to the
 * queue by the outbox relay. Never published unless stored; stored means
 * published eventually, across crashes and Redis outages.
 */
export interface EventSink {
  /** Resolves once the event is committed (or refused for its own values, counted and logged). Publishing follows. */
  emit(event: PortEvent): Promise<WriteResult>;
  /**
   * Events another writer of this process stored with their outbox entries
   * (the AIS ingest writes its own): publish them now, not at the relay's next look.
   */
  publishStored(): void;
  /** Every event once it is on the queue (without a queue: once stored; AIS events only on the embedded store). */
  onPublished(listener: (event: PortEvent) => void): () => void;
  stats(): EventSinkStats;
  /** Writes what was accepted and publishes what it can within `timeoutMs`; what is left stays in the store's outbox. */
  close(options?: { timeoutMs?: number }): Promise<{ abandoned: number; unpublished: number }>;
}

export interface EventSinkStats {
  stored: number;
  refused: number;
  published: number;
  /** Outbox entries not yet published at the last look (Redis away, or just written). */
  pending: number;
}

export interface EventSinkOptions {
  store: Store;
  logger: Logger;
  /** The `events` queue; null: events are stored only. */
  queue: EventQueue | null;
  outages?: RedisOutageTracker | null;
  /** Outbox poll period; default 250 ms (a stored batch also wakes the relay at once). */
  relayEveryMs?: number;
}

/**
 * How long a partial batch of events waits for company before it is written.
 * Events are few (a handful a second on a busy site) and each may be an alarm
 * waiting on its commit, so not the writers' 250 ms (decision 38).
 */
export const EVENT_FLUSH_INTERVAL_MS = 20;

export function createEventSink(o: EventSinkOptions): EventSink {
  const log = o.logger.child({ stage: 'events' });
  const writer = createBatchWriter(o.store, eventsTable, { logger: log, flushIntervalMs: EVENT_FLUSH_INTERVAL_MS });
  // Without a queue: the embedded database belongs to this process alone, so its outbox is
  // drained here (nothing else could publish it); a server's outbox is left to the processes
  // on it that have Redis (a worker started without REDIS_URL must not eat their backlog).
  const relay = o.queue || o.store.kind === 'embedded' ? new OutboxRelay({ store: o.store, queue: o.queue, logger: log, outages: o.outages ?? null, everyMs: o.relayEveryMs ?? 250 }).start() : null;
  if (!relay) log.warn('no Redis: events are stored only; they wait in the outbox for a process with Redis on this database');
  const direct = new Set<(e: PortEvent) => void>();
  const c = { stored: 0, refused: 0 };
  let closing: Promise<{ abandoned: number; unpublished: number }> | null = null;
  return {
    async emit(event) {
      const r = await writer.write(event);
      if (r.ok) {
        c.stored++;
        if (relay) void relay.kick();
        else for (const l of direct) l(event);
      } else c.refused++;
      return r;
    },
    publishStored() {
      if (relay) void relay.kick();
    },
    onPublished: (listener) => {
      if (relay) return relay.onPublished(listener);
      direct.add(listener);
      return () => direct.delete(listener);
    },
    stats: () => {
      const r = relay?.stats() ?? { published: 0, pending: 0 };
      return { ...c, published: r.published, pending: r.pending };
    },
    close(options = {}) {
      closing ??= (async () => {
        const timeoutMs = options.timeoutMs ?? 10_000;
        const t0 = Date.now();
        const w = await writer.close({ timeoutMs });
        const unpublished = relay ? await relay.stop({ timeoutMs: Math.max(500, timeoutMs - (Date.now() - t0)) }) : 0;
        return { abandoned: w.abandoned, unpublished };
      })();
      return closing;
    },
  };
}
