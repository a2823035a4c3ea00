/**
 * Exponential backoff with full jitter (delay drawn uniformly from
 * [0, min(cap, base·2^attempt)]): 284 cameras dropping together when a switch
 * reboots do not all hammer it again in the same instant. After a healthy
 * period the attempt count starts over.
 */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  /** A connection that delivered frames this long counts as healthy and resets the backoff. */
  resetAfterMs?: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly resetAfterMs: number;
  private readonly random: () => number;
  attempt = 0;

  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 500;
    this.capMs = o.capMs ?? 30_000;
    this.resetAfterMs = o.resetAfterMs ?? 30_000;
    this.random = o.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) throw new RangeError('backoff needs 0 < baseMs ≤ capMs');
  }

  /** The ceiling of the next delay (before jitter). */
  ceiling(): number {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
  }

  /** Delay before the next attempt; counts the attempt. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    this.attempt++;
    return delay;
  }

  /** Call when a connection ends: if it was up at least resetAfterMs, start over. */
  connectionEnded(upForMs: number): void {
    if (upForMs >= this.resetAfterMs) this.attempt = 0;
  }

  reset(): void {
    this.attempt = 0;
  }
}
