import type { RedisClient } from '@eatr/core';

/** The settings whose renewers take jobs, their revision, and their generation (it only grows). */
export interface GenerationRecord {
  readonly fingerprint: string;
  readonly revision: number;
  readonly generation: number;
}

// KEYS: the record (a hash with a time to live), the generation counter. ARGV: fingerprint,
// revision, time to live (ms), claim ("1": take over from other settings of a revision no higher;
// "0": only refresh our own, or take an empty record).
const KEEP = `
local current = redis.call('HMGET', KEYS[1], 'fingerprint', 'revision', 'generation')
if current[1] == ARGV[1] then
  if tonumber(ARGV[2]) > tonumber(current[2] or '0') then
    redis.call('HSET', KEYS[1], 'revision', ARGV[2])
    current[2] = ARGV[2]
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return current
end
if current[1] and (ARGV[4] == '0' or tonumber(current[2] or '0') > tonumber(ARGV[2])) then
  return current
end
local generation = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'revision', ARGV[2], 'generation', generation)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {ARGV[1], ARGV[2], tostring(generation)}
`;

/**
 * Which renewer settings are the newest, in Redis beside the queue (same hash tag). The record lives
 * while renewers with those settings refresh it; the counter outlives it, so generations only grow.
 * Holds a digest of settings, never the settings themselves.
 */
export class GenerationStore {
  private readonly recordKey: string;
  private readonly counterKey: string;

  /** `redis` is a producer connection this store does not own; `prefix` the queue's key prefix. */
  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.recordKey = `${prefix}:eatr:configuration`;
    this.counterKey = `${prefix}:eatr:configuration-generation`;
  }

  /**
   * Makes `fingerprint` the newest settings (a new generation unless they already are), unless the
   * newest ones have a higher revision (a renewer of an older rollout restarting).
   */
  claim(fingerprint: string, revision: number, ttlMs: number): Promise<GenerationRecord> {
    return this.keep(fingerprint, revision, ttlMs, true);
  }

  /**
   * Refreshes `fingerprint`'s record when it is the newest, or takes over when no renewer keeps one;
   * otherwise leaves the newer settings' record alone. Returns the newest settings.
   */
  refresh(fingerprint: string, revision: number, ttlMs: number): Promise<GenerationRecord> {
    return this.keep(fingerprint, revision, ttlMs, false);
  }

  private async keep(fingerprint: string, revision: number, ttlMs: number, claim: boolean) {
    const [current, currentRevision, generation] = (await this.redis.eval(
      KEEP,
      2,
      this.recordKey,
      this.counterKey,
      fingerprint,
      String(revision),
      String(ttlMs),
      claim ? '1' : '0',
    )) as [string, string | null, string];
    return {
      fingerprint: current,
      revision: Number(currentRevision ?? 0),
      generation: Number(generation),
    };
  }
}
