/**
 * A writer process for the crash tests: writes events through the batch writer
 * into PostgreSQL as fast as it is allowed, forever, and prints
 *   mode "ack":  `ack <id>` when a row is committed (the acknowledgement), or
 *   mode "term": `accepted <id>` when write() took the row, with the SIGTERM
 *                flush hook installed.
 * Usage: node --import tsx test/helpers/store-writer-child.ts ack|term DATABASE_URL RUN_ID
 */
import { createLogger } from '../../pipeline/log/index.js';
import { eventId, type PortEvent } from '../../pipeline/events/index.js';
import { WriterClosedError, createBatchWriter, eventsTable, flushOnSignals, openStore } from '../../pipeline/store/index.js';

const [mode, databaseUrl, run] = process.argv.slice(2);
if ((mode !== 'ack' && mode !== 'term') || !databaseUrl || !run) {
  process.stderr.write('usage: store-writer-child.ts ack|term DATABASE_URL RUN_ID\n');
  process.exit(2);
}

const logger = createLogger({ level: 'warn', destination: 2 });
const store = await openStore({ databaseUrl, logger });
const writer = createBatchWriter(store, eventsTable, {
  logger,
  batchSize: mode === 'ack' ? 200 : 500,
  // In "term" mode only size and the signal flush: a partial batch is always pending.
  flushIntervalMs: mode === 'ack' ? 20 : 60_000,
  maxBuffered: 2000,
});
if (mode === 'term') flushOnSignals([writer], logger, { afterFlush: () => store.close() });

const base = Date.parse('2026-02-01T00:00:00Z');
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const event: PortEvent = {
    id: eventId(run, i),
    time: new Date(base + i * 10),
    kind: 'cargo_movement',
    phase: 'instant',
    camera: 'cam-crash',
    zone: 'yard-1',
    details: { i },
  };
  if (writer.full) await writer.ready();
  let committed;
  try {
    committed = writer.write(event);
  } catch (err) {
    if (err instanceof WriterClosedError) break; // shutting down: stop producing
    throw err;
  }
  if (mode === 'term') process.stdout.write(`accepted ${event.id}\n`);
  else void committed.then((r) => r.ok && process.stdout.write(`ack ${event.id}\n`));
  // Let commits be printed and signals be handled between rows.
  if (i % 50 === 49) await new Promise((r) => setImmediate(r));
}
