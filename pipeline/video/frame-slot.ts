/**
 * A one-frame mailbox between ingest and its consumer: the newest frame wins.
 * Ingest never waits for the consumer (ffmpeg's pipe must keep flowing, or the
 * camera's server buffers and then drops us) and nothing queues without bound:
 * a frame not taken before the next arrives is dropped and counted.
 */
export class LatestSlot<T> {
  private value: T | undefined;
  private has = false;
  private waiter: ((v: T | null) => void) | null = null;
  private closed = false;
  dropped = 0;
  delivered = 0;
  /** Called when a frame is left waiting in the slot (its consumer busy with an earlier one). */
  onWaiting: (() => void) | null = null;

  put(v: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      this.delivered++;
      w(v);
      return;
    }
    if (this.has) this.dropped++;
    this.value = v;
    this.has = true;
    this.onWaiting?.();
  }

  /** The newest frame not yet taken, or null once closed. One consumer at a time. */
  take(): Promise<T | null> {
    if (this.has) {
      const v = this.value as T;
      this.value = undefined;
      this.has = false;
      this.delivered++;
      return Promise.resolve(v);
    }
    if (this.closed) return Promise.resolve(null);
    if (this.waiter) return Promise.reject(new Error('LatestSlot.take: another take() is already waiting'));
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Take without waiting. */
  poll(): T | null {
    if (!this.has) return null;
    const v = this.value as T;
    this.value = undefined;
    this.has = false;
    this.delivered++;
    return v;
  }

  close(): void {
    this.closed = true;
    this.value = undefined;
    this.has = false;
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
  }
}
