import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrivateRedis } from '../scripts/demo/private-redis.js';
import { ensureDebianPackages } from '../scripts/test-services/debian-packages.js';
import { startPrivateMosquitto } from '../scripts/test-services/private-mosquitto.js';
import { postgresBin, startPrivatePostgres } from '../scripts/test-services/private-postgres.js';
import { TIMESCALEDB_PG_MAJOR, defaultTarball, ensureTimescaleDb } from '../scripts/test-services/timescaledb.js';

/**
 * Vitest global setup: the services the tests talk to. A variable that is set
 * points at a service somebody runs on purpose and is used as it is; for each
 * one that is not, a private instance is started on a free loopback port and
 * stopped at the end, so `npm test` needs nothing configured and never touches
 * the machine's own servers:
 *
 *   PG_TEST_URL     PostgreSQL (trust auth, a database the tests may CREATE DATABASE from)
 *   TSDB_TEST_URL   PostgreSQL with TimescaleDB preloaded (built from the vendored source when missing)
 *   REDIS_TEST_URL  Redis
 *   MQTT_TEST_URL   Mosquitto
 *
 * Test files read them through test/helpers/services.ts only.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stderr.write(`test services: ${line}\n`);

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

export default async function setup(): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => say(`stopping: ${(err as Error).message}`));
  };
  const started: string[] = [];
  try {
    if (!process.env.PG_TEST_URL) {
      if (!postgresBin()) ensureDebianPackages(['postgresql'], say);
      const server = await startPrivatePostgres({ name: 'test' });
      stops.push(() => server.stop());
      process.env.PG_TEST_URL = server.url;
      started.push(`PostgreSQL ${server.url}`);
    }

    if (!process.env.TSDB_TEST_URL) {
      const tsdb = ensureTimescaleDb({ tarball: defaultTarball(ROOT), log: say });
      if (tsdb.ok) {
        const server = await startPrivatePostgres({ name: 'tsdb', major: TIMESCALEDB_PG_MAJOR, preload: ['timescaledb'], settings: { 'timescaledb.telemetry_level': 'off' } });
        stops.push(() => server.stop());
        process.env.TSDB_TEST_URL = server.url;
        started.push(`TimescaleDB ${server.url}`);
      } else {
        say('');
        say(`!!! TimescaleDB server tests SKIPPED: ${tsdb.reason}.`);
        say('!!! Enable them with TSDB_TEST_URL=postgres://… (a server with shared_preload_libraries=timescaledb, trust auth),');
        say(`!!! or put timescaledb-2.28.3.tar.gz in ../shared/vendor/ and run as root to build it once.`);
        say('');
      }
    }

    if (!process.env.REDIS_TEST_URL) {
      if (!onPath('redis-server')) ensureDebianPackages(['redis-server'], say);
      const dir = mkdtempSync(join(tmpdir(), 'portwatch-redis-'));
      const redis = await startPrivateRedis(dir);
      stops.push(async () => {
        await redis.stop();
        rmSync(dir, { recursive: true, force: true });
      });
      process.env.REDIS_TEST_URL = redis.url;
      started.push(`Redis ${redis.url}`);
    }

    if (!process.env.MQTT_TEST_URL) {
      if (!onPath('mosquitto')) ensureDebianPackages(['mosquitto'], say);
      const broker = await startPrivateMosquitto();
      stops.push(() => broker.stop());
      process.env.MQTT_TEST_URL = broker.url;
      started.push(`Mosquitto ${broker.url}`);
    }
  } catch (err) {
    await teardown();
    throw err;
  }
  if (started.length) say(`private ${started.join(', ')}`);
  return teardown;
}
