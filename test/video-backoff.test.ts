import { describe, expect, it } from 'vitest';
import { Backoff } from '../pipeline/video/index.js';

describe('Backoff', () => {
  it('doubles the ceiling per attempt up to the cap', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0.999999 });
    const delays = Array.from({ length: 7 }, () => b.next());
    expect(delays).toEqual([99, 199, 399, 799, 999, 999, 999]);
  });

  it('draws each delay uniformly below the ceiling (full jitter)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const b = new Backoff({ baseMs: 1000, capMs: 8000, random });
      b.attempt = 3; // ceiling 8000
      samples.push(b.next());
    }
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(8000);
    const mean = samples.reduce((a, v) => a + v, 0) / samples.length;
    expect(mean).toBeGreaterThan(3600);
    expect(mean).toBeLessThan(4400);
    expect(samples.filter((v) => v < 2000).length).toBeGreaterThan(400); // not bunched at the ceiling
  });

  it('starts over only after a connection stayed up for the healthy period', () => {
    const b = new Backoff({ baseMs: 100, capMs: 10_000, resetAfterMs: 30_000, random: () => 0.5 });
    b.next();
    b.next();
    b.next();
    expect(b.attempt).toBe(3);
    b.connectionEnded(5_000);
    expect(b.attempt).toBe(3);
    expect(b.ceiling()).toBe(800);
    b.connectionEnded(30_000);
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(50);
  });

  it('refuses a cap below the base', () => {
    expect(() => new Backoff({ baseMs: 1000, capMs: 10 })).toThrow(/baseMs ≤ capMs/);
  });
});
