import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Private PostgreSQL, TimescaleDB, Redis and Mosquitto unless PG_TEST_URL,
    // TSDB_TEST_URL, REDIS_TEST_URL, MQTT_TEST_URL point at running ones.
    globalSetup: ['test/global-setup.ts'],
    // Tests start real servers (Redis, PostgreSQL, RTSP, ffmpeg): give them room,
    // and keep files in separate forks so one crash cannot take the run down.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
