/**
 * Everything in one process: one store (the embedded database can only be
 * opened by one process, so the demo and small sites run this), the AIS
 * service and the camera service, and the `events` queue on Redis.
 *
 *   node --import tsx workers/all-in-one.ts --site config/site.demo.yaml [--duration 60]
 *
 * Site: --site or PORTWATCH_SITE. Store: DATABASE_URL, else the embedded
 * database in --data-dir/pglite. Redis: REDIS_URL (events queue, camera
 * leases); without it events still reach the store and cameras run unshared.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { startAisService, type AisService } from '../pipeline/ais-ingest/index.js';
import { startCameraService, type CameraService } from '../pipeline/camera/index.js';
import { loadSiteConfig, type SiteConfig } from '../pipeline/config/index.js';
import type { PortEvent } from '../pipeline/events/index.js';
import { createLogger, type Logger } from '../pipeline/log/index.js';
import { EventQueue } from '../pipeline/queue/index.js';
import { connectRedis } from '../pipeline/redis/index.js';
import { migrate, openStore, startPolicyRunner, type Store } from '../pipeline/store/index.js';

export interface AllInOneOptions {
  site: SiteConfig;
  logger: Logger;
  /** Folder for the embedded database and snapshots. */
  dataDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Called for every event, after it is handed to the store and queue (the demo prints them). */
  onEvent?: (event: PortEvent) => void;
  /** AIS clock: `data` for recorded or sped-up replays, `wall` for live feeds. */
  aisClock?: 'wall' | 'data';
}

export interface AllInOne {
  store: Store;
  ais: AisService | null;
  cameras: CameraService | null;
  queue: EventQueue | null;
  /** Stops the services (everything accepted is written), runs `beforeClose` on the still-open store, closes it. */
  stop(options?: { beforeClose?: (store: Store) => Promise<void> }): Promise<void>;
}

export async function startAllInOne(o: AllInOneOptions): Promise<AllInOne> {
  const { site, logger } = o;
  const store = await openStore({ databaseUrl: o.databaseUrl, dataDir: join(o.dataDir, 'pglite'), logger });
  await migrate(store, { logger, settings: site.store });
  const policies = startPolicyRunner(store, logger);

  let queue: EventQueue | null = null;
  let redis: Redis | null = null;
  if (o.redisUrl) {
    redis = connectRedis({ url: o.redisUrl, logger, name: 'all-in-one' });
    queue = new EventQueue({ connection: redis, logger });
  }
  const publisher = {
    async publish(event: PortEvent) {
      const job = queue ? await queue.publish(event) : null;
      o.onEvent?.(event);
      return job;
    },
  };

  const ais =
    site.feeds.length > 0
      ? await startAisService({ site, store, logger: logger.child({ stage: 'ais' }), publisher, clock: o.aisClock, ...(site.ais ?? {}) })
      : null;
  const cameras =
    site.cameras.length > 0
      ? await startCameraService({
          site,
          store,
          logger: logger.child({ stage: 'camera' }),
          publisher,
          redis,
          snapshotDir: join(o.dataDir, 'snapshots'),
        })
      : null;

  return {
    store,
    ais,
    cameras,
    queue,
    async stop(options = {}) {
      await Promise.allSettled([ais?.stop(), cameras?.stop()]);
      await options.beforeClose?.(store);
      policies.stop();
      await queue?.close();
      redis?.disconnect();
      await store.close();
    },
  };
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      site: { type: 'string' },
      duration: { type: 'string' },
      'data-dir': { type: 'string', default: 'data' },
    },
  });
  const logger = createLogger({ name: 'all-in-one', level: process.env.LOG_LEVEL ?? 'info' });
  const siteFile = args.site ?? process.env.PORTWATCH_SITE;
  if (!siteFile) throw new Error('no site file: pass --site FILE or set PORTWATCH_SITE');
  const site = loadSiteConfig(siteFile, { env: process.env });
  const system = await startAllInOne({
    site,
    logger,
    dataDir: resolve(args['data-dir']!),
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
  });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'stopping: flushing everything accepted');
    await system.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  if (args.duration) setTimeout(() => void stop('duration'), Number(args.duration) * 1000);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`all-in-one: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
