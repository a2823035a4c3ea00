import { aisWorker } from './ais-worker.js';
import { apiWorker } from './api-worker.js';
import { alertsWorker } from './alerts-worker.js';
import { cameraWorker } from './camera-worker.js';
import { dispatchWorker } from './dispatch-worker.js';
import type { WorkerKind } from './worker-context.js';

/**
 * Every worker kind, one line each, in start order (`portwatch run` starts the
 * wanted ones in this order and stops them in reverse). A new kind: a file
 * exporting a WorkerKind, one line here.
 */
export const WORKER_KINDS: readonly WorkerKind[] = [
  cameraWorker,
  aisWorker,
  alertsWorker,
  dispatchWorker,
  apiWorker,
];

export function workerKind(name: string): WorkerKind {
  const kind = WORKER_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`unknown worker kind "${name}": one of ${WORKER_KINDS.map((k) => k.name).join(', ')}`);
  return kind;
}
