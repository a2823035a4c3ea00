import { describe, expect, it } from 'vitest';
import { detectClasses, motionGrid, planDetection, unionBox } from '../pipeline/camera/index.js';

describe('where the detector looks (planDetection)', () => {
  it('no motion regions: the whole frame', () => {
    expect(planDetection([], 640, 480)).toEqual({ region: [0, 0, 640, 480], full: true });
  });

  it('one small region: a square crop round it, padded, at least 40 % of the short side', () => {
    // A person 20×50 at (300, 200): padded by 24 → 68×98, grown to the minimum side 192 and to a square.
    const p = planDetection([[300, 200, 320, 250]], 640, 480);
    expect(p.full).toBe(false);
    expect(p.region).toEqual([214, 129, 406, 321]);
    const [x1, y1, x2, y2] = p.region;
    expect(x2 - x1).toBe(192);
    expect(y2 - y1).toBe(192);
  });

  it('a crop near the border is shifted inside the frame, not cut', () => {
    const p = planDetection([[0, 0, 30, 40]], 640, 480);
    expect(p).toEqual({ region: [0, 0, 192, 192], full: false });
    const q = planDetection([[620, 440, 640, 480]], 640, 480);
    expect(q).toEqual({ region: [448, 288, 640, 480], full: false });
  });

  it('regions far apart: one crop of their union, or the whole frame when that union is large', () => {
    // Union 100..260 × 100..200 → padded by 24: 76..284 × 76..224 (208×148) → square 208.
    expect(planDetection([[100, 100, 120, 150], [240, 150, 260, 200]], 640, 480)).toEqual({ region: [76, 46, 284, 254], full: false });
    // People at both ends of the picture: union ~600 px wide → more than 45 % of the frame.
    expect(planDetection([[10, 100, 40, 180], [600, 300, 630, 380]], 640, 480)).toEqual({ region: [0, 0, 640, 480], full: true });
  });

  it('the model aspect is respected (a 16:9 model gets a 16:9 crop)', () => {
    const p = planDetection([[300, 200, 320, 250]], 1280, 720, { modelAspect: 16 / 9, minSide: 0.2 });
    const [x1, y1, x2, y2] = p.region;
    expect((x2 - x1) / (y2 - y1)).toBeCloseTo(16 / 9, 1);
  });

  it('a model that takes any size (modelAspect null): the crop keeps its own shape', () => {
    // Union 100..260 × 100..200, padded by 24 → 76..284 × 76..224 = 208 × 148; the height grows
    // to the minimum side (192), the width stays 208: not squared to 208 × 208 as for a fixed model.
    expect(planDetection([[100, 100, 120, 150], [240, 150, 260, 200]], 640, 480, { modelAspect: null })).toEqual({ region: [76, 54, 284, 246], full: false });
    // The minimum side still applies on each axis (context round a lone small object).
    expect(planDetection([[300, 200, 320, 250]], 640, 480, { modelAspect: null }).region).toEqual([214, 129, 406, 321]);
  });

  it('unionBox', () => {
    expect(unionBox([])).toBeNull();
    expect(unionBox([[5, 6, 7, 8], [1, 9, 3, 12]])).toEqual([1, 6, 7, 12]);
  });
});

describe('camera helpers', () => {
  it('motion grid: 160 wide, the frame aspect, even height', () => {
    expect(motionGrid(640, 480)).toEqual({ width: 160, height: 120 });
    expect(motionGrid(640, 360)).toEqual({ width: 160, height: 90 });
    expect(motionGrid(1920, 1080)).toEqual({ width: 160, height: 90 });
    expect(motionGrid(704, 576)).toEqual({ width: 160, height: 130 });
  });

  it('detector classes: what the zones and tripwires ask for, limited to what the model knows', () => {
    const zone = (kind: 'restricted' | 'cargo' | 'watch', classes: string[]) => ({ id: kind, kind, polygon: [[0, 0], [1, 0], [1, 1]] as [number, number][], classes, min_dwell_seconds: 0 });
    const labels = ['person', 'car', 'truck', 'boat'];
    expect(detectClasses({ zones: [zone('restricted', ['person']), zone('cargo', ['truck', 'container'])], tripwires: [] }, labels)).toEqual(['person', 'truck']);
    // Empty lists fall back to the zone kind's defaults (restricted → person, cargo → cargo classes).
    expect(detectClasses({ zones: [zone('restricted', [])], tripwires: [{ id: 'w', line: [[0, 0], [1, 1]], direction: 'both', classes: [] }] }, labels)).toEqual(['person', 'truck', 'car', 'boat']);
    // A watch zone without classes watches everything; no zones at all: nothing to detect.
    expect(detectClasses({ zones: [zone('watch', [])], tripwires: [] }, labels)).toBeNull();
    expect(detectClasses({ zones: [], tripwires: [] }, labels)).toEqual([]);
  });
});
