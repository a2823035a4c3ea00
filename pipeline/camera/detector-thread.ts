/**
 * Worker-thread side of ThreadedDetector: one detector session in its own
 * thread. onnxruntime-node runs an inference on the calling thread (measured:
 * the event loop is blocked for the whole ~90 ms run), so a camera process
 * keeps its main loop for ingest, motion, health and leases, and a second
 * session in a second thread uses a second core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadDetector, type DetectRequest } from '../detect/index.js';
import { silentLogger } from '../log/index.js';
import type { ThreadRequest, ThreadReply, ThreadInit } from './threaded-detector.js';

const port = parentPort;
if (!port) throw new Error('detector-thread.ts runs as a worker thread (ThreadedDetector starts it)');
const init = workerData as ThreadInit;
const detector = await loadDetector(init.model, { logger: silentLogger(), maxBatch: init.maxBatch, ...(init.modelsDir ? { modelsDir: init.modelsDir } : {}) });
port.postMessage({ type: 'ready', labels: [...detector.labels], maxBatch: detector.maxBatch, name: detector.name, takesAnySize: detector.takesAnySize } satisfies ThreadReply);

port.on('message', (msg: ThreadRequest) => {
  if (msg.type === 'close') {
    void detector.release().then(() => port.close());
    return;
  }
  const requests: DetectRequest[] = msg.items.map((i) => ({
    image: { width: i.width, height: i.height, data: new Uint8Array(i.data) },
    ...(i.region ? { region: i.region } : {}),
    ...(i.threshold !== undefined ? { threshold: i.threshold } : {}),
    ...(i.classes ? { classes: i.classes } : {}),
    ...(i.crop ? { crop: true } : {}),
  }));
  detector.detectBatch(requests).then(
    (outcomes) =>
      port.postMessage({
        type: 'result',
        id: msg.id,
        outcomes: outcomes.map((o) => (o.ok ? { ok: true as const, detections: o.detections } : { ok: false as const, error: o.error.message })),
      } satisfies ThreadReply),
    (err: Error) => port.postMessage({ type: 'result', id: msg.id, error: err.message } satisfies ThreadReply),
  );
});
