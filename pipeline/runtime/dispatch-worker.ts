import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { appendAudit, sha256Hex } from '../audit/index.js';
import { BoardStream } from '../board/index.js';
import { startDispatchService } from '../dispatch/index.js';
import { loadRiskModel } from '../risk/index.js';
import { WorkerRedis } from './redis-stop.js';
import type { RunningWorker, WorkerKind } from './worker-context.js';

/** The port model shipped with portwatch, used when the site file names none (`risk.model`). */
export const DEFAULT_PORT_MODEL = fileURLToPath(new URL('../../config/risk/port.yaml', import.meta.url));

/**
 * Alerts routed to dispatch → risk rescoring → inspections; the `dispatch`
 * queue: period draws, inspector draws, acknowledgement deadlines. Needs Redis.
 * Records the site file's and the risk model's hashes in the audit trail when
 * it starts, so a changed configuration shows in the trail.
 */
export const dispatchWorker: WorkerKind = {
  name: 'dispatch',
  wanted: (site) => site.inspectors.length > 0,
  async start(ctx) {
    const log = ctx.logger.child({ stage: 'dispatch', worker: ctx.workerId });
    const modelFile = ctx.site.risk?.model ?? DEFAULT_PORT_MODEL;
    const model = loadRiskModel(modelFile);
    let siteSha: string | null = null;
    try {
      siteSha = sha256Hex(readFileSync(ctx.siteFile));
    } catch {
      // A site built in memory (tests) has no file to hash.
    }
    await appendAudit(ctx.store, {
      kind: 'config.loaded',
      actor: `dispatch@${ctx.workerId}`,
      subject: ctx.siteFile,
      payload: { site_file: ctx.siteFile, site_sha256: siteSha, risk_model: modelFile, risk_model_sha256: model.sha256, dispatch: ctx.site.dispatch as unknown as Record<string, unknown> },
    });
    if (!ctx.redisUrl) {
      log.warn('no Redis: the dispatch worker does not run (set REDIS_URL for inspector dispatch)');
      return { stop: async () => undefined, stats: () => ({ running: false }) };
    }
    const redis = new WorkerRedis(ctx);
    const board = new BoardStream({ redis: redis.connect('dispatch-board'), prefix: ctx.settings.lease_prefix });
    const service = await startDispatchService({
      store: ctx.store,
      site: ctx.site,
      logger: log,
      connection: redis.connect('dispatch-queue'),
      workerConnection: () => redis.connect('dispatch-worker'),
      prefix: ctx.settings.queue_prefix,
      model,
      board,
      actor: `dispatch@${ctx.workerId}`,
    });
    const worker: RunningWorker & { service: typeof service } = {
      service,
      stats: () => ({ ...service.stats() }),
      summary: () => ({ ...service.stats() }),
      async stop(options = {}) {
        await redis.stopWithin(async (o) => {
          await service.stop(o);
          await board.close();
        }, options.timeoutMs ?? ctx.settings.stop_deadline_seconds * 1000);
      },
    };
    return worker;
  },
};
