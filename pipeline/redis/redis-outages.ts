import type { Logger } from '../log/index.js';

/** The state of Redis as this process sees it, for a gauge (`redis_up`) and the health line. */
export interface RedisState {
  up: boolean;
  /** When the current outage began (ms since epoch), null while up. */
  downSince: number | null;
  /** Outages seen since start. */
  outages: number;
  /** Why the current outage began, null while up. */
  reason: string | null;
}

/**
 * One view of Redis for every connection of a process. A process holds
 * several connections (leases, the queue, BullMQ's blocking connections):
 * when Redis goes away each of them fails and retries, and logging per
 * connection and per retry is the flood operators drown in. The tracker logs
 * ONE warning when the first connection is lost (with its reason) and ONE info
 * line when every connection it knows is back, with how long Redis was away.
 */
export class RedisOutageTracker {
  private readonly down = new Map<string, string>();
  private readonly known = new Set<string>();
  private since: number | null = null;
  private reasonText: string | null = null;
  private count = 0;
  private readonly listeners = new Set<(state: RedisState) => void>();

  /** A connection exists; it is counted as down only after it fails. */
  register(name: string): void {
    this.known.add(name);
  }

  /** A connection closed on purpose (quit, disconnect): it no longer holds an outage open. */
  unregister(name: string): void {
    // Closing a connection during an outage does not end the outage: only a connection back does.
    this.known.delete(name);
    this.down.delete(name);
  }

  /** A connection failed or closed without being asked to. */
  lost(name: string, reason: string, logger: Logger): void {
    if (!this.known.has(name)) return;
    const first = this.down.size === 0 && this.since === null;
    if (!this.down.has(name)) this.down.set(name, reason);
    if (first) {
      this.since = Date.now();
      this.reasonText = reason;
      this.count++;
      logger.warn({ redis: 'down', reason, connection: name }, `Redis unreachable (${reason}): cameras and AIS keep running, events are stored and published when it returns`);
      this.emit();
    }
  }

  /** A connection is ready again. */
  ready(name: string, logger: Logger): void {
    if (this.down.delete(name)) this.maybeUp(logger);
  }

  state(): RedisState {
    return { up: this.since === null, downSince: this.since, outages: this.count, reason: this.reasonText };
  }

  get up(): boolean {
    return this.since === null;
  }

  /** Called on every change between up and down (the spine publishes its backlog on `up`). */
  onChange(listener: (state: RedisState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private maybeUp(logger: Logger): void {
    if (this.down.size > 0 || this.since === null) return;
    const awayMs = Date.now() - this.since;
    this.since = null;
    this.reasonText = null;
    logger.info({ redis: 'up', awayMs }, `Redis back after ${(awayMs / 1000).toFixed(1)} s`);
    this.emit();
  }

  private emit(): void {
    const s = this.state();
    for (const l of this.listeners) {
      try {
        l(s);
      } catch {
        // A listener's failure must not stop the others from hearing of the change.
      }
    }
  }
}
