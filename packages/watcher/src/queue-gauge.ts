import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';
import { describeError, type Logger } from '@eatr/core';

/**
 * `eatr_queue_jobs{state}`, read from Redis at scrape time, by the leader only (no duplicates across
 * replicas).
 */
export function registerQueueGauge(
  registry: Registry,
  queue: Queue,
  isLeader: () => boolean,
  log: Logger,
): void {
  new Gauge({
    name: 'eatr_queue_jobs',
    help: 'Jobs in the eatr queue by state (reported by the watcher leader)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      if (!isLeader()) return;
      try {
        const counts = await queue.getJobCounts(
          'waiting',
          'active',
          'delayed',
          'prioritized',
          'failed',
          'completed',
        );
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      } catch (error) {
        log.debug({ err: describeError(error) }, 'could not read queue depth');
      }
    },
  });
}
