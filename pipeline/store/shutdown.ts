import type { Logger } from '../log/index.js';
import type { BatchWriter } from './batch-writer.js';

export interface FlushOnSignalsOptions {
  signals?: NodeJS.Signals[];
  /** Give up on rows the database will not take after this long; default 25 s (inside a usual 30 s stop grace). */
  timeoutMs?: number;
  /** Runs after the writers are flushed, before exit (close the store, queues…). */
  afterFlush?: () => Promise<void> | void;
  /** Exit the process when done (default true; code 0, or 1 if rows were abandoned). */
  exit?: boolean;
}

/**
 * On SIGTERM/SIGINT: stop accepting, flush every writer, then exit. A second
 * signal while flushing exits at once. Installs nothing until called; returns
 * a function that removes the handlers.
 */
export function flushOnSignals(writers: ReadonlyArray<BatchWriter<any>>, logger: Logger, options: FlushOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.error({ signal }, `${signal} again while flushing: exiting now, unflushed rows are lost`);
      process.exit(1);
    }
    shuttingDown = true;
    const held = writers.reduce((n, w) => n + w.stats.held + w.stats.waiting, 0);
    logger.info({ signal, writers: writers.length, held }, `${signal}: flushing ${held} rows before exit`);
    void (async () => {
      let abandoned = 0;
      try {
        const stats = await Promise.all(writers.map((w) => w.close({ timeoutMs: options.timeoutMs ?? 25_000 })));
        abandoned = stats.reduce((n, s) => n + s.abandoned, 0);
        logger.info(
          { signal, written: stats.reduce((n, s) => n + s.written, 0), rejected: stats.reduce((n, s) => n + s.rejected, 0), abandoned },
          'writers flushed',
        );
        await options.afterFlush?.();
      } catch (err) {
        logger.error({ err }, `shutdown failed: ${(err as Error).message}`);
        abandoned = abandoned || 1;
      }
      if (options.exit !== false) process.exit(abandoned > 0 ? 1 : 0);
    })();
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
