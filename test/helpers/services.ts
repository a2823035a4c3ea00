/**
 * Where the tests find their real services. Every test gets its URLs here and
 * nowhere else: the test setup may start private instances (a fresh machine
 * runs none) and publishes their URLs through these environment variables.
 */

/** Redis for queues, leases and streams. Use a unique key/queue prefix per test file. */
export function testRedisUrl(): string {
  return process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
}

/** An MQTT broker (Mosquitto). Use a unique topic prefix per test file. */
export function testMqttUrl(): string {
  return process.env.MQTT_TEST_URL ?? 'mqtt://127.0.0.1:1883';
}
