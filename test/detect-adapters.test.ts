import { describe, expect, it } from 'vitest';
import {
  type Box,
} from '../pipeline/events/types.js';
import {
  ManifestError,
  type OutputTensor,
  centernetDecoder,
  decoderFor,
  fillInput,
  iou,
  nanodetDecoder,
  nmsByClass,
  parseManifest,
  placeRegion,
  ssdDecoder,
  toSourceBox,
  yoloDecoder,
} from '../pipeline/detect/index.js';

const t = (dims: number[], data: number[] | Float32Array | BigInt64Array): OutputTensor => ({ dims, data: data instanceof Float32Array || data instanceof BigInt64Array ? data : Float32Array.from(data) });
const ctx = (over: Partial<{ item: number; inputWidth: number; inputHeight: number; numClasses: number; threshold: number }> = {}) => ({
  item: 0,
  inputWidth: 100,
  inputHeight: 100,
  numClasses: 2,
  threshold: 0.5,
  ...over,
});
const close = (a: Box, b: Box, digits = 4) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, digits));

const baseManifest = {
  name: 'tiny',
  file: 'tiny.onnx',
  sha256: 'a'.repeat(64),
  source: { package: 'test', version: '0', path: 'none', licence: 'MIT' },
  input: { name: 'images', shape: [-1, 3, 64, 64], layout: 'NCHW', colour: 'RGB', resize: 'letterbox', scale: 1 / 255 },
  output: { decoder: 'yolov8', names: ['output0'] },
  labels: ['person', 'truck'],
  default_threshold: 0.5,
};

describe('YOLO decoders', () => {
  // Rows: cx, cy, w, h, objectness, class0, class1
  const v5rows = [
    [50, 40, 20, 10, 0.9, 0.2, 0.8], // class 1, score 0.72, box [40,35,60,45]
    [10, 10, 4, 4, 0.3, 0.9, 0.9], // objectness too low
    [80, 20, 10, 30, 0.95, 0.9, 0.1], // class 0, score 0.855, box [75,5,85,35]
  ];
  const item2 = [
    [30, 30, 10, 10, 0.6, 0.5, 0.4], // score 0.3: dropped
    [0, 0, 0, 0, 0, 0, 0],
    [60, 60, 40, 20, 1, 0.1, 0.7], // class 1, 0.7, [40,50,80,70]
  ];

  it('v5 [N, boxes, 5+C]: objectness × best class, cxcywh → xyxy, per batch item', () => {
    const dec = yoloDecoder({ name: 'out', version: 'yolov5', boxFormat: 'cxcywh', normalized: false });
    const out = { out: t([2, 3, 7], [...v5rows.flat(), ...item2.flat()]) };
    const first = dec(out, ctx()).sort((a, b) => b.score - a.score);
    expect(first.map((d) => d.classIndex)).toEqual([0, 1]);
    expect(first[0]!.score).toBeCloseTo(0.855, 5);
    close(first[0]!.box, [75, 5, 85, 35]);
    expect(first[1]!.score).toBeCloseTo(0.72, 5);
    close(first[1]!.box, [40, 35, 60, 45]);
    const second = dec(out, ctx({ item: 1 }));
    expect(second).toHaveLength(1);
    expect(second[0]!.classIndex).toBe(1);
    close(second[0]!.box, [40, 50, 80, 70]);
  });

  it('v8 [N, 4+C, boxes] (attributes first) and the transposed export give the same detections', () => {
    const rows = [
      [50, 40, 20, 10, 0.2, 0.8],
      [10, 10, 4, 4, 0.3, 0.4],
      [80, 20, 10, 30, 0.9, 0.1],
    ];
    const attrsFirst: number[] = [];
    for (let a = 0; a < 6; a++) for (const r of rows) attrsFirst.push(r[a]!);
    const dec = yoloDecoder({ name: 'out', version: 'yolov8', boxFormat: 'cxcywh', normalized: false });
    const a = dec({ out: t([1, 6, 3], attrsFirst) }, ctx());
    const b = dec({ out: t([1, 3, 6], rows.flat()) }, ctx());
    expect(a).toEqual(b);
    expect(a.map((d) => [d.classIndex, d.score])).toEqual([
      [1, expect.closeTo(0.8, 5)],
      [0, expect.closeTo(0.9, 5)],
    ]);
    close(a[1]!.box, [75, 5, 85, 35]);
  });

  it('v8 with normalised boxes scales by the input size', () => {
    const dec = yoloDecoder({ name: 'out', version: 'yolov8', boxFormat: 'cxcywh', normalized: true });
    const [d] = dec({ out: t([1, 6, 1], [0.5, 0.25, 0.2, 0.1, 0.9, 0]) }, ctx({ inputWidth: 200, inputHeight: 100 }));
    close(d!.box, [80, 20, 120, 30]);
  });

  it('says which dimension is wrong when the label count does not fit the output', () => {
    const dec = yoloDecoder({ name: 'out', version: 'yolov8', boxFormat: 'cxcywh', normalized: false });
    expect(() => dec({ out: t([1, 7, 3], new Array(21).fill(0)) }, ctx())).toThrow(/\[1,7,3\].*2 labels need a dimension of 6/);
    expect(() => dec({}, ctx())).toThrow(/no output "out"/);
  });
});

