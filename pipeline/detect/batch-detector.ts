import type { Logger } from '../log/index.js';
import type { DetectOutcome, DetectRequest } from './detector.js';
import type { Detection } from './types.js';

/** What the batcher needs from a detector: Detector implements it. */
export interface BatchRunner {
  readonly name: string;
  /** Most items one call should carry. */
  readonly maxBatch: number;
  /** The model takes any input size (Detector.takesAnySize). */
  readonly takesAnySize?: boolean;
  detectBatch(requests: readonly DetectRequest[]): Promise<DetectOutcome[]>;
}

export interface BatchDetectorOptions {
  logger: Logger;
  /** Items per inference call; defaults to the runner's maxBatch. */
  maxBatch?: number;
  /** Longest a request waits for others before a partial batch runs. Default 10 ms. */
  maxWaitMs?: number;
  /** Requests waiting (not counting the batch running); beyond it the oldest is dropped. Default 32. */
  maxQueue?: number;
  /**
   * An urgent request (DetectRequest.urgent: the frame may start an alarm) is
   * served as if it had waited this much longer: ahead of every frame that
   * has waited less, so under overload the frames that decide alarms are not
   * stuck behind every other camera's, and no frame waits for ever behind
   * urgent ones. Default 2000 ms.
   */
  urgentLeadMs?: number;
}

/** Rejects a request that was pushed out of a full queue by a newer one, or queued when the batcher closed. */
export class DetectionDroppedError extends Error {
  readonly code = 'DETECTION_DROPPED';
  constructor(readonly reason: 'queue_full' | 'closed' | 'superseded') {
    super(
      reason === 'queue_full'
        ? 'detection dropped: the detector queue was full and a newer frame took its place (detector slower than the frame rate: lower fps, add workers or raise maxBatch)'
        : reason === 'superseded'
          ? "detection dropped: a newer frame of the same camera arrived while it waited, and takes its place in line"
          : 'detection dropped: the batch detector was closed',
    );
    this.name = 'DetectionDroppedError';
  }
}

export interface BatchDetectorStats {
  submitted: number;
  /** Requests marked urgent (served ahead, see urgentLeadMs). */
  urgent: number;
  /** Requests dropped while waiting because a newer frame of their source arrived (that frame took their place). */
  superseded: number;
  completed: number;
  failed: number;
  dropped: number;
  batches: number;
  /** Items carried by all batches run so far. */
  batchedItems: number;
  /** Batch size → how many batches had it. */
  batchSizes: Record<number, number>;
  queued: number;
}

/** How long a superseded request's place in line is kept for its source's next request. */
const PLACE_KEPT_MS = 5000;

interface Pending {
  request: DetectRequest;
  enqueued: number;
  /** Serving order: the enqueue time, less the lead of an urgent request. */
  due: number;
  resolve: (d: Detection[]) => void;
  reject: (e: Error) => void;
}

/**
 * Gathers requests from many callers (cameras, motion regions) into one
 * inference call: a batch leaves when maxBatch requests wait, or when the
 * oldest has waited maxWaitMs, whichever comes first, and never while the
 * previous batch is still running (one session, one call at a time; a batch
 * forming during a run leaves as soon as the run ends if it is full or due).
 * The queue is bounded: live video wants the newest frame, so when full the
 * OLDEST request is dropped (its promise rejects with DetectionDroppedError)
 * and counted; an urgent one only when every request waiting is urgent.
 * A batch takes the requests that are most due: urgent ones count as having
 * waited `urgentLeadMs` longer.
 */
export class BatchDetector {
  private readonly queue: Pending[] = [];
  private readonly maxBatch: number;
  private readonly maxWaitMs: number;
  private readonly maxQueue: number;
  private readonly urgentLeadMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly counts = { submitted: 0, urgent: 0, superseded: 0, completed: 0, failed: 0, dropped: 0, batches: 0, batchedItems: 0 };
  private readonly sizes: Record<number, number> = {};
  /** Source → when its superseded request had entered the queue (its place in line). */
  private readonly places = new Map<string, { enqueued: number; at: number }>();

