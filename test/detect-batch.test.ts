import { Writable } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../pipeline/log/index.js';
import {
  BatchDetector,
  type BatchRunner,
  type DetectOutcome,
  type DetectRequest,
  DetectionDroppedError,
  Detector,
  ModelFileError,
  parseManifest,
  rgbFrame,
} from '../pipeline/detect/index.js';
import { tinyModel } from './detect-tiny-onnx.js';

/** A runner whose calls stay open until the test releases them, recording each batch. */
class GatedRunner implements BatchRunner {
  readonly name = 'gated';
  readonly batches: string[][] = [];
  private gates: (() => void)[] = [];
  constructor(
    readonly maxBatch: number,
    private readonly gated = false,
  ) {}
  async detectBatch(requests: readonly DetectRequest[]): Promise<DetectOutcome[]> {
    this.batches.push(requests.map(tag));
    if (this.gated) await new Promise<void>((r) => this.gates.push(r));
    return requests.map((r) => (tag(r) === 'bad' ? { ok: false, error: new Error('bad frame') } : { ok: true, detections: [{ class: tag(r), score: 1, box: [0, 0, 1, 1] }] }));
  }
  release(): void {
    this.gates.shift()?.();
  }
  get waiting(): number {
    return this.gates.length;
  }
}

const frame = (name: string): DetectRequest => ({ image: { width: 1, height: 1, data: new Uint8Array(3) }, classes: [name] });
const tag = (r: DetectRequest) => r.classes![0]!;
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
};

/** Lets the gated runs finish one at a time until the batcher has nothing queued or running. */
async function drain(runner: GatedRunner, batcher: BatchDetector): Promise<void> {
  for (;;) {
    await until(() => runner.waiting === 1 || batcher.stats().queued === 0);
    if (runner.waiting === 0) return;
    runner.release();
  }
}

