import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { PortEvent } from '../events/index.js';
import type { Logger } from '../log/index.js';
import { quietBullmqErrors } from '../redis/index.js';
import { reviveEvent } from './event-job.js';
import { DEFAULT_EVENT_QUEUE } from './event-queue.js';

export interface EventJobInfo {
  jobId: string;
  /** 1 on the first try. */
  attempt: number;
  /** Tries allowed in total. */
  attempts: number;
}

/** Must be idempotent: a job is retried after a failure, and may run again after a worker crash (BullMQ is at-least-once). */
export type EventHandler = (event: PortEvent, info: EventJobInfo) => Promise<void>;

export interface ConsumeEventsOptions {
  /**
   * Connection options (preferred: BullMQ makes its own connections) or an
   * ioredis instance created with `maxRetriesPerRequest: null` (BullMQ refuses others for workers).
   */
  connection: ConnectionOptions;
  logger: Logger;
  name?: string;
  prefix?: string;
  /** Jobs handled at once by this process. Default 4. */
  concurrency?: number;
}

export interface EventConsumer {
  readonly worker: Worker;
  /**
   * Waits for the jobs in hand to finish, then disconnects. `force` (Redis
   * unreachable: no job in hand can be completed anyway) disconnects at once;
   * the jobs stay on the queue and are handled again once Redis is back.
   */
  close(force?: boolean): Promise<void>;
}

/**
 * Runs `handler` for every event on the queue. A handler that throws is
 * retried with the queue's backoff; a job whose data is not an event fails at
 * once (UnrecoverableError), without retries.
 */
export function consumeEvents(handler: EventHandler, opts: ConsumeEventsOptions): EventConsumer {
  const name = opts.name ?? DEFAULT_EVENT_QUEUE;
  const log = opts.logger.child({ stage: 'queue', queue: name });
  const worker = new Worker(
    name,
    async (job: Job) => {
      let event: PortEvent;
      try {
        event = reviveEvent(job.data);
      } catch (err) {
        throw new UnrecoverableError(`job ${job.id}: ${err instanceof Error ? err.message : String(err)}`);
      }
      await handler(event, { jobId: job.id ?? '', attempt: job.attemptsMade + 1, attempts: job.opts.attempts ?? 1 });
    },
    {
      connection: opts.connection,
      concurrency: opts.concurrency ?? 4,
      ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
    },
  );
  quietBullmqErrors(worker, log, 'event consumer');
  worker.on('failed', (job: Job | undefined, err: Error) => {
    const attempts = job?.opts.attempts ?? 1;
    const final = !job || err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= attempts;
    if (final) log.error({ err, jobId: job?.id, attemptsMade: job?.attemptsMade }, 'event job failed for good; it stays in the failed set');
    else log.warn({ err: err.message, jobId: job.id, attemptsMade: job.attemptsMade, attempts }, 'event job failed; will retry');
  });
  let closing: Promise<void> | undefined;
  return {
    worker,
    close: (force = false) => (closing ??= worker.close(force)),
  };
}
