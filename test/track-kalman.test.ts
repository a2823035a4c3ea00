import { describe, expect, it } from 'vitest';
import { BoxKalmanFilter, DEFAULT_KALMAN_SETTINGS, add, boxToMeasurement, identity, inverse, measurementToBox, mul, mulVec, transpose } from '../pipeline/track/kalman.js';

const s = DEFAULT_KALMAN_SETTINGS;

describe('BoxKalmanFilter', () => {
  const kf = new BoxKalmanFilter();

  it('initiates with the measurement, zero velocity and size-scaled variances', () => {
    const st = kf.initiate([100, 200, 40, 80]);
    expect(st.mean).toEqual([100, 200, 40, 80, 0, 0, 0, 0]);
    expect(st.covariance[0]![0]).toBeCloseTo((s.initialPositionStd * 40) ** 2, 9);
    expect(st.covariance[1]![1]).toBeCloseTo((s.initialPositionStd * 80) ** 2, 9);
    expect(st.covariance[4]![4]).toBeCloseTo((s.initialVelocityStd * 40) ** 2, 9);
    expect(st.covariance[7]![7]).toBeCloseTo((s.initialSizeVelocityStd * 80) ** 2, 9);
    expect(st.covariance[0]![4]).toBe(0);
  });

  it('predicts by elapsed seconds: x + v·dt and P = F P Fᵀ + Q, checked per axis by hand', () => {
    const st = kf.initiate([100, 200, 40, 80]);
    st.mean[4] = 10; // 10 px/s to the right
    st.mean[5] = -4;
    // Give the x axis a position–velocity correlation to exercise the cross terms.
    st.covariance[0]![4] = 3;
    st.covariance[4]![0] = 3;
    const dt = 2.5;
    const p = kf.predict(st, dt);
    expect(p.mean[0]).toBeCloseTo(125, 9);
    expect(p.mean[1]).toBeCloseTo(190, 9);
    expect(p.mean[2]).toBe(40);

    const pxx = st.covariance[0]![0]!;
    const pxv = 3;
    const pvv = st.covariance[4]![4]!;
    const q = (s.accelerationStd * 40) ** 2;
    // Hand-derived 2×2 case: [[1, dt], [0, 1]] P [[1, 0], [dt, 1]] + q [[dt³/3, dt²/2], [dt²/2, dt]]
    expect(p.covariance[0]![0]).toBeCloseTo(pxx + 2 * dt * pxv + dt * dt * pvv + (q * dt ** 3) / 3, 6);
    expect(p.covariance[0]![4]).toBeCloseTo(pxv + dt * pvv + (q * dt ** 2) / 2, 6);
    expect(p.covariance[4]![0]).toBeCloseTo(p.covariance[0]![4]!, 9);
    expect(p.covariance[4]![4]).toBeCloseTo(pvv + q * dt, 6);
    // Axes stay independent.
    expect(p.covariance[0]![1]).toBe(0);
    // The height axis uses the height as its scale.
    const qh = (s.sizeAccelerationStd * 80) ** 2;
    expect(p.covariance[3]![3]).toBeCloseTo(st.covariance[3]![3]! + dt * dt * st.covariance[7]![7]! + (qh * dt ** 3) / 3, 6);
  });

  it('predict equals the plain matrix product F·P·Fᵀ + Q for a full covariance', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    // A random symmetric positive covariance A·Aᵀ with cross-axis terms.
    const a = Array.from({ length: 8 }, () => Array.from({ length: 8 }, () => rnd() * 4 - 2));
    const p = mul(a, transpose(a));
    const mean = [320, 240, 60, 120, 5, -3, 0.5, 1];
    const dt = 0.73;
    const f = kf.transition(dt);
    const want = add(mul(mul(f, p), transpose(f)), kf.processNoise(mean, dt));
    const got = kf.predict({ mean, covariance: p }, dt);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(got.covariance[i]![j]).toBeCloseTo(want[i]![j]!, 9);
    const wantMean = mulVec(f, mean);
    got.mean.forEach((v, i) => expect(v).toBeCloseTo(wantMean[i]!, 12));
  });

  it('a zero or negative step leaves the state unchanged', () => {
    const st = kf.initiate([10, 10, 5, 5]);
    st.mean[4] = 3;
    expect(kf.predict(st, 0)).toEqual(st);
  });

  it('update applies the Kalman gain K = P Hᵀ (H P Hᵀ + R)⁻¹, checked per axis by hand', () => {
    const st = kf.initiate([100, 200, 40, 80]);
    const pred = kf.predict(st, 1);
    const z = [110, 195, 42, 80];
    const u = kf.update(pred, z);
    const pxx = pred.covariance[0]![0]!;
    const pvx = pred.covariance[4]![0]!;
    const pvv = pred.covariance[4]![4]!;
    const r = (s.measurementStd * 40) ** 2; // R is scaled by the predicted width for the x axis
    const kx = pxx / (pxx + r);
    const kv = pvx / (pxx + r);
    expect(u.mean[0]).toBeCloseTo(100 + kx * 10, 6);
    expect(u.mean[4]).toBeCloseTo(0 + kv * 10, 6);
    expect(u.covariance[0]![0]).toBeCloseTo((1 - kx) * pxx, 6);
    expect(u.covariance[4]![4]).toBeCloseTo(pvv - kv * pvx, 6);
    // The update pulls towards the measurement but not past it.
    expect(u.mean[0]).toBeGreaterThan(100);
    expect(u.mean[0]).toBeLessThan(110);
  });

  it('learns a constant velocity from irregularly spaced measurements', () => {
    const vx = 30;
    const vy = -12;
    let t = 0;
    let st = kf.initiate([50, 400, 40, 80]);
    const steps = [0.1, 1.7, 0.3, 2.2, 0.5, 1, 3.1, 0.2, 0.9, 1.4, 0.6, 2.5, 0.8, 1.1, 0.4];
    for (const dt of steps) {
      t += dt;
      st = kf.predict(st, dt);
      st = kf.update(st, [50 + vx * t, 400 + vy * t, 40, 80]);
    }
    expect(st.mean[4]).toBeCloseTo(vx, 0);
    expect(st.mean[5]).toBeCloseTo(vy, 0);
    expect(st.mean[0]).toBeCloseTo(50 + vx * t, 0);
    // Covariance stays symmetric positive on the diagonal.
    for (let i = 0; i < 8; i++) {
      expect(st.covariance[i]![i]).toBeGreaterThan(0);
      for (let j = 0; j < 8; j++) expect(st.covariance[i]![j]).toBeCloseTo(st.covariance[j]![i]!, 9);
    }
  });

  it('converts boxes and measurements both ways and keeps boxes at least a pixel', () => {
    expect(boxToMeasurement([10, 20, 50, 100])).toEqual([30, 60, 40, 80]);
    expect(measurementToBox([30, 60, 40, 80])).toEqual([10, 20, 50, 100]);
    expect(measurementToBox([30, 60, -5, 0])).toEqual([29.5, 59.5, 30.5, 60.5]);
  });

  it('inverse gives the identity back', () => {
    const a = [
      [4, 1, 0, 2],
      [1, 3, 1, 0],
      [0, 1, 5, 1],
      [2, 0, 1, 6],
    ];
    const p = mul(a, inverse(a));
    const id = identity(4);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(p[i]![j]).toBeCloseTo(id[i]![j]!, 12);
  });
});
