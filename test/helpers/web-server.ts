import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BoardStream } from '../../pipeline/board/index.js';
import { buildApiServer, type ApiServer } from '../../pipeline/api/server.js';
import { createApiToken } from '../../pipeline/api/tokens.js';
import { startAisService, type AisService } from '../../pipeline/ais-ingest/service.js';
import { AlertsService } from '../../pipeline/alerts/index.js';
import { EventQueue } from '../../pipeline/queue/index.js';
import { loadSiteConfig, type SiteConfig } from '../../pipeline/config/index.js';
import { silentLogger, type Logger } from '../../pipeline/log/index.js';
import { migrate } from '../../pipeline/store/migrate.js';
import { openStore, type Store } from '../../pipeline/store/index.js';
import { AisReplay } from '../../scripts/sim/ais-replay.js';
import { portScenario } from '../../scripts/sim/ais-scenario.js';
import { createTestDatabase, type TestDatabase } from './pg-database.js';
import { startRtspServer, type RtspServer } from './rtsp-server.js';
import { testRedisUrl } from './services.js';

/**
 * The command center as the browser tests see it: the real API (pipeline/api)
 * serving web/dist, on a fresh PostgreSQL database, the board on a private
 * Redis prefix, the demo site with its AIS feed played by the replay into the
 * real AIS ingest, and its cameras on the RTSP simulator (live view).
 */
export interface WebFixture {
  url: string;
  api: ApiServer;
  store: Store;
  board: BoardStream;
  site: SiteConfig;
  tokens: Record<'admin' | 'operator' | 'analyst' | 'inspector', string>;
  /** With `alerts`: the events queue the alerts service consumes. */
  events: EventQueue | null;
  dataDir: string;
  stop(): Promise<void>;
}

export interface WebFixtureOptions {
  /** Play the demo's AIS scenario (default true) at this speed (default 120× real time). */
  ais?: boolean;
  aisSpeed?: number;
  /** Serve the cameras from the RTSP simulator (default true). */
  cameras?: boolean;
  /** Run the alerts service (events queue → rules → alerts → board) on a private queue prefix. */
  alerts?: boolean;
  /** Passed to the API server: how often body-worn recordings of closed jobs are settled. */
  bodyWornSweepMs?: number;
  /** Change the demo site before anything starts (e.g. add a body-worn camera; its stream is then simulated too). */
  editSite?: (site: SiteConfig) => void;
  logger?: Logger;
}

export async function startWebFixture(o: WebFixtureOptions = {}): Promise<WebFixture> {
  const logger = o.logger ?? silentLogger();
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const db: TestDatabase = await createTestDatabase('web');
    cleanups.push(() => db.drop());
    const store = await openStore({ databaseUrl: db.url, logger, poolSize: 4 });
    cleanups.push(() => store.close());
    await migrate(store, { logger });

    const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    cleanups.push(async () => void (await redis.quit()));
    const prefix = `webtest:${process.pid}:${Date.now()}:`;
    const board = new BoardStream({ redis, prefix });
    cleanups.push(async () => {
      await redis.del(board.key);
    });

    const site = loadSiteConfig('config/site.demo.yaml', { env: {} });
    o.editSite?.(site);
    let rtsp: RtspServer | null = null;
    if (o.cameras !== false) {
      rtsp = await startRtspServer({ mounts: Object.fromEntries(site.cameras.map((c) => [`/${c.id}`, 'vtest'])) });
      cleanups.push(() => rtsp!.stop());
      for (const c of site.cameras) c.streams = { main: rtsp.url(`/${c.id}`) };
    }

    let ais: AisService | null = null;
    if (o.ais !== false) {
      const replay = new AisReplay({ lines: portScenario().lines, tcpPort: 0, tcpHost: '127.0.0.1', loop: true, speed: o.aisSpeed ?? 120 });
      await replay.start();
      cleanups.push(() => replay.stop());
      site.feeds = site.feeds.map((f) => (f.protocol === 'tcp' ? { ...f, port: replay.port } : f));
      ais = await startAisService({ site, store, logger, clock: 'wall', statsEveryMs: 0 });
      cleanups.push(async () => void (await ais!.stop()));
    }

    const dataDir = mkdtempSync(join(tmpdir(), 'portwatch-web-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

    let events: EventQueue | null = null;
    if (o.alerts) {
      const queuePrefix = `${prefix}bull`;
      const connections: Redis[] = [];
      cleanups.push(async () => {
        for (const c of connections) await c.quit().catch(() => undefined);
      });
      const alerts = new AlertsService({
        site,
        store,
        logger,
        queuePrefix,
        boardPrefix: prefix,
        connect: () => {
          const c = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
          connections.push(c);
          return c;
        },
      });
      await alerts.start();
      cleanups.push(() => alerts.stop());
      events = new EventQueue({ connection: redis, logger, prefix: queuePrefix });
      cleanups.push(() => events!.close());
    }
    const api = await buildApiServer({
      store,
      logger,
      site,
      redis,
      board,
      dataDir,
      webRoot: join(import.meta.dirname, '..', '..', 'web', 'dist'),
      rateLimitPerMinute: 100_000,
      ...(o.bodyWornSweepMs !== undefined ? { bodyWornSweepMs: o.bodyWornSweepMs } : {}),
    });
    cleanups.push(() => api.close());
    const address = await api.app.listen({ host: '127.0.0.1', port: 0 });

    const tokens = {} as WebFixture['tokens'];
    for (const role of ['admin', 'operator', 'analyst', 'inspector'] as const) {
      const { token } = await createApiToken(store, { name: `web test ${role}`, role, ...(role === 'inspector' ? { inspector: 'insp-01' } : {}) });
      tokens[role] = token;
    }
    return { url: address, api, store, board, site, tokens, dataDir, events, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
