// The int8 NanoDet (scripts/models/quantize.ts) must find what the float one
// finds. Compared on real frames of the vtest clip that calibration did not
// see (it saw the first 30 s; these are 35–75 s), through the detector the
// camera pipeline uses, on whole frames and on crops at their own size.
// Measured here: all 128 of the float model's person detections found again
// (and 1 more), mean IoU 0.97, scores 0.013 apart on average (0.10 at worst).
// The conversion tests also run it on photographs unlike the footage.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuHasInt8Dot, int8Caveat, iou, loadDetector, type Detection, type Detector } from '../pipeline/detect/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import type { Box } from '../pipeline/events/types.js';
import { calibrationInputs, videoFrames } from '../scripts/models/calibration-frames.js';
import { calibrationTablePath, convertModel, MODELS_DIR } from '../scripts/models/convert.js';
import { activationTensors, calibrate, decodeModel, encodeModel, foldIntoConvolutions } from '../scripts/models/quantize.js';

const VTEST = join(import.meta.dirname, 'fixtures', 'video', 'vtest-640x480.mp4');
const frames = videoFrames(VTEST, { startS: 35, seconds: 40, everyS: 2.5 });

let float: Detector;
let int8: Detector;
beforeAll(async () => {
  float = await loadDetector('nanodet', { logger: silentLogger(), maxBatch: 1 });
  int8 = await loadDetector('nanodet-int8', { logger: silentLogger(), maxBatch: 1 });
}, 60_000);
afterAll(async () => {
  await float?.release();
  await int8?.release();
});

/** Greedy one-to-one matching by IoU ≥ 0.5, same class. */
function match(a: Detection[], b: Detection[]): Array<[Detection, Detection, number]> {
  const left = [...b];
  const pairs: Array<[Detection, Detection, number]> = [];
  for (const d of [...a].sort((x, y) => y.score - x.score)) {
    let best = -1;
    let bestIou = 0.5;
    left.forEach((e, i) => {
      const v = e.class === d.class ? iou(d.box, e.box) : 0;
      if (v >= bestIou) [best, bestIou] = [i, v];
    });
    if (best >= 0) pairs.push([d, left.splice(best, 1)[0]!, bestIou]);
  }
  return pairs;
}

