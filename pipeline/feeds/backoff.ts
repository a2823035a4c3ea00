/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"):
 * the delay is uniform in [0, min(cap, base·2^attempt)]. Jitter keeps many
 * feeds or cameras that lost the same switch from reconnecting in lockstep.
 */
export interface BackoffOptions {
  base_ms?: number;
  cap_ms?: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly base: number;
  private readonly cap: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.base = options.base_ms ?? 500;
    this.cap = options.cap_ms ?? 30_000;
    this.random = options.random ?? Math.random;
  }

  /** The next delay in ms; each call without `reset()` doubles the ceiling. */
  next(): number {
    const ceiling = Math.min(this.cap, this.base * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(this.random() * ceiling);
  }

  /** Call after a connection has been healthy for a while. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