describe('SSD decoder', () => {
  it('reads yxyx normalised boxes, 1-based classes, and stops at num_detections', () => {
    const dec = ssdDecoder({ names: ['boxes', 'scores', 'classes', 'num'], boxFormat: 'yxyx', normalized: true, classIndexBase: 1 });
    const out = {
      boxes: t([1, 3, 4], [0.1, 0.2, 0.5, 0.6, 0, 0, 0.1, 0.1, 0.2, 0.2, 0.4, 0.4]),
      scores: t([1, 3], [0.9, 0.3, 0.99]),
      classes: t([1, 3], new BigInt64Array([2n, 1n, 1n])),
      num: t([1], [2]),
    };
    const found = dec(out, ctx({ inputWidth: 200, inputHeight: 100 }));
    // Row 3 scores highest but lies beyond num_detections; row 2 is under the threshold.
    expect(found).toHaveLength(1);
    expect(found[0]!.classIndex).toBe(1);
    close(found[0]!.box, [40, 10, 120, 50]);
  });

  it('without num_detections reads every row and rejects mismatched shapes', () => {
    const dec = ssdDecoder({ names: ['b', 's', 'c'], boxFormat: 'xyxy', normalized: false, classIndexBase: 0 });
    const found = dec({ b: t([1, 2, 4], [1, 2, 3, 4, 5, 6, 7, 8]), s: t([1, 2], [0.6, 0.7]), c: t([1, 2], [0, 1]) }, ctx());
    expect(found.map((d) => d.box)).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(() => dec({ b: t([1, 2, 4], new Array(8).fill(0)), s: t([1, 3], [0, 0, 0]), c: t([1, 2], [0, 0]) }, ctx())).toThrow(/"s" has shape \[1,3\], expected \[N, 2\]/);
  });
});

describe('CenterNet decoder', () => {
  it('reads [N, K, 6] rows as x1, y1, x2, y2, score, class', () => {
    const dec = centernetDecoder({ name: 'det', classIndexBase: 0 });
    const out = { det: t([2, 2, 6], [10, 20, 30, 40, 0.8, 1, 0, 0, 5, 5, 0.2, 0, /* item 1 */ 1, 1, 2, 2, 0.4, 0, 50, 60, 70, 80, 0.6, 0]) };
    expect(dec(out, ctx())).toEqual([{ classIndex: 1, score: expect.closeTo(0.8, 5), box: [10, 20, 30, 40] }]);
    expect(dec(out, ctx({ item: 1 }))).toEqual([{ classIndex: 0, score: expect.closeTo(0.6, 5), box: [50, 60, 70, 80] }]);
  });
});

