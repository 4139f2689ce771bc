import type { RequestPriority } from './request-priority.js';

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
 * at `qps` tokens per second; and two queues of waiting requests. A token goes to the oldest waiting
 * `event` request, and to a `bulk` one only when no event request waits, so a request made for an
 * event never waits behind bulk requests already waiting, however many a renewal wave has queued.
 * Within a priority, first come, first served. Hand-written because it is a few dozen lines and the
 * usual libraries (bottleneck, p-throttle) model windows and concurrency rather than QPS plus burst
 * with priorities.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly waiting: Record<RequestPriority, (() => void)[]> = { event: [], bulk: [] };
  private releasing = false;

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
  acquire(priority: RequestPriority = 'event'): Promise<void> {
    if (!(this.limit.qps > 0)) return Promise.resolve();
    this.refill();
    const ahead = this.waiting.event.length + (priority === 'bulk' ? this.waiting.bulk.length : 0);
    if (ahead === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting[priority].push(resolve);
      this.scheduleRelease();
    });
  }

  /**
   * Adds the tokens earned since the last look. While requests wait, the bucket is capped only after
   * they were served (see scheduleRelease): a waiter's token is earned while it waits, as if
   * reserved, so the fraction of a token beyond `burst` that it was woken for is not lost.
   */
  private refill(): void {
    const now = this.clock.now();
    this.tokens += ((now - this.last) * this.limit.qps) / 1000;
    this.last = now;
    if (this.waiting.event.length + this.waiting.bulk.length === 0) this.capAtBurst();
  }

  private capAtBurst(): void {
    this.tokens = Math.min(this.limit.burst, this.tokens);
  }

  /** One timer at a time, for when the next token exists; it grants, then re-arms while any wait. */
  private scheduleRelease(): void {
    if (this.releasing) return;
    if (this.waiting.event.length + this.waiting.bulk.length === 0) return;
    this.releasing = true;
    const ms = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.limit.qps));
    void this.clock.sleep(ms).then(() => {
      this.releasing = false;
      this.refill();
      // At most `burst` at once, even when the timer fired late.
      for (let granted = 0; granted < this.limit.burst && this.tokens >= 1; granted++) {
        const next = this.waiting.event.shift() ?? this.waiting.bulk.shift();
        if (!next) break;
        this.tokens -= 1;
        next();
      }
      this.capAtBurst();
      this.scheduleRelease();
    });
  }
}
