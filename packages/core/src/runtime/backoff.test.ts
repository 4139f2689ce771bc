import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it.each([
    [0, 1, 500],
    [1, 1, 1000],
    [3, 1, 4000],
    [10, 1, 30_000],
    [100, 1, 30_000],
    [3, 0, 0],
  ])('attempt %d with random %d -> at most %d ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, 500, 30_000, () => random)).toBe(expected);
  });

  it('spreads retries (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, 500, 30_000)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeLessThanOrEqual(8000);
  });
});
