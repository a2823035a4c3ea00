import type { Redis } from 'ioredis';
import type { RedisOutageTracker } from '../redis/index.js';
import type { WorkerContext } from './worker-context.js';

/**
 * The Redis connections of one worker kind, so that its stop is bounded
 * whatever Redis does. A BullMQ worker's `close()` waits for the jobs in hand,
 * and their completion waits for Redis: during an outage the stop would wait
 * for the outage to end. So while Redis is down the stop is forced (workers
 * close without waiting for their jobs, which stay on the queue, locked, until
 * BullMQ's stalled-job check hands them out again once Redis is back) and the
 * kind's connections are cut, failing the commands ioredis holds for Redis's
 * return instead of waiting. They are cut too when an outage begins during
 * the stop, and when three quarters of the kind's share of the deadline have
 * passed.
 */
export class WorkerRedis {
  private readonly connections: Redis[] = [];

  constructor(private readonly ctx: Pick<WorkerContext, 'connectRedis' | 'outages'>) {}

  /** A connection of this worker (also closed with the context). */
  connect = (name: string): Redis => {
    const c = this.ctx.connectRedis(name);
    this.connections.push(c);
    return c;
  };

  /**
   * Runs `stop` (the service's own orderly close, `force` while Redis is down)
   * and cuts the connections as above; resolves when the stop has finished.
   */
  async stopWithin(stop: (o: { force: boolean }) => Promise<unknown>, timeoutMs: number): Promise<void> {
    const cut = () => {
      for (const c of this.connections) c.disconnect();
    };
    const outages: RedisOutageTracker = this.ctx.outages;
    const off = outages.onChange((s) => !s.up && cut());
    // Cut with a quarter of the share left, for the closes to finish after it.
    const timer = setTimeout(cut, timeoutMs * 0.75);
    try {
      const stopping = stop({ force: !outages.up });
      if (!outages.up) cut();
      await stopping;
    } finally {
      clearTimeout(timer);
      off();
    }
  }
}