  constructor(
    private readonly runner: BatchRunner,
    options: BatchDetectorOptions,
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? runner.maxBatch);
    this.maxWaitMs = Math.max(0, options.maxWaitMs ?? 10);
    this.maxQueue = Math.max(this.maxBatch, options.maxQueue ?? 32);
    this.urgentLeadMs = Math.max(0, options.urgentLeadMs ?? 2000);
    this.logger = options.logger.child({ model: runner.name, stage: 'batch-detector' });
  }

  /** The runner's model takes any input size. */
  get takesAnySize(): boolean {
    return this.runner.takesAnySize ?? false;
  }

  detect(request: DetectRequest): Promise<Detection[]> {
    if (this.closed) return Promise.reject(new DetectionDroppedError('closed'));
    this.counts.submitted++;
    if (request.urgent) this.counts.urgent++;
    if (request.signal?.aborted) {
      this.counts.superseded++;
      return Promise.reject(new DetectionDroppedError('superseded'));
    }
    return new Promise<Detection[]>((resolve, reject) => {
      const now = performance.now();
      const enqueued = this.placeOf(request.source, now) ?? now;
      const pending: Pending = { request, enqueued, due: request.urgent ? enqueued - this.urgentLeadMs : enqueued, resolve, reject };
      // The queue stays in order of entry: a request keeping an earlier place goes where that place was.
      let at = this.queue.length;
      while (at > 0 && this.queue[at - 1]!.enqueued > enqueued) at--;
      this.queue.splice(at, 0, pending);
      request.signal?.addEventListener('abort', () => this.supersede(pending), { once: true });
      if (this.queue.length > this.maxQueue) {
        // The queue is in order of entry: the first one not urgent is the oldest such.
        const victim = Math.max(0, this.queue.findIndex((p) => !p.request.urgent));
        const oldest = this.queue.splice(victim, 1)[0]!;
        this.counts.dropped++;
        if (this.counts.dropped === 1 || this.counts.dropped % 100 === 0) {
          this.logger.warn({ dropped: this.counts.dropped, maxQueue: this.maxQueue }, 'detector queue full: dropping the oldest requests');
        }
        oldest.reject(new DetectionDroppedError('queue_full'));
      }
      this.schedule();
    });
  }

  stats(): BatchDetectorStats {
    return { ...this.counts, batchSizes: { ...this.sizes }, queued: this.queue.length };
  }

  /** Runs what is queued now (without waiting for maxWaitMs), then stops accepting; later detect() calls reject. */
  async close(options: { drain?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (options.drain === false) {
      for (const p of this.queue.splice(0)) {
        this.counts.dropped++;
        p.reject(new DetectionDroppedError('closed'));
      }
    }
    this.clearTimer();
    while (this.running || this.queue.length > 0) {
      if (!this.running) this.start();
      await this.running;
    }
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const waited = performance.now() - this.queue[0]!.enqueued;
    if (this.queue.length >= this.maxBatch || waited >= this.maxWaitMs || this.closed) {
      this.start();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.maxWaitMs - waited);
    }
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private start(): void {
    this.clearTimer();
    const batch = this.takeMostDue();
    this.counts.batches++;
    this.counts.batchedItems += batch.length;
    this.sizes[batch.length] = (this.sizes[batch.length] ?? 0) + 1;
    this.running = this.runBatch(batch).finally(() => {
      this.running = null;
      this.schedule();
    });
  }

  /** A waiting request whose source sent a newer frame: out of the queue, its place kept for that frame. */
  private supersede(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i < 0) return; // running or done: too late to drop
    this.queue.splice(i, 1);
    this.counts.superseded++;
    if (p.request.source !== undefined) this.places.set(p.request.source, { enqueued: p.enqueued, at: performance.now() });
    p.reject(new DetectionDroppedError('superseded'));
  }

  /** The place in line a source's superseded request left, if it is recent; used once. */
  private placeOf(source: string | undefined, now: number): number | undefined {
    if (this.places.size === 0) return undefined;
    for (const [s, p] of this.places) if (now - p.at > PLACE_KEPT_MS) this.places.delete(s);
    if (source === undefined) return undefined;
    const place = this.places.get(source);
    this.places.delete(source);
    return place?.enqueued;
  }

  /** The maxBatch requests most due, out of the queue (which stays in order of entry). */
  private takeMostDue(): Pending[] {
    if (this.queue.length <= this.maxBatch || !this.queue.some((p) => p.request.urgent)) return this.queue.splice(0, this.maxBatch);
    const chosen = new Set([...this.queue].sort((a, b) => a.due - b.due).slice(0, this.maxBatch));
    const batch = this.queue.filter((p) => chosen.has(p));
    const rest = this.queue.filter((p) => !chosen.has(p));
    this.queue.length = 0;
    this.queue.push(...rest);
    return batch;
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    let outcomes: DetectOutcome[];
    try {
      outcomes = await this.runner.detectBatch(batch.map((p) => p.request));
    } catch (err) {
      this.logger.error({ err, size: batch.length }, 'batch inference failed');
      for (const p of batch) {
        this.counts.failed++;
        p.reject(err as Error);
      }
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o?.ok) {
        this.counts.completed++;
        p.resolve(o.detections);
      } else {
        this.counts.failed++;
        p.reject(o ? o.error : new Error('detector returned fewer outcomes than requests'));
      }
    });
  }
}
