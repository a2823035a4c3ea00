import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { buildApiServer, createApiToken, type ApiServer, type ApiServerOptions, type Role } from '../../pipeline/api/index.js';
import { BoardStream } from '../../pipeline/board/index.js';
import { loadSiteConfig } from '../../pipeline/config/index.js';
import { silentLogger } from '../../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../../pipeline/store/index.js';
import { testRedisUrl } from './services.js';

export interface TestApi {
  api: ApiServer;
  store: Store;
  redis: Redis;
  board: BoardStream;
  dataDir: string;
  /** One token per role; the inspector's is bound to insp-01, the enterprise's to company ACME. */
  tokens: Record<Role, string>;
  close(): Promise<void>;
}

/**
 * The API on the embedded store (in memory, migrated) with the demo site, a
 * real Redis and a board under a unique key prefix, and a token for each role.
 */
export async function startTestApi(o: Partial<ApiServerOptions> & { store?: Store } = {}): Promise<TestApi> {
  const logger = silentLogger();
  const store = o.store ?? (await openStore({ dataDir: 'memory://', logger }));
  await migrate(store, { logger });
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const prefix = `test:api:${randomBytes(4).toString('hex')}:`;
  const board = new BoardStream({ redis, prefix, maxLen: 1000 });
  const dataDir = mkdtempSync(join(tmpdir(), 'portwatch-api-'));
  const site = loadSiteConfig('config/site.demo.yaml');
  const api = await buildApiServer({ store, logger, site, redis, board, dataDir, webRoot: null, rateLimitPerMinute: 100_000, ...o });
  const tokens = {} as Record<Role, string>;
  for (const role of ['admin', 'operator', 'analyst', 'inspector', 'enterprise'] as const) {
    tokens[role] = (
      await createApiToken(store, { role, name: `test ${role}`, ...(role === 'enterprise' ? { company: 'ACME' } : {}), ...(role === 'inspector' ? { inspector: 'insp-01' } : {}) })
    ).token;
  }
  return {
    api,
    store,
    redis,
    board,
    dataDir,
    tokens,
    async close() {
      await api.close();
      await redis.del(board.key);
      await board.close();
      redis.disconnect();
      if (!o.store) await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