describe('BatchDetector', () => {
  it('sends a batch as soon as maxBatch requests wait, without waiting for the timer', async () => {
    const runner = new GatedRunner(4);
    // A wait this long would time the test out if the size trigger did not fire.
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 600_000 });
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((n) => batcher.detect(frame(n))));
    expect(runner.batches).toEqual([['a', 'b', 'c', 'd']]);
    expect(results.map((r) => r[0]!.class)).toEqual(['a', 'b', 'c', 'd']);
    expect(batcher.stats()).toMatchObject({ submitted: 4, completed: 4, batches: 1, batchSizes: { 4: 1 }, dropped: 0 });
  });

  it('sends a partial batch when the oldest request has waited maxWaitMs', async () => {
    const runner = new GatedRunner(8);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 40 });
    const pending = ['a', 'b', 'c'].map((n) => batcher.detect(frame(n)));
    await new Promise((r) => setTimeout(r, 5));
    expect(runner.batches).toEqual([]); // not yet due
    await Promise.all(pending);
    expect(runner.batches).toEqual([['a', 'b', 'c']]);
  });

  it('gathers requests arriving during a run into the next batch, maxBatch at a time', async () => {
    const runner = new GatedRunner(4, true);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 0 });
    const first = batcher.detect(frame('a'));
    await until(() => runner.waiting === 1);
    const rest = ['b', 'c', 'd', 'e', 'f'].map((n) => batcher.detect(frame(n)));
    expect(batcher.stats().queued).toBe(5);
    runner.release();
    await first;
    await until(() => runner.waiting === 1);
    runner.release();
    await until(() => runner.waiting === 1);
    runner.release();
    await Promise.all(rest);
    expect(runner.batches).toEqual([['a'], ['b', 'c', 'd', 'e'], ['f']]);
  });

  it('drops the oldest waiting request when the queue is full, counts it and rejects it as dropped', async () => {
    const runner = new GatedRunner(2, true);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 0, maxQueue: 3 });
    const running = batcher.detect(frame('r'));
    await until(() => runner.waiting === 1);
    const settled = ['a', 'b', 'c', 'd', 'e'].map((n) => batcher.detect(frame(n)).then((d) => d[0]!.class, (e: unknown) => e));
    expect(batcher.stats()).toMatchObject({ queued: 3, dropped: 2 });
    runner.release();
    await until(() => runner.waiting === 1);
    runner.release();
    await until(() => runner.waiting === 1);
    runner.release();
    await running;
    const outcomes = await Promise.all(settled);
    expect(outcomes[0]).toBeInstanceOf(DetectionDroppedError);
    expect(outcomes[1]).toBeInstanceOf(DetectionDroppedError);
    expect((outcomes[0] as DetectionDroppedError).reason).toBe('queue_full');
    expect((outcomes[0] as Error).message).toMatch(/dropped/);
    expect(outcomes.slice(2)).toEqual(['c', 'd', 'e']);
    expect(runner.batches).toEqual([['r'], ['c', 'd'], ['e']]);
    expect(batcher.stats()).toMatchObject({ submitted: 6, completed: 4, dropped: 2 });
  });

  it('serves urgent requests (a frame that may start an alarm) ahead of those that waited less than the lead, in arrival order otherwise', async () => {
    const runner = new GatedRunner(2, true);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 0, urgentLeadMs: 60_000 });
    const running = batcher.detect(frame('r'));
    await until(() => runner.waiting === 1);
    const urgent = (name: string): DetectRequest => ({ ...frame(name), urgent: true });
    const all = [batcher.detect(frame('a')), batcher.detect(frame('b')), batcher.detect(urgent('u1')), batcher.detect(frame('c')), batcher.detect(urgent('u2'))];
    await drain(runner, batcher);
    await running;
    expect((await Promise.all(all)).map((d) => d[0]!.class)).toEqual(['a', 'b', 'u1', 'c', 'u2']);
    expect(runner.batches).toEqual([['r'], ['u1', 'u2'], ['a', 'b'], ['c']]);
    expect(batcher.stats()).toMatchObject({ submitted: 6, urgent: 2, completed: 6 });
  });

  it('serves a request that has waited longer than the urgent lead before a newer urgent one', async () => {
    const runner = new GatedRunner(1, true);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 0, urgentLeadMs: 30 });
    const running = batcher.detect(frame('r'));
    await until(() => runner.waiting === 1);
    const old = batcher.detect(frame('old'));
    await new Promise((r) => setTimeout(r, 80));
    const late = batcher.detect({ ...frame('late'), urgent: true });
    await drain(runner, batcher);
    await Promise.all([running, old, late]);
    expect(runner.batches).toEqual([['r'], ['old'], ['late']]);
  });

  it('drops the oldest request that is not urgent when the queue is full', async () => {
    const runner = new GatedRunner(4, true);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 0, maxQueue: 4 });
    const running = batcher.detect(frame('r'));
    await until(() => runner.waiting === 1);
    const settled = [{ ...frame('u'), urgent: true }, frame('a'), frame('b'), frame('c'), frame('d')].map((f) => batcher.detect(f).then((d) => d[0]!.class, (e: unknown) => e));
    expect(batcher.stats()).toMatchObject({ queued: 4, dropped: 1 });
    await drain(runner, batcher);
    await running;
    const outcomes = await Promise.all(settled);
    expect(outcomes[1]).toBeInstanceOf(DetectionDroppedError);
    expect([outcomes[0], ...outcomes.slice(2)]).toEqual(['u', 'b', 'c', 'd']);
  });

  it("a newer frame of the same camera takes the place in line of the one it superseded, which is dropped as 'superseded'", async () => {
    const runner = new GatedRunner(1, true);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 0 });
    const running = batcher.detect(frame('r'));
    await until(() => runner.waiting === 1);
    const old = new AbortController();
    const stale = batcher.detect({ ...frame('cam1-old'), source: 'cam1', signal: old.signal }).catch((e: unknown) => e);
    const other = batcher.detect({ ...frame('cam2'), source: 'cam2' });
    old.abort();
    const outcome = await stale;
    expect(outcome).toBeInstanceOf(DetectionDroppedError);
    expect((outcome as DetectionDroppedError).reason).toBe('superseded');
    // cam1's next frame arrives after cam2's, and is served before it: it kept cam1's place.
    const fresh = batcher.detect({ ...frame('cam1-new'), source: 'cam1' });
    // A request already aborted never queues.
    await expect(batcher.detect({ ...frame('cam3'), source: 'cam3', signal: AbortSignal.abort() })).rejects.toMatchObject({ reason: 'superseded' });
    await drain(runner, batcher);
    await Promise.all([running, other, fresh]);
    expect(runner.batches).toEqual([['r'], ['cam1-new'], ['cam2']]);
    expect(batcher.stats()).toMatchObject({ superseded: 2, completed: 3 });
  });

  it('a frame aborted once it runs is not dropped', async () => {
    const runner = new GatedRunner(1, true);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 0 });
    const ac = new AbortController();
    const running = batcher.detect({ ...frame('a'), source: 'cam1', signal: ac.signal });
    await until(() => runner.waiting === 1);
    ac.abort();
    runner.release();
    expect((await running)[0]!.class).toBe('a');
    expect(batcher.stats()).toMatchObject({ superseded: 0, completed: 1 });
  });

  it('fails only the request whose item failed; close() runs what is queued, then refuses', async () => {
    const runner = new GatedRunner(4);
    const batcher = new BatchDetector(runner, { logger: silentLogger(), maxWaitMs: 600_000 });
    const good = batcher.detect(frame('a'));
    const bad = batcher.detect(frame('bad'));
    await batcher.close();
    await expect(good).resolves.toHaveLength(1);
    await expect(bad).rejects.toThrow('bad frame');
    await expect(batcher.detect(frame('late'))).rejects.toMatchObject({ reason: 'closed' });
    expect(batcher.stats()).toMatchObject({ completed: 1, failed: 1 });
  });
});

