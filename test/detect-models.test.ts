import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '../pipeline/events/types.js';
import { silentLogger } from '../pipeline/log/index.js';
import { type Detection, Detector, iou, loadManifest, manifestPath, parseManifest, readJpegFile, rgbFrame, type RgbImage } from '../pipeline/detect/index.js';

/**
 * The converted COCO models on real photos (test/fixtures/images, see SOURCE
 * there). Expected boxes were drawn by eye on each image with a 50 px grid
 * overlay, not taken from any model output; a detection matches when its
 * class is one of `classes` and IoU ≥ 0.5.
 */
interface Expected {
  classes: string[];
  box: Box;
  what: string;
}
const IMAGES: Record<string, Expected[]> = {
  'person.jpg': [
    { classes: ['person'], box: [190, 98, 273, 375], what: 'the man in the blue jacket' },
    { classes: ['dog'], box: [63, 262, 202, 345], what: 'the black dog' },
    // Small COCO models often call a grazing white horse a cow or sheep; the box must still be right.
    { classes: ['horse', 'cow', 'sheep'], box: [405, 138, 601, 346], what: 'the white horse' },
  ],
  'dog.jpg': [
    { classes: ['dog'], box: [132, 219, 310, 540], what: 'the sitting dog' },
    { classes: ['bicycle'], box: [124, 137, 567, 420], what: 'the red bicycle' },
    { classes: ['truck', 'car'], box: [465, 73, 692, 170], what: 'the white pickup' },
  ],
  'vtest-40s.jpg': [
    { classes: ['person'], box: [273, 200, 301, 286], what: 'man walking, centre left' },
    { classes: ['person'], box: [687, 300, 744, 412], what: 'man walking, lower right' },
    { classes: ['person'], box: [589, 140, 617, 204], what: 'man far back, right' },
  ],
  'licenseplate_motion.jpg': [{ classes: ['car'], box: [0, 20, 600, 400], what: 'the blurred car filling the frame' }],
};
/**
 * Objects also in the picture (drawn by eye the same way) that a model may or
 * may not report: a confident detection of one of these is not a false hit.
 */
const ALSO_THERE: Record<string, Expected[]> = {
  'vtest-40s.jpg': [
    { classes: ['car', 'truck'], box: [652, 44, 723, 100], what: 'white van parked, top right' },
    { classes: ['car'], box: [734, 48, 768, 92], what: 'blue car cut by the right edge' },
  ],
};
/** Thresholds low enough for every expected object; CenterNet scores its hits lower than NanoDet. */
const THRESHOLD: Record<string, number> = { centernet: 0.25, nanodet: 0.3 };
/** Any detection this sure of itself must be one of the expected objects. */
const CONFIDENT = 0.6;

const fixture = (name: string) => `test/fixtures/images/${name}`;
const images = new Map<string, RgbImage>();
const detectors = new Map<string, Detector>();

beforeAll(async () => {
  for (const name of Object.keys(IMAGES)) images.set(name, await readJpegFile(fixture(name)));
  for (const model of ['centernet', 'nanodet']) {
    detectors.set(model, await Detector.load(manifestPath(model), { logger: silentLogger(), maxBatch: 4, intraOpNumThreads: 1 }));
  }
});
afterAll(async () => {
  for (const d of detectors.values()) await d.release();
});

function expectFound(found: Detection[], expected: Expected[], label: string): void {
  for (const e of expected) {
    const best = Math.max(0, ...found.filter((d) => e.classes.includes(d.class)).map((d) => iou(d.box, e.box)));
    expect(best, `${label}: ${e.what} (${e.classes.join('/')}) ${JSON.stringify(found.map((d) => [d.class, d.score.toFixed(2), d.box.map(Math.round)]))}`).toBeGreaterThanOrEqual(0.5);
  }
}

