import type { Queue } from 'bullmq';
import {
  LogMessage,
  SWEEP_JOB,
  SWEEP_SCHEDULER_ID,
  describeError,
  enqueueSweep,
  sleep,
  versioned,
  type Logger,
} from '@eatr/core';

/** How often the leader checks that the sweep scheduler still exists (e.g. after Redis was flushed). */
const SCHEDULER_CHECK_MS = 15_000;

export interface SweepSchedulerOptions {
  readonly queue: Queue;
  /**
   * The previous release's queue, whose sweep scheduler is kept too (with a payload that release
   * reads): while only its renewers run (a rollback that reached the renewers first), they still
   * sweep every interval. Renewers of this release forward those sweeps into their own queue.
   */
  readonly legacyQueue: Queue;
  readonly sweepIntervalMs: number;
  /** True once the watches have listed: the start-up sweep waits for it. */
  readonly ready: () => boolean;
  readonly log: Logger;
}

/**
 * Keeps the sweep job scheduler in place with the configured interval, while this watcher leads:
 * upserted when leadership starts, and again whenever it is missing (Redis flushed or replaced) or
 * its interval differs. Also enqueues one sweep when leadership starts (after a restart, an upgrade,
 * a failover) instead of a sync per namespace from the first list; retried until Redis takes it.
 */
export class SweepScheduler {
  private readonly stopper = new AbortController();
  private readonly done: Promise<void>;

  constructor(private readonly o: SweepSchedulerOptions) {
    this.done = this.loop();
  }

  /** Stops the loop and waits for it. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.done;
  }

  private async loop(): Promise<void> {
    const { queue, sweepIntervalMs, log } = this.o;
    let startupSweep = true;
    while (!this.stopper.signal.aborted) {
      try {
        if (startupSweep && this.o.ready()) {
          const added = await enqueueSweep(queue);
          startupSweep = false;
          log.info({ deduplicated: !added }, LogMessage.startupSweep);
        }
        for (const [target, data, name] of [
          [queue, versioned({}), 'sweep scheduler upserted'],
          [this.o.legacyQueue, {}, "previous release's sweep scheduler upserted"],
        ] as const) {
          const existing = await target.getJobScheduler(SWEEP_SCHEDULER_ID);
          if (existing?.every === sweepIntervalMs) continue;
          await target.upsertJobScheduler(
            SWEEP_SCHEDULER_ID,
            { every: sweepIntervalMs },
            { name: SWEEP_JOB, data },
          );
          log.info({ every: sweepIntervalMs, previous: existing?.every }, name);
        }
      } catch (error) {
        log.warn({ err: describeError(error) }, 'could not check the sweep scheduler; will retry');
      }
      await sleep(
        startupSweep ? 100 : Math.min(SCHEDULER_CHECK_MS, sweepIntervalMs),
        this.stopper.signal,
      );
    }
  }
}