describe('nanodet-int8 against nanodet', () => {
  it('finds the same people, in the same places, on frames calibration did not see', async () => {
    expect(frames.length).toBeGreaterThanOrEqual(15);
    let floatCount = 0;
    let int8Count = 0;
    const matched: Array<[Detection, Detection, number]> = [];
    for (const f of frames) {
      const crop: Box = [0, 60, 352, 316]; // the west footpath, where the test site's zone is
      const crops = { width: 352, height: 256, data: new Uint8Array(352 * 256 * 3) };
      for (let y = 0; y < 256; y++) crops.data.set(f.data.subarray(((crop[1] + y) * f.width) * 3, ((crop[1] + y) * f.width + 352) * 3), y * 352 * 3);
      for (const req of [{ image: f }, { image: crops, crop: true }]) {
        const a = await float.detect({ ...req, classes: ['person'] });
        const b = await int8.detect({ ...req, classes: ['person'] });
        floatCount += a.length;
        int8Count += b.length;
        matched.push(...match(a, b));
      }
    }
    expect(floatCount).toBeGreaterThan(40); // the clip is busy: agreement is not two empty lists
    const recall = matched.length / floatCount;
    const precision = matched.length / int8Count;
    const meanIou = matched.reduce((s, m) => s + m[2], 0) / matched.length;
    const scoreDiffs = matched.map(([a, b]) => Math.abs(a.score - b.score));
    const worstScore = Math.max(...scoreDiffs);
    const meanScore = scoreDiffs.reduce((s, d) => s + d, 0) / scoreDiffs.length;
    expect(recall, `recall ${recall}`).toBeGreaterThanOrEqual(0.95);
    expect(precision, `precision ${precision}`).toBeGreaterThanOrEqual(0.95);
    expect(meanIou, `mean IoU ${meanIou}`).toBeGreaterThanOrEqual(0.9);
    expect(meanScore, `mean score difference ${meanScore}`).toBeLessThan(0.03);
    expect(worstScore, `worst score difference ${worstScore}`).toBeLessThan(0.15);
  }, 60_000);

  it('is int8 inside: every convolution reads int8 weights and quantized activations', () => {
    const g = decodeModel(readFileSync(join(MODELS_DIR, 'nanodet-int8.onnx'))).graph;
    const byOut = new Map(g.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const convs = g.node.filter((n) => n.op_type === 'Conv');
    expect(convs.length).toBe(34);
    for (const c of convs) {
      expect(byOut.get(c.input[0]!)?.op_type, `${c.name} input`).toBe('DequantizeLinear');
      const w = byOut.get(c.input[1]!);
      expect(w?.op_type).toBe('DequantizeLinear');
      expect(g.initializer.find((t) => t.name === w!.input[0])?.data_type).toBe(3); // INT8
    }
    // The float weights are gone: the file is about a quarter of the float model's.
    const size = (f: string) => readFileSync(join(MODELS_DIR, f)).length;
    expect(size('nanodet-int8.onnx')).toBeLessThan(size('nanodet.onnx') / 3);
  });

  it('runs through onnxruntime as int8: the optimised graph holds QLinearConv', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-int8-'));
    try {
      const optimised = join(dir, 'opt.onnx');
      const s = await ort.InferenceSession.create(join(MODELS_DIR, 'nanodet-int8.onnx'), { graphOptimizationLevel: 'extended', optimizedModelFilePath: optimised });
      await s.release();
      const ops = decodeModel(readFileSync(optimised)).graph.node.map((n) => n.op_type);
      expect(ops.filter((o) => o === 'QLinearConv').length).toBeGreaterThanOrEqual(30);
      expect(ops).not.toContain('Conv');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('folding and calibration', () => {
  it('folding pads and biases into the convolutions changes no output', async () => {
    const bytes = readFileSync(join(MODELS_DIR, 'nanodet.onnx'));
    const model = decodeModel(bytes);
    const before = model.graph.node.length;
    const folded = foldIntoConvolutions(model.graph);
    expect(folded).toEqual({ pads: 28, biases: 34 });
    expect(model.graph.node.length).toBe(before - 62);
    const [input] = calibrationInputs(frames.slice(0, 1), JSON.parse(readFileSync(join(MODELS_DIR, 'nanodet.json'), 'utf8')).input);
    const run = async (b: Uint8Array) => {
      const s = await ort.InferenceSession.create(b, { graphOptimizationLevel: 'disabled' });
      try {
        return await s.run({ input_1: new ort.Tensor('float32', input!.data, input!.dims) });
      } finally {
        await s.release();
      }
    };
    const a = await run(bytes);
    const b = await run(encodeModel(model));
    for (const name of Object.keys(a)) {
      const x = a[name]!.data as Float32Array;
      const y = b[name]!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
      expect(worst, name).toBeLessThan(1e-4);
    }
  });

  it('calibration measures every activation, zero inside each range; the -inf max-pool padding stays unbounded', async () => {
    const model = decodeModel(readFileSync(join(MODELS_DIR, 'nanodet.onnx')));
    foldIntoConvolutions(model.graph);
    const inputs = calibrationInputs(frames.slice(0, 2), JSON.parse(readFileSync(join(MODELS_DIR, 'nanodet.json'), 'utf8')).input);
    expect(inputs.map((i) => i.dims)).toEqual([[1, 3, 320, 576], [1, 3, 256, 352], [1, 3, 320, 576], [1, 3, 256, 352]]);
    const ranges = await calibrate(model, inputs);
    expect(Object.keys(ranges).sort()).toEqual(activationTensors(model.graph).sort());
    const unbounded = Object.entries(ranges).filter(([, r]) => r[0] === null || r[1] === null).map(([k]) => k);
    expect(unbounded).toEqual(['PartitionedCall/PadV2']);
    for (const [name, [lo, hi]] of Object.entries(ranges)) {
      if (lo === null || hi === null) continue;
      expect(lo, name).toBeLessThanOrEqual(0);
      expect(hi, name).toBeGreaterThanOrEqual(0);
      expect(hi - lo, name).toBeGreaterThan(0);
    }
    // The committed table was made the same way, from more frames: its ranges hold these.
    const table = JSON.parse(readFileSync(calibrationTablePath('nanodet-int8'), 'utf8')) as { ranges: Record<string, [number | null, number | null]> };
    expect(Object.keys(table.ranges).sort()).toEqual(Object.keys(ranges).sort());
  }, 60_000);

  it('says how to make a missing calibration table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-int8-'));
    try {
      expect(() => convertModel('nanodet-int8', { outDir: dir, calibrationTable: join(dir, 'none.json') })).toThrow(/none\.json not found: make it with `node --import tsx scripts\/models\/convert\.ts --calibrate nanodet-int8`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a damaged calibration table', () => {
  it('is named with the reason and what to do, for broken JSON and for a bad range', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-int8-'));
    try {
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"model": "nanodet", "ranges": {');
      expect(() => convertModel('nanodet-int8', { outDir: dir, calibrationTable: broken })).toThrow(/broken\.json: not a calibration table \(.*JSON.*\); restore it from git or make it again with `node --import tsx scripts\/models\/convert\.ts --calibrate nanodet-int8`/);
      const badRange = join(dir, 'bad-range.json');
      writeFileSync(badRange, JSON.stringify({ model: 'nanodet', frames: 'x', ranges: { input_1: [-2, 'big'] } }));
      expect(() => convertModel('nanodet-int8', { outDir: dir, calibrationTable: badRange })).toThrow(/bad-range\.json: range "input_1" is not \[min, max\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('int8 on a CPU without VNNI', () => {
  const cpuinfo = (flags: string) => `processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: ${flags}\nbugs\t\t: spectre_v1\n`;
  it('reads the int8 dot-product flags from /proc/cpuinfo', () => {
    expect(cpuHasInt8Dot(cpuinfo('fpu sse2 avx2 avx512f avx512_vnni'))).toBe(true);
    expect(cpuHasInt8Dot(cpuinfo('fpu sse2 avx2 avx_vnni'))).toBe(true);
    expect(cpuHasInt8Dot('processor\t: 0\nFeatures\t: fp asimd asimddp\n')).toBe(true);
    expect(cpuHasInt8Dot(cpuinfo('fpu sse2 avx2 avx512f avx512bw'))).toBe(false);
    expect(cpuHasInt8Dot(null)).toBeNull();
    expect(cpuHasInt8Dot('nothing useful')).toBeNull();
  });

  it('warns for an int8 model there, and only there', () => {
    const int8 = JSON.parse(readFileSync(join(MODELS_DIR, 'nanodet-int8.json'), 'utf8'));
    const float = JSON.parse(readFileSync(join(MODELS_DIR, 'nanodet.json'), 'utf8'));
    expect(int8Caveat(int8, cpuinfo('avx2 avx512f'))).toMatch(/^model nanodet-int8 is int8 and this CPU has no VNNI: .*test\/model-quantize\.test\.ts/);
    expect(int8Caveat(int8, cpuinfo('avx2 avx512_vnni'))).toBeNull();
    expect(int8Caveat(int8, null)).toBeNull();
    expect(int8Caveat(float, cpuinfo('avx2'))).toBeNull();
  });
});
