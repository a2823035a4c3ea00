import { createServerDatabase, type ServerDatabase } from '../../scripts/test-services/server-database.js';
import { testPostgresUrl } from './services.js';

export type TestDatabase = ServerDatabase;

/**
 * A fresh, uniquely named database on the test server (`adminUrl`, default the
 * plain PostgreSQL one; pass testTimescaleUrl() for TimescaleDB); `drop()`
 * removes it, terminating leftover connections.
 */
export function createTestDatabase(prefix: string, adminUrl: string = testPostgresUrl()): Promise<TestDatabase> {
  return createServerDatabase(prefix, adminUrl);
}
