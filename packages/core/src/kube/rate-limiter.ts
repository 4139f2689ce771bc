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

/** The part of the bucket bulk requests leave to events (a tenth of the burst, rounded down). */
export function eventReserve(burst: number): number {
  return Math.floor(burst / 10);
}

/**
 * A token bucket with client-go's semantics: full at start (`burst` requests go at once), refilled
 * at `qps` tokens per second; and two queues of waiting requests. A token goes to the oldest waiting
 * `event` request, and to a `bulk` one only when no event request waits and the bucket holds more
 * than eventReserve(burst) tokens, so a request made for an event never waits behind bulk requests
 * (however many a renewal wave has queued) and, during a wave, usually does not wait at all: bulk
 * work keeps the reserve full at the price of a burst smaller by it. Within a priority, first come,
 * first served. Hand-written because it is a few dozen lines and the usual libraries (bottleneck,
 * p-throttle) model windows and concurrency rather than QPS plus burst with priorities.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly waiting: Record<RequestPriority, (() => void)[]> = { event: [], bulk: [] };
  private releasing = false;
  private readonly reserve: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: RateLimiterClock = SYSTEM_CLOCK,
  ) {
    if (limit.qps > 0 && !(limit.burst >= 1))
      throw new RangeError(`rate limit burst must be at least 1, got ${limit.burst}`);
    this.tokens = limit.burst;
    this.last = clock.now();
    this.reserve = eventReserve(limit.burst);
  }

  /** Resolves once the caller may send one request. */
  acquire(priority: RequestPriority = 'event'): Promise<void> {
    if (!(this.limit.qps > 0)) return Promise.resolve();
    this.refill();
    const ahead = this.waiting.event.length + (priority === 'bulk' ? this.waiting.bulk.length : 0);
    if (ahead === 0 && this.tokens >= this.needed(priority)) {
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
    if (!this.anyWaiting()) this.capAtBurst();
  }

  private anyWaiting(): boolean {
    return this.waiting.event.length + this.waiting.bulk.length > 0;
  }

  /** Tokens the bucket must hold for a request of `priority` to take one. */
  private needed(priority: RequestPriority): number {
    return priority === 'event' ? 1 : 1 + this.reserve;
  }

  private capAtBurst(): void {
    this.tokens = Math.min(this.limit.burst, this.tokens);
  }

  /** One timer at a time, for when the next token exists; it grants, then re-arms while any wait. */
  private scheduleRelease(): void {
    if (this.releasing || !this.anyWaiting()) return;
    this.releasing = true;
    const needed = this.needed(this.waiting.event.length > 0 ? 'event' : 'bulk');
    const ms = Math.max(1, Math.ceil(((needed - this.tokens) * 1000) / this.limit.qps));
    void this.clock.sleep(ms).then(() => {
      this.releasing = false;
      this.refill();
      // At most `burst` at once, even when the timer fired late.
      for (let granted = 0; granted < this.limit.burst; granted++) {
        const priority = this.waiting.event.length > 0 ? 'event' : 'bulk';
        const next = this.waiting[priority][0];
        if (!next || this.tokens < this.needed(priority)) break;
        this.waiting[priority].shift();
        this.tokens -= 1;
        next();
      }
      this.capAtBurst();
      this.scheduleRelease();
    });
  }
}
