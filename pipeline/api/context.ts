import type { Redis } from 'ioredis';
import type { BoardStream } from '../board/index.js';
import type { SiteConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { Queryable, Store } from '../store/index.js';

/** What every route group gets: the store, the site, Redis and the board, and the limits. */
export interface ApiContext {
  store: Store;
  logger: Logger;
  /** The site file (geometry, cameras, berths); null when the API runs without one. */
  site: SiteConfig | null;
  redis: Redis | null;
  board: BoardStream | null;
  /** Where snapshots, clips and inspection photos live (data/snapshots, data/clips, data/photos). */
  dataDir: string;
  queryTimeoutMs: number;
  /** A map tile server for the chart (no credentials in it), or null. */
  tileUrl: string | null;
  /** Runs read queries under the API's statement timeout (a transaction with SET LOCAL statement_timeout). */
  read<T>(fn: (db: Queryable) => Promise<T>): Promise<T>;
}

export function readWithTimeout(store: Store, timeoutMs: number) {
  return <T>(fn: (db: Queryable) => Promise<T>): Promise<T> =>
    store.transaction(async (tx) => {
      await tx.query(`SELECT set_config('statement_timeout', $1, true)`, [String(timeoutMs)]);
      return fn(tx);
    });
}