// Tiny real ONNX models: out[n] = mean(image[n]) * weight + bias, YOLOv8 layout [N, 4+C, boxes].
const C = 2;
const BOXES = 3;
function yoloV8Tiny(batch: number, reshapeToOne = false): Uint8Array {
  const weight = new Float32Array((4 + C) * BOXES);
  const bias = new Float32Array((4 + C) * BOXES);
  // Box 0: centre (32, 32), 20 x 10 input pixels; its "truck" score = 0.9 × mean brightness.
  bias.set([32], 0 * BOXES);
  bias.set([32], 1 * BOXES);
  bias.set([20], 2 * BOXES);
  bias.set([10], 3 * BOXES);
  weight[(4 + 1) * BOXES + 0] = 0.9;
  return tinyModel({ inputName: 'images', inputShape: [batch, 3, 64, 64], outputName: 'output0', outputDims: [4 + C, BOXES], weight, bias, reshapeToOne });
}
const manifest = (batch: number) =>
  parseManifest({
    name: 'tiny',
    file: 'tiny.onnx',
    sha256: 'a'.repeat(64),
    source: { package: 'test', version: '0', path: 'generated', licence: 'MIT' },
    input: { name: 'images', shape: [batch, 3, 64, 64], layout: 'NCHW', colour: 'RGB', resize: 'letterbox', scale: 1 / 255, pad_value: 114 },
    output: { decoder: 'yolov8', names: ['output0'] },
    labels: ['person', 'truck'],
    default_threshold: 0.5,
  });
const solid = (w: number, h: number, v: number) => rgbFrame(w, h, new Uint8Array(w * h * 3).fill(v));

