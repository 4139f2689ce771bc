import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter, type RateLimiterClock, type RateLimit } from './rate-limiter.js';
import type { RequestPriority } from './request-priority.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Starts `calls` acquires at once and returns when (ms after the start) each was granted, in call order. */
async function grantTimes(limiter: RateLimiter, calls: number, runMs = 10_000): Promise<number[]> {
  const start = performance.now();
  const times = new Array<number>(calls).fill(Number.NaN);
  for (let i = 0; i < calls; i++)
    void limiter.acquire().then(() => {
      times[i] = performance.now() - start;
    });
  await vi.advanceTimersByTimeAsync(runMs);
  return times;
}

/**
 * Records when (ms after its creation) each named acquire was granted, in grant order: `take` starts
 * one without waiting for it.
 */
function grantLog(limiter: RateLimiter) {
  const start = performance.now();
  const granted: [string, number][] = [];
  const take = (name: string, priority?: RequestPriority) =>
    void limiter.acquire(priority).then(() => {
      granted.push([name, performance.now() - start]);
    });
  return { granted, take };
}

describe('RateLimiter', () => {
  it.each<[string, RateLimit, number, number[]]>([
    [
      'grants the burst at once, then qps per second',
      { qps: 10, burst: 3 },
      5,
      [0, 0, 0, 100, 200],
    ],
    ['with burst 1, spaces every request', { qps: 50, burst: 1 }, 4, [0, 20, 40, 60]],
    ['never grants early on a fractional interval', { qps: 3, burst: 1 }, 3, [0, 334, 667]],
    ['qps 0 is unlimited', { qps: 0, burst: 1 }, 1000, new Array<number>(1000).fill(0)],
    ['negative qps is unlimited', { qps: -1, burst: 0 }, 10, new Array<number>(10).fill(0)],
  ])('%s (%j, %i calls)', async (_name, limit, calls, expected) => {
    expect(await grantTimes(new RateLimiter(limit), calls)).toEqual(expected);
  });

  it('refills at qps while idle, but never beyond burst', async () => {
    const limiter = new RateLimiter({ qps: 10, burst: 2 });
    expect(await grantTimes(limiter, 2)).toEqual([0, 0]); // then 10 s idle: 100 tokens' worth
    expect(await grantTimes(limiter, 4)).toEqual([0, 0, 100, 200]);
  });

  it('serves callers in call order, a late caller after those already waiting', async () => {
    const limiter = new RateLimiter({ qps: 10, burst: 1 });
    const { granted: order, take } = grantLog(limiter);
    for (const name of ['a', 'b', 'c']) take(name);
    await vi.advanceTimersByTimeAsync(50);
    take('d');
    await vi.advanceTimersByTimeAsync(1000);
    expect(order).toEqual([
      ['a', 0],
      ['b', 100],
      ['c', 200],
      ['d', 300],
    ]);
  });

  it('gives a token to a waiting event request before bulk requests that waited longer', async () => {
    const limiter = new RateLimiter({ qps: 10, burst: 1 });
    const { granted: order, take } = grantLog(limiter);
    for (const name of ['bulk-1', 'bulk-2', 'bulk-3']) take(name, 'bulk');
    await vi.advanceTimersByTimeAsync(50);
    take('event-1', 'event');
    take('event-2', 'event');
    await vi.advanceTimersByTimeAsync(100);
    take('bulk-4', 'bulk');
    await vi.advanceTimersByTimeAsync(1000);
    expect(order).toEqual([
      ['bulk-1', 0],
      ['event-1', 100],
      ['event-2', 200],
      ['bulk-2', 300],
      ['bulk-3', 400],
      ['bulk-4', 500],
    ]);
  });

  it('lets an event request take a free token at once, and a bulk one only when no event waits', async () => {
    const limiter = new RateLimiter({ qps: 10, burst: 2 });
    const { granted: order, take } = grantLog(limiter);
    take('event-1', 'event');
    take('event-2', 'event');
    take('event-3', 'event'); // waits for the token at 100 ms
    await vi.advanceTimersByTimeAsync(150); // 0.5 token spare after event-3
    take('bulk-1', 'bulk');
    await vi.advanceTimersByTimeAsync(1000);
    expect(order).toEqual([
      ['event-1', 0],
      ['event-2', 0],
      ['event-3', 100],
      ['bulk-1', 200],
    ]);
  });

  it('keeps a tenth of the burst for event requests while bulk requests wait', async () => {
    const limiter = new RateLimiter({ qps: 10, burst: 20 });
    const { granted, take } = grantLog(limiter);
    for (let i = 0; i < 20; i++) take(`bulk-${i}`, 'bulk');
    await vi.advanceTimersByTimeAsync(250);
    // 18 went at once; two more by now (one token each 100 ms above the reserve of 2).
    expect(granted.filter(([, at]) => at === 0)).toHaveLength(18);
    expect(granted.map(([, at]) => at).slice(18)).toEqual([100, 200]);
    take('event-1', 'event');
    take('event-2', 'event');
    take('event-3', 'event');
    await vi.advanceTimersByTimeAsync(0);
    // The reserve's two tokens at once; the third event waits for the next token, not for bulk.
    expect(granted.slice(20)).toEqual([
      ['event-1', 250],
      ['event-2', 250],
    ]);
    await vi.advanceTimersByTimeAsync(60);
    expect(granted.slice(22)).toEqual([['event-3', 300]]);
  });

  it('reads time and sleeps through the injected clock', async () => {
    let now = 1_000;
    const slept: number[] = [];
    const clock: RateLimiterClock = {
      now: () => now,
      sleep: (ms) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
    };
    const limiter = new RateLimiter({ qps: 4, burst: 1 }, clock);
    await limiter.acquire();
    await limiter.acquire();
    await limiter.acquire();
    expect(slept).toEqual([250, 250]);
    now += 2_000; // the bucket is full again (one token: burst 1)
    await limiter.acquire();
    expect(slept).toEqual([250, 250]);
  });

  it('refuses a burst below 1 when limited (nothing could ever be granted)', () => {
    expect(() => new RateLimiter({ qps: 5, burst: 0 })).toThrow(RangeError);
  });
});
