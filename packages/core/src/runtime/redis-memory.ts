/**
 * Redis's memory as `INFO memory` reports it. The bundled Redis evicts nothing (`noeviction`): when
 * `used` reaches `max`, every write fails, enqueues and blocked records included.
 */
export interface RedisMemory {
  readonly usedBytes: number;
  /** `maxmemory`; undefined when Redis has no limit (0). */
  readonly maxBytes: number | undefined;
}

/** Above this share of `maxmemory`, eatr warns (doctor, status, alert EatrRedisMemoryHigh). */
export const REDIS_MEMORY_WARN_RATIO = 0.8;

/** Reads `INFO memory` (pure); undefined when the reply has no `used_memory`. */
export function parseRedisMemory(info: string): RedisMemory | undefined {
  const field = (name: string) => {
    const value = new RegExp(`^${name}:(\\d+)\\s*$`, 'm').exec(info)?.[1];
    return value === undefined ? undefined : Number(value);
  };
  const usedBytes = field('used_memory');
  if (usedBytes === undefined) return undefined;
  const max = field('maxmemory');
  return { usedBytes, maxBytes: max === undefined || max === 0 ? undefined : max };
}

/** The share of `maxmemory` in use, or undefined without a limit. */
export function redisMemoryRatio(memory: RedisMemory): number | undefined {
  return memory.maxBytes === undefined ? undefined : memory.usedBytes / memory.maxBytes;
}
