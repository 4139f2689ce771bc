/**
 * eatr's BullMQ queue as the benchmark sees it, straight from Redis (no API requests): trigger a
 * sweep the way the sweep scheduler does, tell when the queue has drained, and count the jobs added
 * during a phase.
 */
import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { PROBE_JOB, QUEUE_NAME, SWEEP_JOB } from '@eatr/core';
import { fmtS, sleep } from './common.js';

/** Delayed jobs further away than this (retries with long backoff) do not count as pending work. */
const NEAR_MS = 30_000;

export interface JobsAdded {
  /** Job name -> jobs added. */
  readonly byName: ReadonlyMap<string, number>;
  readonly deduplicated: number;
}

export class EatrQueue {
  private readonly queue: Queue;
  private readonly connection: ConnectionOptions;
  /** A plain client for reading the events stream's end. */
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    const { hostname, port } = new URL(url);
    this.connection = { host: hostname, port: Number(port) };
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection, prefix });
    this.redis = new Redis(url, { lazyConnect: true });
  }

  /** What the sweep scheduler adds: a `sweep` job with data `{}`. */
  async triggerSweep(): Promise<void> {
    await this.queue.add(SWEEP_JOB, {}, { removeOnComplete: 100, removeOnFail: 100 });
  }

  /**
   * Jobs waiting, running, or delayed to run soon. Left out: the sweep scheduler's next job, and a
   * probe chain's next probe (it keeps asking AWS while a registry's credentials are refused: standing
   * background work, not work to drain).
   */
  async pending(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
    let pending = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0);
    if ((counts.delayed ?? 0) > 0) {
      const soon = Date.now() + NEAR_MS;
      const delayed = await this.queue.getDelayed(0, 999);
      pending += delayed.filter(
        (job) =>
          job.name !== SWEEP_JOB &&
          job.name !== PROBE_JOB &&
          job.timestamp + (job.delay || 0) <= soon,
      ).length;
    }
    return pending;
  }

  /**
   * Waits until nothing is pending for `quietMs` in a row; returns performance.now() of when that
   * quiet stretch began (when the queue drained).
   */
  async drained(timeoutMs: number, quietMs = 1500): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let idleSince: number | undefined;
    for (;;) {
      const pending = await this.pending();
      const now = performance.now();
      if (pending === 0) {
        idleSince ??= now;
        if (now - idleSince >= quietMs) return idleSince;
      } else {
        idleSince = undefined;
      }
      if (now > deadline)
        throw new Error(
          `the queue did not drain within ${fmtS(timeoutMs)} (${pending} job(s) pending)`,
        );
      await sleep(200);
    }
  }

  /** Counts the jobs added (by name) and deduplicated from now until `stop()`. */
  async countAdded(): Promise<{ stop: () => Promise<JobsAdded> }> {
    // Read from the stream's current end, known before the reader starts, so nothing is missed.
    const last = await this.redis.xrevrange(
      `${this.prefix}:${QUEUE_NAME}:events`,
      '+',
      '-',
      'COUNT',
      1,
    );
    const events = new QueueEvents(QUEUE_NAME, {
      connection: this.connection,
      prefix: this.prefix,
      lastEventId: last[0]?.[0] ?? '0-0',
    });
    const byName = new Map<string, number>();
    let deduplicated = 0;
    events.on('added', ({ name }) => byName.set(name, (byName.get(name) ?? 0) + 1));
    events.on('deduplicated', () => deduplicated++);
    await events.waitUntilReady();
    return {
      stop: async () => {
        await sleep(500); // let the reader catch up with the stream
        await events.close();
        return { byName, deduplicated };
      },
    };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.queue.close();
  }
}

export function describeJobs(jobs: JobsAdded): string {
  const parts = [...jobs.byName].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${c} ${n}`);
  return `${parts.join(', ') || 'none'} added${jobs.deduplicated ? `, ${jobs.deduplicated} deduplicated` : ''}`;
}
