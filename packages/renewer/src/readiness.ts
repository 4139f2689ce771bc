import type { Logger } from '@eatr/core';

/**
 * Whether a renewer is ready: started (every watch cache listed, the worker taking jobs), not
 * stopping, and Redis reachable. Its own object so /readyz and the Redis connection's events can be
 * wired to it before the Renewer that owns everything exists.
 */
export class Readiness {
  private started = false;
  /** Whether the Redis connection is up: a renewer that cannot reach the queue does no work. */
  private redisUp = true;

  constructor(private readonly log: Logger) {}

  get isReady(): boolean {
    return this.started && this.redisUp;
  }

  /** The renewer took its first jobs, or (false) began to stop. */
  setStarted(started: boolean): void {
    this.started = started;
  }

  redisReachable(up: boolean): void {
    if (up === this.redisUp) return;
    this.redisUp = up;
    if (up) this.log.info('Redis reachable again; ready');
    else this.log.warn('Redis connection lost; not ready until it is back');
  }
}
