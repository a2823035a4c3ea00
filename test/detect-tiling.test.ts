// Small regions are cheap two ways. A fixed-size model (CenterNet) tiles them:
// up to four share one inference, each in a quarter of the input, and every
// detection goes back to its own request. A model that takes any size
// (NanoDet, size_multiple 32) runs each region at its own size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '../pipeline/events/types.js';
import { silentLogger } from '../pipeline/log/index.js';
import { type DetectRequest, Detector, iou, loadManifest, manifestPath, readJpegFile, type RgbImage } from '../pipeline/detect/index.js';
import { sizeForRegion } from '../pipeline/detect/preprocess.js';

// People in opencv-doc's vtest frame at 40 s, boxes drawn by eye (as in detect-models.test.ts).
const PEOPLE: Box[] = [
  [273, 200, 301, 286],
  [687, 300, 744, 412],
  [589, 140, 617, 204],
];
const SIDE = 200; // fits a quarter of both models' inputs (NanoDet 208, CenterNet 256)

/** A SIDE×SIDE window round the box's centre, kept inside the image. */
function windowRound(b: Box, img: RgbImage): Box {
  const cx = Math.round((b[0] + b[2]) / 2);
  const cy = Math.round((b[1] + b[3]) / 2);
  const x1 = Math.min(Math.max(0, cx - SIDE / 2), img.width - SIDE);
  const y1 = Math.min(Math.max(0, cy - SIDE / 2), img.height - SIDE);
  return [x1, y1, x1 + SIDE, y1 + SIDE];
}

for (const model of ['centernet'] as const) {
  describe(`${model}: tiled regions`, () => {
    let image: RgbImage;
    let tiled: Detector;
    let plain: Detector;
    let requests: DetectRequest[];
    beforeAll(async () => {
      image = await readJpegFile('test/fixtures/images/vtest-40s.jpg');
      tiled = await Detector.load(manifestPath(model), { logger: silentLogger(), maxBatch: 4 });
      plain = await Detector.load(manifestPath(model), { logger: silentLogger(), maxBatch: 4, tiling: false });
      const threshold = model === 'centernet' ? 0.25 : 0.3;
      requests = [
        ...PEOPLE.map((p) => ({ image, region: windowRound(p, image), threshold, classes: ['person'] })),
        // Top left: the shop front, nobody there.
        { image, region: [0, 0, SIDE, SIDE] as Box, threshold, classes: ['person'] },
      ];
    }, 60_000);
    afterAll(async () => {
      await tiled?.release();
      await plain?.release();
    });

    it('runs four small regions as one batch item and finds each person in its own region', async () => {
      const outcomes = await tiled.detectBatch(requests);
      expect(tiled.stats).toEqual({ runs: 1, slots: 1, tiledRequests: 4 });
      PEOPLE.forEach((person, k) => {
        const o = outcomes[k]!;
        if (!o.ok) throw o.error;
        const best = Math.max(0, ...o.detections.map((d) => iou(d.box, person)));
        expect(best, `person ${k} in region ${k}`).toBeGreaterThanOrEqual(0.5);
        // Boxes come back in source pixels inside the request's own region.
        const r = requests[k]!.region!;
        for (const d of o.detections) expect(d.box[0] >= r[0] && d.box[1] >= r[1] && d.box[2] <= r[2] && d.box[3] <= r[3]).toBe(true);
      });
      const empty = outcomes[3]!;
      expect(empty.ok && empty.detections.filter((d) => d.score >= 0.5)).toEqual([]);
    });

    it('finds what one-region-per-run finds, for a quarter of the runs', async () => {
      const outcomes = await plain.detectBatch(requests);
      expect(plain.stats.slots).toBe(4);
      expect(plain.stats.tiledRequests).toBe(0);
      const together = await tiled.detectBatch(requests);
      PEOPLE.forEach((person, k) => {
        const alone = outcomes[k]!;
        const shared = together[k]!;
        if (!alone.ok || !shared.ok) throw new Error('a request failed');
        expect(Math.max(0, ...alone.detections.map((d) => iou(d.box, person)))).toBeGreaterThanOrEqual(0.5);
        // Each confident hit of the lone run has a twin in the shared run.
        for (const d of alone.detections.filter((x) => x.score >= 0.5)) {
          expect(Math.max(0, ...shared.detections.map((e) => iou(e.box, d.box))), `region ${k}: ${d.class} ${d.score.toFixed(2)}`).toBeGreaterThanOrEqual(0.5);
        }
      });
    });

    it('gives a lone small region the whole input, and a big one a slot of its own', async () => {
      const before = { ...tiled.stats };
      await tiled.detectBatch([requests[0]!]);
      await tiled.detectBatch([requests[0]!, { image, threshold: 0.3 }, requests[1]!]);
      expect(tiled.stats.tiledRequests - before.tiledRequests).toBe(2); // the two small ones of the second call
      expect(tiled.stats.slots - before.slots).toBe(1 + 2);
    });
  });
}

describe('nanodet: regions at their own size', () => {
  let image: RgbImage;
  let detector: Detector;
  beforeAll(async () => {
    image = await readJpegFile('test/fixtures/images/vtest-40s.jpg');
    detector = await Detector.load(manifestPath('nanodet'), { logger: silentLogger(), maxBatch: 4 });
  }, 60_000);
  afterAll(async () => {
    await detector?.release();
  });

  it('sizes the input from the region: never enlarged, shrunk only to the reference pixel count, multiples of 32', async () => {
    const input = (await loadManifest(manifestPath('nanodet'))).input as Parameters<typeof sizeForRegion>[1];
    expect(input.size_multiple).toBe(32);
    expect(sizeForRegion([0, 0, 200, 200], input)).toMatchObject({ width: 224, height: 224, scale: 1 });
    expect(sizeForRegion([10, 20, 60, 50], input)).toMatchObject({ width: 64, height: 32, scale: 1 });
    // A whole 640×360 frame: 416² = 173,056 pixels, scale √(173056 / 230400) ≈ 0.867 → 555 × 312.
    const whole = sizeForRegion([0, 0, 640, 360], input);
    expect(whole.scale).toBeCloseTo(0.8667, 3);
    expect(whole).toMatchObject({ width: 576, height: 320 });
  });

  it('runs four equal regions as one batch at 224×224 and finds each person in its own region', async () => {
    const requests: DetectRequest[] = PEOPLE.map((p) => ({ image, region: windowRound(p, image), threshold: 0.3, classes: ['person'] }));
    const before = { ...detector.stats };
    const outcomes = await detector.detectBatch(requests);
    expect(detector.stats.runs - before.runs).toBe(1);
    expect(detector.stats.slots - before.slots).toBe(3);
    expect(detector.stats.tiledRequests).toBe(0);
    PEOPLE.forEach((person, k) => {
      const o = outcomes[k]!;
      if (!o.ok) throw o.error;
      expect(Math.max(0, ...o.detections.map((d) => iou(d.box, person))), `person ${k}`).toBeGreaterThanOrEqual(0.5);
    });
  });

  it('batches only regions of the same size together', async () => {
    const before = { ...detector.stats };
    await detector.detectBatch([
      { image, region: [0, 0, 200, 200] },
      { image, region: [100, 100, 300, 300] },
      { image, region: [0, 0, 300, 200] },
    ]);
    expect(detector.stats.runs - before.runs).toBe(2); // 224×224 twice in one run, 320×224 alone
  });
});
