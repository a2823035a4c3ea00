import type { Box } from '../events/types.js';

/**
 * Constant-velocity Kalman filter on a box's centre and size,
 * state x = [cx, cy, w, h, vcx, vcy, vw, vh] in source pixels and pixels per
 * second, measurement z = [cx, cy, w, h].
 *
 * Time steps are elapsed seconds, not frames: a motion-gated camera runs the
 * detector irregularly (10 fps while something moves, one heartbeat every few
 * seconds otherwise), so the transition F(dt) and the process noise Q(dt) are
 * built from dt each time. Q is the continuous white-noise-acceleration model,
 * per axis q·[[dt³/3, dt²/2], [dt²/2, dt]], with q scaled by the box size the
 * way ByteTrack scales its noise by the box height (a near object moves more
 * pixels than a far one). Width and height (not aspect ratio, as in BoT-SORT)
 * keep every state in pixels so one scale rule fits all.
 */
export interface KalmanSettings {
  /** Measurement standard deviation as a share of the box's width (x, w) or height (y, h). */
  measurementStd: number;
  /** Acceleration noise of the centre, in box sizes per second². */
  accelerationStd: number;
  /** Acceleration noise of width and height, in box sizes per second². */
  sizeAccelerationStd: number;
  /** Initial position standard deviation as a share of the box size. */
  initialPositionStd: number;
  /** Initial velocity standard deviation of the centre, box sizes per second. */
  initialVelocityStd: number;
  /** Initial velocity standard deviation of width and height, box sizes per second. */
  initialSizeVelocityStd: number;
}

export const DEFAULT_KALMAN_SETTINGS: KalmanSettings = {
  measurementStd: 0.05,
  accelerationStd: 0.5,
  sizeAccelerationStd: 0.1,
  initialPositionStd: 0.1,
  initialVelocityStd: 1,
  initialSizeVelocityStd: 0.2,
};

export type Matrix = number[][];

export interface KalmanState {
  /** [cx, cy, w, h, vcx, vcy, vw, vh] */
  mean: number[];
  /** 8×8 covariance. */
  covariance: Matrix;
}

const DIM = 4;

export class BoxKalmanFilter {
  readonly settings: KalmanSettings;

  constructor(settings: Partial<KalmanSettings> = {}) {
    this.settings = { ...DEFAULT_KALMAN_SETTINGS, ...settings };
  }

  /** A new state from a first measurement: velocity zero, wide velocity uncertainty. */
  initiate(z: number[]): KalmanState {
    const s = this.settings;
    const [, , w, h] = sizes(z);
    const scale = [w, h, w, h];
    const mean = [...z.slice(0, DIM), 0, 0, 0, 0];
    const variances = [
      ...scale.map((v) => (s.initialPositionStd * v) ** 2),
      (s.initialVelocityStd * w) ** 2,
      (s.initialVelocityStd * h) ** 2,
      (s.initialSizeVelocityStd * w) ** 2,
      (s.initialSizeVelocityStd * h) ** 2,
    ];
    return { mean, covariance: diag(variances) };
  }

  /** The transition over `dt` seconds. */
  transition(dt: number): Matrix {
    const f = identity(2 * DIM);
    for (let i = 0; i < DIM; i++) f[i]![i + DIM] = dt;
    return f;
  }

  /** Process noise over `dt` seconds for a box of the state's current size. */
  processNoise(mean: number[], dt: number): Matrix {
    const s = this.settings;
    const [, , w, h] = sizes(mean);
    const scale = [w, h, w, h];
    const q = new Array<number>(DIM);
    for (let i = 0; i < DIM; i++) {
      const acc = i < 2 ? s.accelerationStd : s.sizeAccelerationStd;
      q[i] = (acc * scale[i]!) ** 2;
    }
    const m = zeros(2 * DIM, 2 * DIM);
    for (let i = 0; i < DIM; i++) {
      const qi = q[i]!;
      m[i]![i] = (qi * dt ** 3) / 3;
      m[i]![i + DIM] = (qi * dt ** 2) / 2;
      m[i + DIM]![i] = (qi * dt ** 2) / 2;
      m[i + DIM]![i + DIM] = qi * dt;
    }
    return m;
  }

  /** Measurement noise R for a box of the given size. */
  measurementNoise(mean: number[]): Matrix {
    const [, , w, h] = sizes(mean);
    const std = this.settings.measurementStd;
    return diag([w, h, w, h].map((v) => (std * v) ** 2));
  }

  /**
   * x' = F·x, P' = F·P·Fᵀ + Q. With F = [[I, dt·I], [0, I]] in 4×4 blocks the
   * product is written out block by block (same result as the matrix
   * product, without building and multiplying 8×8 matrices on every step).
   */
  predict(state: KalmanState, dt: number): KalmanState {
    const p = state.covariance;
    if (!(dt > 0)) return { mean: [...state.mean], covariance: p.map((r) => [...r]) };
    const mean = state.mean.map((v, i) => (i < DIM ? v + dt * state.mean[i + DIM]! : v));
    const q = this.processNoise(state.mean, dt);
    const out = zeros(2 * DIM, 2 * DIM);
    for (let i = 0; i < DIM; i++) {
      for (let j = 0; j < DIM; j++) {
        const p11 = p[i]![j]!;
        const p12 = p[i]![j + DIM]!;
        const p21 = p[i + DIM]![j]!;
        const p22 = p[i + DIM]![j + DIM]!;
        out[i]![j] = p11 + dt * (p12 + p21) + dt * dt * p22 + q[i]![j]!;
        out[i]![j + DIM] = p12 + dt * p22 + q[i]![j + DIM]!;
        out[i + DIM]![j] = p21 + dt * p22 + q[i + DIM]![j]!;
        out[i + DIM]![j + DIM] = p22 + q[i + DIM]![j + DIM]!;
      }
    }
    return { mean, covariance: out };
  }

