/**
 * A stand-in camera worker for the lease kill test: holds camera leases and
 * prints one JSON line per change of its held set on stdout:
 *   {"worker":"w1","held":["cam-001",…],"t":1700000000000}
 * Usage: node --import tsx test/helpers/lease-holder.ts --prefix P --worker ID --cameras N
 *          [--ttl MS] [--heartbeat MS] [--release-per-beat N] [--redis URL (default REDIS_TEST_URL)]
 * LEASE_HOLDER_LOG=info shows the lease log on stderr (default warn).
 * SIGTERM stops gracefully (leases released); SIGKILL is the crash the test wants.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createLogger } from '../../pipeline/log/index.js';
import { CameraLeaseManager } from '../../pipeline/lease/index.js';
import { testRedisUrl } from './services.js';

const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    worker: { type: 'string' },
    cameras: { type: 'string', default: '284' },
    ttl: { type: 'string' },
    heartbeat: { type: 'string' },
    'release-per-beat': { type: 'string' },
    redis: { type: 'string' },
  },
});
if (!values.prefix || !values.worker) {
  process.stderr.write('lease-holder: --prefix and --worker are required\n');
  process.exit(2);
}
const n = Number(values.cameras);
const cameras = Array.from({ length: n }, (_, i) => `cam-${String(i + 1).padStart(3, '0')}`);
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

const logger = createLogger({ level: process.env.LEASE_HOLDER_LOG ?? 'warn', name: `lease-holder-${values.worker}` });
const redis = new Redis(values.redis ?? testRedisUrl());
redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));

const manager = new CameraLeaseManager({
  redis,
  prefix: values.prefix,
  workerId: values.worker,
  cameras,
  logger,
  ttlMs: num(values.ttl),
  heartbeatMs: num(values.heartbeat),
  maxReleasePerBeat: num(values['release-per-beat']),
});

let queued = false;
const report = () => {
  if (queued) return;
  queued = true;
  setImmediate(() => {
    queued = false;
    process.stdout.write(`${JSON.stringify({ worker: values.worker, held: manager.heldCameras(), t: Date.now() })}\n`);
  });
};
manager.on('acquired', report).on('released', report).on('lost', report);

process.on('SIGTERM', () => {
  void manager.stop().then(() => redis.quit()).then(() => process.exit(0));
});

await manager.start();
report();
