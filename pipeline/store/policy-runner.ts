import type { Logger } from '../log/index.js';
import type { Store } from './store.js';

/**
 * TimescaleDB runs its policies (refresh, compression, retention) from a
 * background scheduler on a server. PGlite is single-process and has none, so
 * on the embedded target the policies exist but never fire by themselves. This
 * runs each due policy job with `CALL run_job(id)` on its own schedule.
 * On a server it does nothing: the server's scheduler owns the jobs.
 */
export interface PolicyRunner {
  /** Run every job that is due now; resolves with the ids run. */
  runDue(now?: Date): Promise<number[]>;
  stop(): void;
}

export function startPolicyRunner(store: Store, logger: Logger, options: { checkEveryMs?: number } = {}): PolicyRunner {
  const lastRun = new Map<number, number>();
  const log = logger.child({ stage: 'store', part: 'policy-runner' });
  let busy = false;

  async function runDue(now = new Date()): Promise<number[]> {
    if (store.kind !== 'embedded' || busy) return [];
    busy = true;
    try {
      const jobs = (
        await store.query(
          `SELECT job_id, proc_name, hypertable_name, extract(epoch FROM schedule_interval) * 1000 AS every_ms
             FROM timescaledb_information.jobs WHERE scheduled AND proc_name LIKE 'policy_%' ORDER BY job_id`,
        )
      ).rows;
      const ran: number[] = [];
      for (const j of jobs) {
        const last = lastRun.get(j.job_id);
        if (last !== undefined && now.getTime() - last < Number(j.every_ms)) continue;
        lastRun.set(j.job_id, now.getTime());
        try {
          await store.query('CALL run_job($1)', [j.job_id]);
          ran.push(j.job_id);
          log.debug({ job: j.job_id, proc: j.proc_name, table: j.hypertable_name }, `ran ${j.proc_name} on ${j.hypertable_name}`);
        } catch (err) {
          log.warn({ job: j.job_id, proc: j.proc_name, err: (err as Error).message }, `policy job ${j.job_id} (${j.proc_name}) failed: ${(err as Error).message}`);
        }
      }
      return ran;
    } finally {
      busy = false;
    }
  }

  const timer =
    store.kind === 'embedded'
      ? setInterval(() => void runDue().catch((err) => log.warn({ err: (err as Error).message }, 'policy run failed')), options.checkEveryMs ?? 60_000)
      : null;
  timer?.unref();
  return {
    runDue,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
