import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';
import { describeError, parseRedisMemory, type Logger } from '@eatr/core';

/**
 * `eatr_redis_used_memory_bytes` and `eatr_redis_maxmemory_bytes`, from Redis's `INFO memory` at
 * scrape time, by the leader only: a Redis that evicts nothing stops taking writes when full, so
 * alert EatrRedisMemoryHigh warns before. Both are 0 on a standby watcher, and the second without a
 * `maxmemory` (no limit).
 */
export function registerRedisMemoryGauge(
  registry: Registry,
  queue: Queue,
  isLeader: () => boolean,
  log: Logger,
): void {
  let memory: ReturnType<typeof parseRedisMemory>;
  // One INFO per scrape serves both gauges (the backend's client takes no section: the whole reply).
  let pending: Promise<void> | undefined;
  const read = () =>
    (pending ??= (async () => {
      try {
        memory = parseRedisMemory(await (await queue.getBackend().client).info());
      } catch (error) {
        memory = undefined;
        log.debug({ err: describeError(error) }, 'could not read Redis memory');
      }
    })().finally(() => setTimeout(() => (pending = undefined), 1000).unref()));
  new Gauge({
    name: 'eatr_redis_used_memory_bytes',
    help: "Redis's used_memory (INFO memory), reported by the watcher leader",
    registers: [registry],
    async collect() {
      this.reset();
      if (!isLeader()) return;
      await read();
      if (memory) this.set(memory.usedBytes);
    },
  });
  new Gauge({
    name: 'eatr_redis_maxmemory_bytes',
    help: "Redis's maxmemory (0: no limit), reported by the watcher leader",
    registers: [registry],
    async collect() {
      this.reset();
      if (!isLeader()) return;
      await read();
      if (memory?.maxBytes !== undefined) this.set(memory.maxBytes);
    },
  });
}
