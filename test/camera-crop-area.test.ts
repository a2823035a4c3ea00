// Where the detector looks on real footage: with a model that takes any size,
// never beyond the watch area (zones plus margin) and never the whole frame;
// with the same camera treated as fixed-size, whole frames happen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeClip, DetectorPool, watchArea, type CameraDetector, type CameraSpec } from '../pipeline/camera/index.js';
import { BatchDetector, type Detector, loadDetector } from '../pipeline/detect/index.js';
import type { Box } from '../pipeline/events/types.js';
import { silentLogger } from '../pipeline/log/index.js';
import { WEST_PATH } from './helpers/vtest-zone.js';

const CLIP = 'test/fixtures/video/vtest-640x480.mp4';
const camera: CameraSpec = {
  id: 'path-cam',
  streams: { main: CLIP },
  detect: { fps: 2, width: 640, height: 480 },
  // The left part of the footpath, as in the analyze test.
  zones: [WEST_PATH],
  tripwires: [],
  masks: [],
};

/** `anySize` undefined: the analyser asks the detector. */
async function regions(detector: CameraDetector, labels: readonly string[], anySize?: boolean): Promise<Array<{ region: Box; full: boolean }>> {
  const seen: Array<{ region: Box; full: boolean }> = [];
  for await (const _ of analyzeClip(CLIP, {
    camera,
    timeZone: 'UTC',
    detector,
    labels,
    ...(anySize === undefined ? {} : { anySizeDetector: anySize }),
    durationS: 30,
    onFrame: (f) => {
      if (f.detectorRan && f.region) seen.push({ region: f.region, full: f.fullFrame });
    },
  })) {
    // events are not what this test is about
  }
  return seen;
}

describe('detector crops on real footage', () => {
  let detector: Detector;
  beforeAll(async () => {
    detector = await loadDetector('nanodet', { logger: silentLogger(), maxBatch: 1 });
  }, 60_000);
  afterAll(async () => {
    await detector?.release();
  });

  it('a model that takes any size looks only inside the watch area', async () => {
    expect(detector.takesAnySize).toBe(true);
    // As a worker wires it: the session behind a batcher behind a pool, nothing told to the analyser.
    const batcher = new BatchDetector(detector, { logger: silentLogger() });
    const pool = new DetectorPool([batcher]);
    expect(pool.takesAnySize).toBe(true);
    const area = watchArea(camera, 640, 480, 0.25)!;
    const seen = await regions(pool, detector.labels);
    await batcher.close();
    expect(seen.length).toBeGreaterThan(10); // people walk through all along
    for (const { region, full } of seen) {
      expect(full).toBe(false);
      expect(region[0]).toBeGreaterThanOrEqual(Math.floor(area[0]));
      expect(region[1]).toBeGreaterThanOrEqual(Math.floor(area[1]));
      expect(region[2]).toBeLessThanOrEqual(Math.ceil(area[2]));
      expect(region[3]).toBeLessThanOrEqual(Math.ceil(area[3]));
    }
  }, 120_000);

  it('treated as fixed-size, the same camera runs whole frames when motion spreads', async () => {
    const seen = await regions(detector, detector.labels, false);
    expect(seen.some((s) => s.full)).toBe(true);
  }, 120_000);
});
