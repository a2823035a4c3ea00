import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { PortEvent } from '../events/index.js';
import type { Logger } from '../log/index.js';
import { quietBullmqErrors } from '../redis/index.js';
import { eventJobId, eventProblem } from './event-job.js';

export const DEFAULT_EVENT_QUEUE = 'events';

/** How long finished jobs stay in Redis. A kept job is what makes a re-delivered event a duplicate. */
export interface KeepJobs {
  /** Seconds. */
  age: number;
  count: number;
}

export interface EventQueueOptions {
  /** An ioredis instance (shared; not closed here) or connection options (BullMQ owns and closes the connection). */
  connection: ConnectionOptions;
  logger: Logger;
  /** Queue name. Default `events`. */
  name?: string;
  /** BullMQ key prefix (default `bull`); tests use a unique one. */
  prefix?: string;
  /** Tries per job, the first included. Default 8 (about 4 minutes of backoff in total). */
  attempts?: number;
  /** First retry delay; doubles each time. Default 1000 ms. */
  backoffMs?: number;
  /** Default: a day or 20 000 jobs, whichever is smaller. */
  keepCompleted?: KeepJobs;
  /** Default: a week or 50 000 jobs: failures are for people to look at. */
  keepFailed?: KeepJobs;
  /** BullMQ priority per event (1 = highest); undefined for none. Prioritised jobs cost O(log n) to add. */
  priority?: (event: PortEvent) => number | undefined;
}

export interface PublishManyResult {
  /** Job ids, one per accepted event (an id that already existed is still returned: the event is queued once). */
  jobIds: string[];
  /** Events refused before reaching Redis, with the reason (field: problem). */
  rejected: Array<{ id: unknown; reason: string }>;
}

/**
 * Publishes PortEvents onto the BullMQ `events` queue for the alerts stage.
 * One job per event and phase, named after the event kind, deduplicated by job id.
 */
export class EventQueue {
  readonly queue: Queue;
  readonly name: string;
  private readonly log: Logger;
  private readonly jobOptions: JobsOptions;
  private readonly priority: EventQueueOptions['priority'];
  private closed = false;

  constructor(opts: EventQueueOptions) {
    this.name = opts.name ?? DEFAULT_EVENT_QUEUE;
    this.log = opts.logger.child({ stage: 'queue', queue: this.name });
    this.priority = opts.priority;
    const keepCompleted = opts.keepCompleted ?? { age: 24 * 3600, count: 20_000 };
    const keepFailed = opts.keepFailed ?? { age: 7 * 24 * 3600, count: 50_000 };
    this.jobOptions = {
      attempts: opts.attempts ?? 8,
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 1_000 },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    };
    this.queue = new Queue(this.name, {
      connection: opts.connection,
      ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
      defaultJobOptions: this.jobOptions,
    });
    // Without a listener an 'error' event would throw; an outage is logged once by the connection's tracker.
    quietBullmqErrors(this.queue, this.log, 'event queue');
  }

  /** Adds the event; resolves to its job id. A re-published event (same id and phase) does not make a second job. */
  async publish(event: PortEvent): Promise<string> {
    const problem = eventProblem(event);
    if (problem) throw new Error(`event ${String(event.id)} cannot be queued: ${problem}`);
    const jobId = eventJobId(event);
    const job = await this.queue.add(event.kind, event, this.options(event, jobId));
    return job.id ?? jobId;
  }

  /** Adds many events in one round trip; bad ones are refused with a reason and the rest are still queued. */
  async publishMany(events: readonly PortEvent[]): Promise<PublishManyResult> {
    const rejected: PublishManyResult['rejected'] = [];
    const good: PortEvent[] = [];
    for (const e of events) {
      const problem = eventProblem(e);
      if (problem) rejected.push({ id: e?.id, reason: problem });
      else good.push(e);
    }
    if (rejected.length > 0) this.log.warn({ rejected: rejected.length, first: rejected[0] }, 'events refused by the queue');
    if (good.length === 0) return { jobIds: [], rejected };
    const jobs = await this.queue.addBulk(good.map((e) => ({ name: e.kind, data: e, opts: this.options(e, eventJobId(e)) })));
    return { jobIds: jobs.map((j, i) => j.id ?? eventJobId(good[i]!)), rejected };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.close();
  }

  private options(event: PortEvent, jobId: string): JobsOptions {
    const priority = this.priority?.(event);
    return priority === undefined ? { ...this.jobOptions, jobId } : { ...this.jobOptions, jobId, priority };
  }
}