  /** Projects the state into measurement space: (H·x, H·P·Hᵀ + R). */
  project(state: KalmanState): { mean: number[]; covariance: Matrix } {
    const mean = state.mean.slice(0, DIM);
    const p = state.covariance.slice(0, DIM).map((r) => r.slice(0, DIM));
    return { mean, covariance: add(p, this.measurementNoise(state.mean)) };
  }

  /**
   * K = P·Hᵀ·S⁻¹ with S = H·P·Hᵀ + R; x' = x + K·(z − H·x); P' = P − K·H·P.
   * H picks the first four states, so P·Hᵀ is P's first four columns and
   * H·P its first four rows; written as loops to avoid 8×8 temporaries.
   */
  update(state: KalmanState, z: number[]): KalmanState {
    const p = state.covariance;
    const projected = this.project(state);
    const sInv = inverse(projected.covariance);
    const n = 2 * DIM;
    const gain: number[][] = new Array(n);
    for (let i = 0; i < n; i++) {
      const row = new Array<number>(DIM);
      const pi = p[i]!;
      for (let j = 0; j < DIM; j++) {
        let acc = 0;
        for (let k = 0; k < DIM; k++) acc += pi[k]! * sInv[k]![j]!;
        row[j] = acc;
      }
      gain[i] = row;
    }
    const innovation = new Array<number>(DIM);
    for (let k = 0; k < DIM; k++) innovation[k] = z[k]! - projected.mean[k]!;
    const mean = state.mean.map((v, i) => {
      let acc = v;
      for (let k = 0; k < DIM; k++) acc += gain[i]![k]! * innovation[k]!;
      return acc;
    });
    const covariance: Matrix = new Array(n);
    for (let i = 0; i < n; i++) {
      const row = new Array<number>(n);
      const gi = gain[i]!;
      for (let j = 0; j < n; j++) {
        let acc = p[i]![j]!;
        for (let k = 0; k < DIM; k++) acc -= gi[k]! * p[k]![j]!;
        row[j] = acc;
      }
      covariance[i] = row;
    }
    symmetrise(covariance);
    return { mean, covariance };
  }
}

/** Box [x1, y1, x2, y2] → measurement [cx, cy, w, h]. */
export function boxToMeasurement(box: Box): number[] {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]];
}

/** State or measurement → box, with width and height kept at least one pixel. */
export function measurementToBox(m: number[]): Box {
  const [cx, cy, w, h] = sizes(m);
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

function sizes(m: number[]): [number, number, number, number] {
  return [m[0]!, m[1]!, Math.max(1, m[2]!), Math.max(1, m[3]!)];
}

// Small dense matrix helpers: 8×8 at most, so clarity beats a library.

export function zeros(r: number, c: number): Matrix {
  return Array.from({ length: r }, () => new Array<number>(c).fill(0));
}

export function identity(n: number): Matrix {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m[i]![i] = 1;
  return m;
}

export function diag(values: number[]): Matrix {
  const m = zeros(values.length, values.length);
  values.forEach((v, i) => (m[i]![i] = v));
  return m;
}

export function transpose(a: Matrix): Matrix {
  const r = a.length;
  const c = a[0]?.length ?? 0;
  const t = zeros(c, r);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j]![i] = a[i]![j]!;
  return t;
}

export function mul(a: Matrix, b: Matrix): Matrix {
  const r = a.length;
  const k = b.length;
  const c = b[0]?.length ?? 0;
  const out = zeros(r, c);
  for (let i = 0; i < r; i++) {
    const ai = a[i]!;
    const oi = out[i]!;
    for (let x = 0; x < k; x++) {
      const v = ai[x]!;
      if (v === 0) continue;
      const bx = b[x]!;
      for (let j = 0; j < c; j++) oi[j] = oi[j]! + v * bx[j]!;
    }
  }
  return out;
}

export function mulVec(a: Matrix, v: number[]): number[] {
  return a.map((row) => dot(row, v));
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function add(a: Matrix, b: Matrix): Matrix {
  return a.map((row, i) => row.map((v, j) => v + b[i]![j]!));
}

export function sub(a: Matrix, b: Matrix): Matrix {
  return a.map((row, i) => row.map((v, j) => v - b[i]![j]!));
}

function symmetrise(m: Matrix): void {
  for (let i = 0; i < m.length; i++) {
    for (let j = i + 1; j < m.length; j++) {
      const v = (m[i]![j]! + m[j]![i]!) / 2;
      m[i]![j] = v;
      m[j]![i] = v;
    }
  }
}

/** Inverse by Gauss–Jordan with partial pivoting; throws on a singular matrix. */
export function inverse(a: Matrix): Matrix {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...identity(n)[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-12) throw new Error('Kalman: singular innovation covariance (a box of zero size?)');
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const pr = m[col]!;
    const pv = pr[col]!;
    for (let j = 0; j < 2 * n; j++) pr[j] = pr[j]! / pv;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const row = m[r]!;
      const f = row[col]!;
      if (f === 0) continue;
      for (let j = 0; j < 2 * n; j++) row[j] = row[j]! - f * pr[j]!;
    }
  }
  return m.map((row) => row.slice(n));
}
