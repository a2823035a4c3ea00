import { Worker } from 'node:worker_threads';
import type { BatchRunner, DetectOutcome, DetectRequest } from '../detect/index.js';
import type { Box } from '../events/types.js';
import type { Detection } from '../detect/types.js';

/** @internal messages between ThreadedDetector and detector-thread.ts */
export interface ThreadInit {
  model: string;
  maxBatch: number;
  modelsDir?: string;
}
/** @internal */
export type ThreadRequest =
  | { type: 'detect'; id: number; items: Array<{ width: number; height: number; data: ArrayBuffer; region?: Box; threshold?: number; classes?: readonly string[]; crop?: boolean }> }
  | { type: 'close' };
/** @internal */
export type ThreadReply =
  | { type: 'ready'; labels: string[]; maxBatch: number; name: string; takesAnySize: boolean }
  | { type: 'result'; id: number; outcomes?: Array<{ ok: true; detections: Detection[] } | { ok: false; error: string }>; error?: string };

/**
 * A detector session in a worker thread, as a `BatchRunner` (put a
 * `BatchDetector` in front of it). Frames are copied into the message (a
 * 640×480 frame is 0.9 MB: well under a millisecond next to a ~90 ms inference).
 */
export class ThreadedDetector implements BatchRunner {
  readonly name: string;
  readonly maxBatch: number;
  readonly labels: readonly string[];
  /** See Detector.takesAnySize. */
  readonly takesAnySize: boolean;
  private readonly pending = new Map<number, { resolve: (o: DetectOutcome[]) => void; reject: (e: Error) => void; n: number }>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    ready: Extract<ThreadReply, { type: 'ready' }>,
  ) {
    this.name = ready.name;
    this.maxBatch = ready.maxBatch;
    this.labels = ready.labels;
    this.takesAnySize = ready.takesAnySize;
    worker.on('message', (m: ThreadReply) => {
      if (m.type !== 'result') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.outcomes!.map((o) => (o.ok ? o : { ok: false, error: new Error(o.error) })));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new Error(`detector thread exited (code ${code})`)));
  }

  /** Starts the thread and loads the model in it. */
  static async start(model: string, o: { maxBatch?: number; modelsDir?: string } = {}): Promise<ThreadedDetector> {
    // Run as TypeScript under tsx (the worker inherits --import tsx), as JavaScript when built.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const init: ThreadInit = { model, maxBatch: o.maxBatch ?? 4, ...(o.modelsDir ? { modelsDir: o.modelsDir } : {}) };
    const url = new URL(`./detector-thread${ext}`, import.meta.url);
    // tsx's loader hooks do not reach worker threads: register them in the thread first.
    const worker =
      ext === '.ts'
        ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: init })
        : new Worker(url, { workerData: init });
    const ready = await new Promise<Extract<ThreadReply, { type: 'ready' }>>((resolve, reject) => {
      const onMessage = (m: ThreadReply) => {
        if (m.type === 'ready') {
          worker.off('message', onMessage);
          resolve(m);
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`detector thread for ${model} exited while loading (code ${code})`)));
    });
    return new ThreadedDetector(worker, ready);
  }

  detectBatch(requests: readonly DetectRequest[]): Promise<DetectOutcome[]> {
    if (this.closed) return Promise.reject(new Error('detector thread closed'));
    const id = this.nextId++;
    const items = requests.map((r) => {
      const copy = new Uint8Array(r.image.data.byteLength);
      copy.set(r.image.data);
      return {
        width: r.image.width,
        height: r.image.height,
        data: copy.buffer,
        ...(r.region ? { region: r.region } : {}),
        ...(r.threshold !== undefined ? { threshold: r.threshold } : {}),
        ...(r.classes ? { classes: r.classes } : {}),
        ...(r.crop ? { crop: true } : {}),
      };
    });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, n: requests.length });
      this.worker.postMessage({ type: 'detect', id, items } satisfies ThreadRequest, items.map((i) => i.data));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.postMessage({ type: 'close' } satisfies ThreadRequest);
    const hard = setTimeout(() => void this.worker.terminate(), 5000);
    await exited;
    clearTimeout(hard);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
