/**
 * Where the tests find their real services. Every test gets its URLs here and
 * nowhere else: test/global-setup.ts starts private instances for the ones not
 * configured (a fresh machine runs none) and publishes their URLs through these
 * environment variables.
 */

function published(name: string, what: string): string {
  const url = process.env[name];
  if (!url) throw new Error(`${name} is not set: run the tests with vitest (test/global-setup.ts starts a private ${what}), or set ${name}`);
  return url;
}

/** Redis for queues, leases and streams. Use a unique key/queue prefix per test file. */
export function testRedisUrl(): string {
  return published('REDIS_TEST_URL', 'Redis');
}

/** An MQTT broker (Mosquitto). Use a unique topic prefix per test file. */
export function testMqttUrl(): string {
  return published('MQTT_TEST_URL', 'Mosquitto');
}

/** PostgreSQL without TimescaleDB, trust auth; create a database per test file (helpers/pg-database.ts). */
export function testPostgresUrl(): string {
  return published('PG_TEST_URL', 'PostgreSQL cluster');
}

/**
 * PostgreSQL with TimescaleDB preloaded, or null when this machine cannot have
 * one (the setup then printed why, loudly, and how to enable it).
 */
export function testTimescaleUrl(): string | null {
  return process.env.TSDB_TEST_URL || null;
}
