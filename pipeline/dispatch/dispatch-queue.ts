import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Logger } from '../log/index.js';
import { quietBullmqErrors } from '../redis/index.js';

export const DISPATCH_QUEUE = 'dispatch';
/** Filled by the alerts stage: one job per alert routed to `dispatch`, its data the alert as JSON. */
export const ALERT_DISPATCH_QUEUE = 'alert-dispatch';

export type DispatchJob =
  | { type: 'assign'; inspection: string }
  | { type: 'deadline'; inspection: string; inspector: string; round: number }
  | { type: 'draw' };

export interface DispatchQueueOptions {
  connection: ConnectionOptions;
  logger: Logger;
  /** BullMQ key prefix (default `bull`); tests use a unique one. */
  prefix?: string;
  name?: string;
  /** Tries per job, the first included. Default 5. */
  attempts?: number;
  backoffMs?: number;
}

/**
 * The BullMQ `dispatch` queue: assignments (priority from the alert's severity
 * or the vessel's risk level), acknowledgement deadlines as delayed jobs, and
 * the periodic target draw. Job ids make a retried step idempotent.
 */
export class DispatchQueue {
  readonly queue: Queue<DispatchJob>;
  private readonly defaults: JobsOptions;

  constructor(opts: DispatchQueueOptions) {
    this.defaults = {
      attempts: opts.attempts ?? 5,
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 1_000 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
    };
    this.queue = new Queue<DispatchJob>(opts.name ?? DISPATCH_QUEUE, {
      connection: opts.connection,
      ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
      defaultJobOptions: this.defaults,
    });
    quietBullmqErrors(this.queue, opts.logger.child({ stage: 'dispatch-queue' }), 'dispatch queue');
  }

  /** Draw an inspector for the inspection (round = its reassignments so far). */
  assign(inspection: string, priority: number, round = 0): Promise<unknown> {
    return this.queue.add('assign', { type: 'assign', inspection }, { jobId: `assign-${inspection}-${round}`, priority });
  }

  /** The acknowledgement deadline of one assignment, as a delayed job. */
  deadline(inspection: string, inspector: string, round: number, delayMs: number): Promise<unknown> {
    return this.queue.add('deadline', { type: 'deadline', inspection, inspector, round }, { jobId: `deadline-${inspection}-${round}`, delay: Math.max(0, delayMs), priority: 1 });
  }

  /** A target draw every `everyMs` (one scheduler per queue, whatever the number of processes). */
  scheduleDraws(everyMs: number): Promise<unknown> {
    return this.queue.upsertJobScheduler('period-draw', { every: everyMs }, { name: 'draw', data: { type: 'draw' } });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
