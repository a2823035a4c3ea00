import { describe, expect, it } from 'vitest';
import { StartLimiter } from '../pipeline/video/index.js';

describe('StartLimiter', () => {
  it('lets `concurrency` start-ups run at once and the rest in the order they asked', async () => {
    const limiter = new StartLimiter(2);
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const asks = [0, 1, 2, 3].map((i) => limiter.acquire().then((release) => { order.push(i); releases[i] = release; }));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    expect(limiter.stats()).toEqual({ running: 2, waiting: 2 });
    releases[1]!();
    releases[1]!(); // twice: still one slot back, not two
    await asks[2];
    expect(order).toEqual([0, 1, 2]);
    expect(limiter.stats()).toEqual({ running: 2, waiting: 1 });
    releases[0]!();
    await asks[3];
    expect(order).toEqual([0, 1, 2, 3]);
    releases[2]!();
    releases[3]!();
    expect(limiter.stats()).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => new StartLimiter(0)).toThrow(/positive integer/);
    expect(() => new StartLimiter(1.5)).toThrow(/positive integer/);
  });
});