describe('Detector on a real onnxruntime session', () => {
  // 128x64 frame letterboxed into 64x64: scale 0.5, content 64x32, 16 px bars of 114.
  // White frame: mean = (0.5 × 255 + 0.5 × 114) / 255 = 0.7235 → score 0.651; black: 0.5 × 114/255 × 0.9 = 0.201.
  // Box 0 in input pixels [22, 27, 42, 37] → source: x / 0.5, (y − 16) / 0.5 → [44, 22, 84, 42].
  const expectWhite = [{ class: 'truck', score: expect.closeTo(0.9 * (0.5 + (0.5 * 114) / 255), 4), box: [44, 22, 84, 42] }];

  it('runs a batch in one call and keeps items apart (dynamic batch)', async () => {
    const detector = await Detector.create(manifest(-1), yoloV8Tiny(-1), { logger: silentLogger(), maxBatch: 4 });
    expect(detector.batched).toBe(true);
    const out = await detector.detectBatch([
      { image: solid(128, 64, 255) },
      { image: solid(128, 64, 0) },
      { image: solid(128, 64, 255), classes: ['person'] },
      { image: rgbFrame(1, 1, new Uint8Array(3)), region: [5, 5, 9, 9] },
    ]);
    expect(out[0]).toEqual({ ok: true, detections: expectWhite });
    expect(out[1]).toEqual({ ok: true, detections: [] });
    expect(out[2]).toEqual({ ok: true, detections: [] }); // allow-list without trucks
    expect(out[3]).toEqual({ ok: true, detections: [] }); // region outside the image
    await expect(detector.detect({ image: solid(128, 64, 255), classes: ['crane'] })).rejects.toThrow(/class "crane" is not a label of model tiny/);
    await expect(detector.detect({ image: solid(128, 64, 255), threshold: 0.7 })).resolves.toEqual([]);
    await detector.release();
  });

  it('falls back to one item per run when the batch dimension is fixed at 1, and logs it', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    const detector = await Detector.create(manifest(1), yoloV8Tiny(1), { logger: createLogger({ destination: sink, level: 'info' }), maxBatch: 4 });
    expect(detector.batched).toBe(false);
    expect(lines.join('')).toMatch(/batch dimension fixed at 1, batches run one item at a time/);
    const batcher = new BatchDetector(detector, { logger: silentLogger(), maxWaitMs: 5 });
    const [white, black] = await Promise.all([batcher.detect({ image: solid(128, 64, 255) }), batcher.detect({ image: solid(128, 64, 0) })]);
    expect(white).toEqual(expectWhite);
    expect(black).toEqual([]);
    await batcher.close();
    await detector.release();
  });

  it('falls back to sequential runs when a "dynamic" model fails at batch > 1', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    // Input declared dynamic, but a Reshape inside the graph hard-codes batch 1.
    const detector = await Detector.create(manifest(-1), yoloV8Tiny(-1, true), { logger: createLogger({ destination: sink, level: 'info' }), maxBatch: 4 });
    expect(detector.batched).toBe(true);
    const out = await detector.detectBatch([{ image: solid(128, 64, 255) }, { image: solid(128, 64, 0) }]);
    expect(out).toEqual([
      { ok: true, detections: expectWhite },
      { ok: true, detections: [] },
    ]);
    expect(detector.batched).toBe(false);
    expect(lines.join('')).toMatch(/batched run failed, falling back to one item per run/);
    await detector.release();
  });

  it('feeds uint8 models raw pixels (dtype uint8), e.g. TF Object Detection API exports', async () => {
    const weight = new Float32Array((4 + C) * BOXES);
    const bias = new Float32Array((4 + C) * BOXES);
    bias.set([10, 0, 0, 20, 0, 0, 30, 0, 0, 40, 0, 0], 0); // box 0 as xyxy: [10, 20, 30, 40]
    weight[4 * BOXES] = 1 / 255; // "person" score = mean raw pixel / 255
    const model = tinyModel({ inputName: 'images', inputShape: [-1, 3, 64, 64], outputName: 'output0', outputDims: [4 + C, BOXES], weight, bias, inputType: 'uint8' });
    const m = manifest(-1);
    const u8 = parseManifest({ ...m, input: { ...m.input, dtype: 'uint8', scale: 1, resize: 'stretch' }, output: { decoder: 'yolov8', names: ['output0'], box_format: 'xyxy' } });
    const detector = await Detector.create(u8, model, { logger: silentLogger() });
    // Stretch 128x64 → 64x64: x / 0.5, y / 1. Mean of a 200-grey frame = 200 → score 200/255.
    await expect(detector.detect({ image: solid(128, 64, 200) })).resolves.toEqual([{ class: 'person', score: expect.closeTo(200 / 255, 4), box: [20, 20, 60, 40] }]);
    await detector.release();
  });

  describe('Detector.load', () => {
    let dir = '';
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('checks the sha256 and says how to rebuild; a missing .onnx says it is built by the bootstrap', async () => {
      dir = await mkdtemp(join(tmpdir(), 'portwatch-detect-'));
      const bytes = yoloV8Tiny(-1);
      const m = JSON.parse(JSON.stringify(manifest(-1)));
      m.sha256 = createHash('sha256').update(bytes).digest('hex');
      await writeFile(join(dir, 'tiny.json'), JSON.stringify(m));
      await expect(Detector.load(join(dir, 'tiny.json'), { logger: silentLogger() })).rejects.toThrow(/tiny\.onnx: model file missing.*bootstrap/);
      await writeFile(join(dir, 'tiny.onnx'), bytes);
      const detector = await Detector.load(join(dir, 'tiny.json'), { logger: silentLogger() });
      await expect(detector.detect({ image: solid(128, 64, 255) })).resolves.toEqual(expectWhite);
      await detector.release();
      await writeFile(join(dir, 'tiny.onnx'), Buffer.concat([Buffer.from(bytes), Buffer.from([0])]));
      const err = await Detector.load(join(dir, 'tiny.json'), { logger: silentLogger() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFileError);
      expect((err as Error).message).toMatch(/sha256 [0-9a-f]{64} does not match/);
    });
  });
});