describe('NanoDet decoder', () => {
  // 64x64 input, strides 8 and 16 → 8x8 = 64 and 4x4 = 16 cells; reg_max 3 → 4 bins per side.
  const bins = 4;
  function maps(cellsAt8: Record<number, { scores: number[]; logits: number[][] }>) {
    const s8 = new Float32Array(64 * 2);
    const d8 = new Float32Array(64 * 4 * bins);
    for (const [cell, v] of Object.entries(cellsAt8)) {
      s8.set(v.scores, Number(cell) * 2);
      d8.set(v.logits.flat(), Number(cell) * 4 * bins);
    }
    return {
      // Deliberately listed in a different order from the strides.
      d16: t([1, 16, 4 * bins], new Float32Array(16 * 4 * bins)),
      s8: t([1, 64, 2], s8),
      s16: t([1, 16, 2], new Float32Array(16 * 2)),
      d8: t([1, 64, 4 * bins], d8),
    };
  }
  const sharp = (bin: number) => [0, 1, 2, 3].map((j) => (j === bin ? 30 : 0));

  it('decodes distances as softmax expectation × stride from the cell centre', () => {
    const dec = nanodetDecoder({ names: ['d16', 's8', 's16', 'd8'], strides: [8, 16], regMax: 3, centerOffset: 0.5 });
    // Cell 9 at stride 8 is column 1, row 1: centre (12, 12).
    // left bin 1 → 8, top bin 0 → 0, right bin 2 → 16, bottom: uniform logits → expectation 1.5 → 12.
    const out = maps({ 9: { scores: [0.1, 0.8], logits: [sharp(1), sharp(0), sharp(2), [0, 0, 0, 0]] } });
    const found = dec(out, ctx({ inputWidth: 64, inputHeight: 64 }));
    expect(found).toHaveLength(1);
    expect(found[0]!.classIndex).toBe(1);
    expect(found[0]!.score).toBeCloseTo(0.8, 5);
    close(found[0]!.box, [4, 12, 28, 24]);
  });

  it('keeps every class over the threshold at a cell (multi-label, as GFL does before NMS)', () => {
    const dec = nanodetDecoder({ names: ['d16', 's8', 's16', 'd8'], strides: [8, 16], regMax: 3, centerOffset: 0 });
    const out = maps({ 10: { scores: [0.7, 0.6], logits: [sharp(1), sharp(1), sharp(1), sharp(1)] } });
    // centre offset 0: cell 10 is column 2, row 1 → centre (16, 8); all sides 8.
    const found = dec(out, ctx({ inputWidth: 64, inputHeight: 64 }));
    expect(found.map((d) => d.classIndex).sort()).toEqual([0, 1]);
    close(found[0]!.box, [8, 0, 24, 16]);
  });

  it('reads each run\'s own tensors when one decoder instance is reused', () => {
    const dec = nanodetDecoder({ names: ['d16', 's8', 's16', 'd8'], strides: [8, 16], regMax: 3, centerOffset: 0.5 });
    const logits = [sharp(1), sharp(1), sharp(1), sharp(1)];
    const first = dec(maps({ 9: { scores: [0, 0.9], logits } }), ctx({ inputWidth: 64, inputHeight: 64 }));
    const second = dec(maps({ 18: { scores: [0.9, 0], logits } }), ctx({ inputWidth: 64, inputHeight: 64 }));
    close(first[0]!.box, [4, 4, 20, 20]);
    // Cell 18 is column 2, row 2: centre (20, 20).
    expect(second.map((d) => d.classIndex)).toEqual([0]);
    close(second[0]!.box, [12, 12, 28, 28]);
  });

  it('names the expected shapes when outputs do not match the strides', () => {
    const dec = nanodetDecoder({ names: ['d16', 's8', 's16', 'd8'], strides: [8, 32], regMax: 3, centerOffset: 0.5 });
    expect(() => dec(maps({}), ctx({ inputWidth: 64, inputHeight: 64 }))).toThrow(/stride 32 needs outputs \[N, 4, 2\] and \[N, 4, 16\]/);
  });
});

describe('class-wise NMS', () => {
  it('suppresses overlapping boxes of one class only, highest score first', () => {
    const dets = [
      { classIndex: 0, score: 0.6, box: [0, 0, 10, 10] as Box },
      { classIndex: 0, score: 0.9, box: [1, 1, 11, 11] as Box }, // IoU with the first: 81/119 = 0.68
      { classIndex: 1, score: 0.5, box: [1, 1, 11, 11] as Box }, // other class: kept
      { classIndex: 0, score: 0.4, box: [20, 20, 30, 30] as Box }, // no overlap: kept
    ];
    expect(iou([0, 0, 10, 10], [1, 1, 11, 11])).toBeCloseTo(81 / 119, 6);
    const kept = nmsByClass(dets, 0.5);
    expect(kept.map((d) => [d.classIndex, d.score])).toEqual([
      [0, 0.9],
      [1, 0.5],
      [0, 0.4],
    ]);
    expect(nmsByClass(dets, 0.7)).toHaveLength(4);
    expect(nmsByClass(dets, 0.5, 2)).toHaveLength(2);
  });
});

