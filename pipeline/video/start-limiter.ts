/**
 * At most `concurrency` ffmpeg start-ups at a time in one worker. An ffmpeg
 * spends ~0.1–0.3 CPU-s starting (loading codecs, probing); sixty started at
 * once on 2 cores (a worker starting, or taking over a dead worker's cameras)
 * took 1–3 s each, timed out and restarted: in the benchmark's 60-camera step
 * 70 of 593 pictures came through, 36 s late. Four at a time (measured here
 * against two: all 60 up after 23 s against 33 s) the first cameras see
 * pictures at once and the rest follow in turn.
 */
export class StartLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly concurrency = 4) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }

  /** Resolves with a release function once a start-up slot is free; call it once the start-up is over (or failed). */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.running++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.running--;
          this.waiting.shift()?.();
        });
      };
      if (this.running < this.concurrency) grant();
      else this.waiting.push(grant);
    });
  }

  /** Start-ups in progress and waiting for a slot. */
  stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
