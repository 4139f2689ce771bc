/** Client-side API rate limit, as client-go's `QPS` and `Burst`. */
export interface RateLimit {
  /** Tokens added per second; 0 or less means unlimited. */
  readonly qps: number;
  /** Bucket size: requests allowed at once after a quiet spell (at least 1 when qps > 0). */
  readonly burst: number;
}

/** Time source of a RateLimiter; tests pass a fake one or use fake timers. */
export interface RateLimiterClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

const SYSTEM_CLOCK: RateLimiterClock = {
  now: () => performance.now(),
  // The global setTimeout, looked up per call, so that fake timers in tests replace it.
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms);
    }),
};

/**
 * A token bucket with client-go's semantics: full at start (`burst` requests go at once), refilled
 * at `qps` tokens per second. Hand-written because it is a dozen lines and the usual libraries
 * (bottleneck, p-throttle) model windows and concurrency rather than QPS plus burst. Like
 * golang.org/x/time/rate, each call reserves its token at once (the balance may go negative) and
 * sleeps until that token exists, so callers are served in call order without a queue.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: RateLimiterClock = SYSTEM_CLOCK,
  ) {
    if (limit.qps > 0 && !(limit.burst >= 1))
      throw new RangeError(`rate limit burst must be at least 1, got ${limit.burst}`);
    this.tokens = limit.burst;
    this.last = clock.now();
  }

  /** Resolves once the caller may send one request. */
  acquire(): Promise<void> {
    const { qps, burst } = this.limit;
    if (!(qps > 0)) return Promise.resolve();
    const now = this.clock.now();
    this.tokens = Math.min(burst, this.tokens + ((now - this.last) * qps) / 1000) - 1;
    this.last = now;
    if (this.tokens >= 0) return Promise.resolve();
    return this.clock.sleep(Math.ceil((-this.tokens * 1000) / qps));
  }
}