describe('preprocessing and un-mapping', () => {
  const input = (over: Record<string, unknown>) => parseManifest({ ...baseManifest, input: { ...baseManifest.input, ...over } }).input;

  it('letterboxes a 640x424 image into 512x512: scale 0.8, 86 px bars top and bottom', () => {
    const p = placeRegion([0, 0, 640, 424], input({ shape: [1, 512, 512, 3], layout: 'NHWC' }));
    expect(p.padX).toBe(0);
    expect(p.padY).toBe(86); // content 339 px high: (512 - 339) / 2 = 86.5
    expect(p.scaleX).toBeCloseTo(0.8, 9);
    expect(p.scaleY).toBeCloseTo(339 / 424, 9);
    // A box drawn in model pixels maps back into source pixels by hand arithmetic.
    close(toSourceBox([80, 86 + 80, 240, 86 + 160], p), [100, 80 / (339 / 424), 300, 160 / (339 / 424)]);
  });

  it('stretch maps axes independently; regions offset the result and boxes are clipped to the region', () => {
    const stretch = input({ resize: 'stretch', shape: [1, 3, 100, 200] });
    const p = placeRegion([100, 50, 500, 250], stretch); // 400x200 region → 200x100: scale 0.5 both
    close(toSourceBox([10, 20, 30, 40], p), [120, 90, 160, 130]);
    close(toSourceBox([-10, -10, 250, 30], p), [100, 50, 500, 110]);
  });

  it('fills NCHW BGR with (pixel × scale − mean) / std, bilinear with half-pixel centres', () => {
    // 4x2 image: columns 0..3 have R = 0, 40, 80, 120; G = 10; B = 200.
    const image = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3) };
    for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) image.data.set([x * 40, 10, 200], (y * 4 + x) * 3);
    const inp = input({ shape: [1, 3, 2, 2], resize: 'stretch', colour: 'BGR', mean: [100, 0, 20], std: [2, 1, 4], scale: 1 });
    const target = new Float32Array(2 * 12).fill(-999);
    fillInput(image, [0, 0, 4, 2], inp, target, 1);
    expect(Array.from(target.subarray(0, 12))).toEqual(new Array(12).fill(-999)); // slot 0 untouched
    // Output column 0 samples source x = 0.5 (R = 20), column 1 samples x = 2.5 (R = 100).
    const b = (200 - 100) / 2;
    const g = 10;
    const r = [(20 - 20) / 4, (100 - 20) / 4];
    expect(Array.from(target.subarray(12))).toEqual([b, b, b, b, g, g, g, g, r[0], r[1], r[0], r[1]]);
  });

  it('letterbox pads with pad_value and copies a region pixel for pixel at scale 1', () => {
    const image = { width: 4, height: 2, data: new Uint8Array(24) };
    for (let i = 0; i < 8; i++) image.data.set([i * 10, i * 10 + 1, i * 10 + 2], i * 3);
    const inp = input({ shape: [1, 4, 2, 3], layout: 'NHWC', resize: 'letterbox', scale: 1, pad_value: 7 });
    const target = new Float32Array(4 * 2 * 3);
    // Region = right half (2x2) into 2 wide x 4 high: scale 1, one bar row above and below.
    const p = fillInput(image, [2, 0, 4, 2], inp, target, 0);
    expect(p.padY).toBe(1);
    expect(Array.from(target)).toEqual([7, 7, 7, 7, 7, 7, 20, 21, 22, 30, 31, 32, 60, 61, 62, 70, 71, 72, 7, 7, 7, 7, 7, 7]);
  });
});

describe('manifest', () => {
  it('fills defaults and builds the decoder it names', () => {
    const m = parseManifest({ ...baseManifest, output: { decoder: 'nanodet', names: ['a', 'b'] } });
    expect(m.input.mean).toEqual([0, 0, 0]);
    expect(m.input.pad_value).toBe(114);
    expect(m.output).toMatchObject({ strides: [8, 16, 32], reg_max: 10, center_offset: 0.5, nms_iou: 0.45 });
    expect(typeof decoderFor(m.output)).toBe('function');
  });

  it('reports every bad field with its path', () => {
    const bad = { ...baseManifest, sha256: 'xyz', input: { ...baseManifest.input, layout: 'NWHC', shape: [1, 4, 64, 64] }, output: { decoder: 'yolov9', names: ['o'] } };
    let error: unknown;
    try {
      parseManifest(bad, 'models/bad.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ManifestError);
    const msg = (error as Error).message;
    expect(msg).toMatch(/^models\/bad\.json: invalid model manifest/);
    expect(msg).toMatch(/sha256: 64 lower-case hex digits/);
    expect(msg).toMatch(/input\.layout/);
    expect(msg).toMatch(/output\.decoder/);
  });

  it('rejects a spatial dimension of -1 and a channel count other than 3', () => {
    expect(() => parseManifest({ ...baseManifest, input: { ...baseManifest.input, shape: [-1, 3, -1, 64] } })).toThrow(/input\.shape: height and width must be fixed/);
    expect(() => parseManifest({ ...baseManifest, input: { ...baseManifest.input, shape: [1, 1, 64, 64] } })).toThrow(/3 channels, got 1/);
  });
});
