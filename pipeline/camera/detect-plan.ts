import type { Box } from '../events/types.js';

export interface DetectPlanOptions {
  /** Crop when the padded union covers at most this share of the frame's area; else the whole frame. Default 0.45. */
  maxCropArea?: number;
  /** Pixels added round the union (context for the detector). Default 24. */
  pad?: number;
  /** Smallest crop side, share of the frame's shorter side: tiny crops would be blown up past anything the model saw in training. Default 0.4. */
  minSide?: number;
  /** Aspect ratio (width / height) of the model input; the crop is widened or heightened towards it so a stretch resize does not distort people. Default 1; null for a model that takes any size (the crop keeps its own shape). */
  modelAspect?: number | null;
}

export interface DetectPlan {
  /** The box the detector looks at, in frame pixels (the whole frame when `full`). */
  region: Box;
  full: boolean;
}

/** The union of boxes, or null for none. */
export function unionBox(boxes: readonly Box[]): Box | null {
  if (boxes.length === 0) return null;
  let [x1, y1, x2, y2] = boxes[0]!;
  for (const b of boxes) {
    x1 = Math.min(x1, b[0]);
    y1 = Math.min(y1, b[1]);
    x2 = Math.max(x2, b[2]);
    y2 = Math.max(y2, b[3]);
  }
  return [x1, y1, x2, y2];
}

/**
 * Where the detector looks for one frame: the padded union of the motion
 * regions (grown to a minimum size and towards the model's aspect ratio, kept
 * inside the frame) when that is small, the whole frame otherwise or when there
 * are no regions (heartbeat, lighting change). One crop rather than one per
 * region: people walking apart stay one inference, and the model sees context.
 */
export function planDetection(regions: readonly Box[], width: number, height: number, o: DetectPlanOptions = {}): DetectPlan {
  const whole: DetectPlan = { region: [0, 0, width, height], full: true };
  const u = unionBox(regions);
  if (!u) return whole;
  const pad = o.pad ?? 24;
  let x1 = Math.max(0, u[0] - pad);
  let y1 = Math.max(0, u[1] - pad);
  let x2 = Math.min(width, u[2] + pad);
  let y2 = Math.min(height, u[3] + pad);
  const minSide = Math.min(width, height) * (o.minSide ?? 0.4);
  const aspect = o.modelAspect === undefined ? 1 : o.modelAspect;
  let w = Math.max(x2 - x1, minSide);
  let h = Math.max(y2 - y1, minSide);
  if (aspect !== null) {
    if (w / h < aspect) w = h * aspect;
    else h = w / aspect;
  }
  w = Math.min(w, width);
  h = Math.min(h, height);
  [x1, x2] = grow(x1, x2, w, width);
  [y1, y2] = grow(y1, y2, h, height);
  if ((x2 - x1) * (y2 - y1) > (o.maxCropArea ?? 0.45) * width * height) return whole;
  return { region: [Math.round(x1), Math.round(y1), Math.round(x2), Math.round(y2)], full: false };
}

/** Widens [a, b] to `size` around its centre, shifted to stay inside [0, limit]. */
function grow(a: number, b: number, size: number, limit: number): [number, number] {
  const c = (a + b) / 2;
  let lo = c - size / 2;
  let hi = c + size / 2;
  if (lo < 0) {
    hi -= lo;
    lo = 0;
  }
  if (hi > limit) {
    lo -= hi - limit;
    hi = limit;
  }
  return [Math.max(0, lo), Math.min(limit, hi)];
}