describe.each(['centernet', 'nanodet'])('%s on real images', (model) => {
  const results = new Map<string, Detection[]>();

  beforeAll(async () => {
    const names = Object.keys(IMAGES);
    // One batched call for all four images: batching must not mix items up.
    const outcomes = await detectors.get(model)!.detectBatch(names.map((n) => ({ image: images.get(n)!, threshold: THRESHOLD[model] })));
    outcomes.forEach((o, i) => {
      if (!o.ok) throw o.error;
      results.set(names[i]!, o.detections);
    });
  });

  it.each(Object.keys(IMAGES))('%s: expected objects where they are, nothing confident elsewhere', (name) => {
    const found = results.get(name)!;
    expectFound(found, IMAGES[name]!, `${model} ${name}`);
    for (const d of found.filter((x) => x.score >= CONFIDENT)) {
      const matched = [...IMAGES[name]!, ...(ALSO_THERE[name] ?? [])].some((e) => e.classes.includes(d.class) && iou(d.box, e.box) >= 0.5);
      expect(matched, `${model} ${name}: confident ${d.class} ${d.score.toFixed(2)} at ${d.box.map(Math.round)} matches nothing expected`).toBe(true);
    }
    for (const d of found) {
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(images.get(name)!.width);
      expect(d.score).toBeGreaterThanOrEqual(THRESHOLD[model]!);
    }
  });

  it('a single-image run gives the same detections as the batched run', async () => {
    const single = await detectors.get(model)!.detect({ image: images.get('person.jpg')!, threshold: THRESHOLD[model] });
    const batched = results.get('person.jpg')!;
    expect(single.map((d) => d.class)).toEqual(batched.map((d) => d.class));
    single.forEach((d, i) => {
      expect(d.score).toBeCloseTo(batched[i]!.score, 3);
      d.box.forEach((v, k) => expect(v).toBeCloseTo(batched[i]!.box[k]!, 1));
    });
  });

  it('a region (motion crop) finds the horse and maps its box back to source pixels', async () => {
    const found = await detectors.get(model)!.detect({ image: images.get('person.jpg')!, region: [360, 100, 640, 400], threshold: THRESHOLD[model] });
    expectFound(found, [IMAGES['person.jpg']![2]!], `${model} region`);
    for (const d of found) expect(d.box[0]).toBeGreaterThanOrEqual(360);
  });

  it('the same region cut out and sent as a crop gives the same detections (at its own size when the model takes any)', async () => {
    const detector = detectors.get(model)!;
    const image = images.get('person.jpg')!;
    const [x1, y1, x2, y2] = [360, 100, 640, 400];
    const data = new Uint8Array((x2 - x1) * (y2 - y1) * 3);
    for (let y = y1; y < y2; y++) data.set(image.data.subarray((y * image.width + x1) * 3, (y * image.width + x2) * 3), (y - y1) * (x2 - x1) * 3);
    const crop = { width: x2 - x1, height: y2 - y1, data };
    const inFrame = await detector.detect({ image, region: [x1, y1, x2, y2], threshold: THRESHOLD[model] });
    const cut = await detector.detect({ image: crop, crop: true, threshold: THRESHOLD[model] });
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.map((d) => d.class)).toEqual(inFrame.map((d) => d.class));
    cut.forEach((d, i) => {
      expect(d.score).toBeCloseTo(inFrame[i]!.score, 3);
      d.box.forEach((v, k) => expect(v + (k % 2 === 0 ? x1 : y1)).toBeCloseTo(inFrame[i]!.box[k]!, 1));
    });
    if (detector.takesAnySize) {
      // Without the flag the crop counts as a whole image: the model's own 416×416 input, other scores.
      const whole = await detector.detect({ image: crop, threshold: THRESHOLD[model] });
      expect(whole.map((d) => d.score)).not.toEqual(cut.map((d) => d.score));
    }
  });

  it('the class allow-list keeps only the asked classes', async () => {
    const found = await detectors.get(model)!.detect({ image: images.get('dog.jpg')!, threshold: THRESHOLD[model], classes: ['dog'] });
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((d) => d.class))).toEqual(new Set(['dog']));
  });
});

describe('input paths', () => {
  it('a raw RGB24 frame from ffmpeg detects the same people as the decoded JPEG', async () => {
    // What a camera worker receives: ffmpeg -f rawvideo -pix_fmt rgb24.
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', fixture('vtest-40s.jpg'), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 8 << 20 });
    const frame = rgbFrame(768, 576, raw);
    const found = await detectors.get('nanodet')!.detect({ image: frame, threshold: THRESHOLD.nanodet });
    expectFound(found, IMAGES['vtest-40s.jpg']!, 'nanodet rgb24');
  });

  it('letterbox instead of stretch still puts the boxes where they belong (un-mapping the padding)', async () => {
    const manifest = await loadManifest(manifestPath('centernet'));
    const letterboxed = parseManifest({ ...manifest, input: { ...manifest.input, resize: 'letterbox' } });
    const detector = await Detector.create(letterboxed, await readFile('models/centernet.onnx'), { logger: silentLogger() });
    try {
      // person.jpg is 640x424: letterboxing adds 86 px bars top and bottom; a missed un-mapping would shift every box.
      const found = await detector.detect({ image: images.get('person.jpg')!, threshold: 0.25 });
      expectFound(found, IMAGES['person.jpg']!.slice(0, 2), 'centernet letterbox');
    } finally {
      await detector.release();
    }
  });
});
