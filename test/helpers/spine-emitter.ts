/**
 * A producer process for the event spine's crash tests: emits events through
 * the sink (store, outbox, relay to the queue) as fast as they are stored and
 * prints `stored <id>` for every acknowledged one. The test kills it with
 * SIGKILL at any point.
 * Usage: node --import tsx test/helpers/spine-emitter.ts DATABASE_URL REDIS_URL QUEUE_PREFIX RUN_ID
 */
import { createEventSink } from '../../pipeline/events/event-sink.js';
import { eventId, type PortEvent } from '../../pipeline/events/index.js';
import { createLogger } from '../../pipeline/log/index.js';
import { EventQueue } from '../../pipeline/queue/index.js';
import { connectRedis } from '../../pipeline/redis/index.js';
import { migrate, openStore } from '../../pipeline/store/index.js';

const [databaseUrl, redisUrl, prefix, run] = process.argv.slice(2);
if (!databaseUrl || !redisUrl || !prefix || !run) {
  process.stderr.write('usage: spine-emitter.ts DATABASE_URL REDIS_URL QUEUE_PREFIX RUN_ID\n');
  process.exit(2);
}
const logger = createLogger({ level: 'warn', destination: 2 });
const store = await openStore({ databaseUrl, logger });
await migrate(store, { logger });
const queue = new EventQueue({ connection: connectRedis({ url: redisUrl, logger, name: 'events-queue' }), logger, prefix });
const sink = createEventSink({ store, logger, queue, relayEveryMs: 20 });
sink.onPublished((e) => process.stdout.write(`published ${e.id}\n`));
process.stdout.write('ready\n');
const base = Date.parse('2026-12-01T00:00:00Z');
// Twenty at a time: a batch is committed together, as a camera's events are.
for (let i = 0; ; i += 20) {
  await Promise.all(
    Array.from({ length: 20 }, async (_, k) => {
      const n = i + k;
      const e: PortEvent = { id: eventId(run, n), time: new Date(base + n * 1000), kind: 'unauthorized_access', phase: 'start', camera: 'cam-spine', zone: 'quay', track: n, details: { n } };
      const r = await sink.emit(e);
      if (r.ok) process.stdout.write(`stored ${e.id}\n`);
    }),
  );
}
