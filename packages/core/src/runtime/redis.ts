import type { RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { CommonConfig } from '../config/config.js';

/**
 * Connection options for BullMQ (ioredis under the hood). Workers (blocking connections) must retry forever
 * (`maxRetriesPerRequest: null`); producers should fail fast so an enqueue error surfaces.
 */
export function redisOptions(
  config: Pick<CommonConfig, 'redis'>,
  role: 'worker' | 'producer',
): RedisOptions {
  const url = new URL(config.redis.url);
  const options: RedisOptions = {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableOfflineQueue: role === 'worker',
    retryStrategy: (times) => Math.min(times * 200, 5000),
    // A producer sends no blocking commands, so a reply that takes 10 s means a dead (half-open)
    // connection: drop it and reconnect rather than wait minutes for TCP to notice.
    ...(role === 'producer' ? { socketTimeout: 10_000 } : {}),
  };
  const username = decodeURIComponent(url.username);
  const password =
    config.redis.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (username) options.username = username;
  if (password) options.password = password;
  if (url.protocol === 'rediss:') options.tls = { servername: url.hostname };
  return options;
}

/** Checks that Redis will not evict BullMQ's keys; returns a warning to log when it might. */
export async function checkEvictionPolicy(options: RedisOptions): Promise<string | undefined> {
  const client = new Redis({ ...options, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    return policy && policy !== 'noeviction'
      ? `Redis maxmemory-policy is ${policy}; BullMQ needs noeviction or jobs may be lost`
      : undefined;
  } catch {
    return undefined; // CONFIG may be disabled on managed Redis; nothing to check then.
  } finally {
    client.disconnect();
  }
}
