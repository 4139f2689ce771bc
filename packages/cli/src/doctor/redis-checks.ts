import {
  REDIS_MEMORY_WARN_RATIO,
  describeError,
  describeRedis,
  parseRedisMemory,
  redisMemoryRatio,
} from '@eatr/core';
import type { Cli } from '../context.js';
import type { Check } from '../doctor-model.js';
import { fail, ok } from './check.js';

/** Which Redis, in the words of the settings: a URL's host, the sentinels and master, or the nodes. */
function redisWhere(cli: Cli): string {
  const r = describeRedis(cli.watcher);
  const tls = r.tls === true ? ' (TLS)' : '';
  if (r.mode === 'sentinel')
    return `Sentinel ${String(r.sentinels)} master ${String(r.master)}${tls}`;
  if (r.mode === 'cluster') return `Cluster ${String(r.nodes)}${tls}`;
  return `${r.tls === true ? 'rediss' : 'redis'}://${String(r.host)}`;
}

/** Redis answers (first check: the queue checks need it), and will not evict queued jobs. */
export async function redisChecks(cli: Cli): Promise<Check[]> {
  const where = redisWhere(cli);
  try {
    await cli.redis.ping();
    const info = await cli.redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const checks = [ok('redis', `Redis ${where} reachable (version ${version})`)];
    try {
      const reply = (await cli.redis.config('GET', 'maxmemory-policy')) as string[];
      const policy = reply[1];
      checks.push(
        policy === 'noeviction'
          ? ok('redis-eviction', 'Redis maxmemory-policy is noeviction')
          : fail(
              'redis-eviction',
              `Redis maxmemory-policy is ${policy ?? 'unknown'}: Redis may evict queued jobs`,
              'set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction; on a managed Redis, its parameter group)',
            ),
      );
    } catch {
      checks.push(
        ok(
          'redis-eviction',
          'Redis CONFIG is disabled (managed Redis?): check that maxmemory-policy is noeviction',
        ),
      );
    }
    checks.push(memoryCheck(parseRedisMemory(await cli.redis.info('memory'))));
    return checks;
  } catch (error) {
    return [
      fail(
        'redis',
        `Redis ${where} not reachable: ${describeError(error)}`,
        'check --redis-url / EATR_REDIS_URL and --redis-password, and that the components use the same',
      ),
    ];
  }
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Redis's memory against its maxmemory: a Redis that evicts nothing refuses every write when full. */
function memoryCheck(memory: ReturnType<typeof parseRedisMemory>): Check {
  if (memory === undefined) return ok('redis-memory', 'Redis does not report its memory');
  const ratio = redisMemoryRatio(memory);
  if (ratio === undefined || memory.maxBytes === undefined)
    return ok('redis-memory', `Redis uses ${mib(memory.usedBytes)} (no maxmemory)`);
  const used = `Redis uses ${mib(memory.usedBytes)} of its ${mib(memory.maxBytes)} maxmemory (${Math.round(ratio * 100)}%)`;
  return ratio > REDIS_MEMORY_WARN_RATIO
    ? fail(
        'redis-memory',
        `${used}: when full, every write fails`,
        'raise maxmemory (chart: redis.maxmemory and the memory limit), or find what fills it (failed jobs are kept 24 h)',
      )
    : ok('redis-memory', used);
}
