import { z } from 'zod';
import { ConfigError } from './config-error.js';
import {
  DEFAULT_REDIS_URL,
  DEFAULT_SENTINEL_MASTER,
  RedisConfigError,
  resolveRedisConfig,
  type RedisConfig,
} from './redis-config.js';
import { BOTH, type Setting } from './setting.js';
import { boolean } from './value-parsers.js';

// Checked together in resolveRedisConfig(): which mode, conflicts, TLS files.
const redisText = z.string().optional();

/** The Redis connection settings, a part of SETTINGS (settings.ts), in their order there. */
export const REDIS_SETTINGS = [
  {
    flag: 'redis-url',
    env: ['EATR_REDIS_URL', 'REDIS_URL'],
    components: BOTH,
    // No defaultValue: an unset URL is how a Sentinel or Cluster setting is told from a conflict.
    description: `standalone Redis URL (redis:// or rediss:// for TLS; default ${DEFAULT_REDIS_URL} when no sentinels or cluster nodes are set)`,
    parse: redisText,
  },
  {
    flag: 'redis-password',
    env: ['EATR_REDIS_PASSWORD'],
    components: BOTH,
    description: 'Redis password (overrides one in the URL; also for Sentinel and Cluster)',
    parse: redisText,
  },
  {
    flag: 'redis-sentinels',
    env: ['EATR_REDIS_SENTINELS'],
    components: BOTH,
    description: 'Sentinel addresses, host:port comma list (Sentinel mode; not with redis-url)',
    parse: redisText,
  },
  {
    flag: 'redis-sentinel-master',
    env: ['EATR_REDIS_SENTINEL_MASTER'],
    components: BOTH,
    description: `name of the master the sentinels monitor (default: ${DEFAULT_SENTINEL_MASTER})`,
    parse: redisText,
  },
  {
    flag: 'redis-sentinel-password',
    env: ['EATR_REDIS_SENTINEL_PASSWORD'],
    components: BOTH,
    description: "the sentinels' own password (requirepass of redis-sentinel), if any",
    parse: redisText,
  },
  {
    flag: 'redis-cluster-nodes',
    env: ['EATR_REDIS_CLUSTER_NODES'],
    components: BOTH,
    description:
      'Redis Cluster seed nodes, host:port comma list (Cluster mode; queue-prefix needs a {hash tag})',
    parse: redisText,
  },
  {
    flag: 'redis-tls',
    env: ['EATR_REDIS_TLS'],
    components: BOTH,
    defaultValue: 'false',
    description: 'use TLS to Redis (and sentinels); a rediss:// URL turns it on too',
    parse: boolean('redis-tls'),
  },
  {
    flag: 'redis-tls-ca',
    env: ['EATR_REDIS_TLS_CA'],
    components: BOTH,
    description: "PEM CA bundle file that Redis's certificate must chain to (default: public CAs)",
    parse: redisText,
  },
  {
    flag: 'redis-tls-cert',
    env: ['EATR_REDIS_TLS_CERT'],
    components: BOTH,
    description:
      'PEM client certificate file, for Redis with tls-auth-clients (with redis-tls-key)',
    parse: redisText,
  },
  {
    flag: 'redis-tls-key',
    env: ['EATR_REDIS_TLS_KEY'],
    components: BOTH,
    description: 'PEM private key file of redis-tls-cert',
    parse: redisText,
  },
] as const satisfies readonly Setting[];

type RedisSetting = (typeof REDIS_SETTINGS)[number];

/** The parsed Redis settings, and the queue prefix that a Cluster's hash tag is checked against. */
export type ParsedRedisSettings = {
  readonly [S in RedisSetting as S['flag']]?: z.output<S['parse']>;
} & { readonly 'redis-tls': boolean; readonly 'queue-prefix': string };

/** The one Redis the parsed settings describe; throws ConfigError for a bad or conflicting one. */
export function redisConfigFromSettings(c: ParsedRedisSettings): RedisConfig {
  // An empty value (e.g. a chart that sets the variable to "") counts as not set.
  const given = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  try {
    return resolveRedisConfig({
      url: given(c['redis-url']),
      password: c['redis-password'],
      sentinels: given(c['redis-sentinels']),
      sentinelMaster: given(c['redis-sentinel-master']),
      sentinelPassword: given(c['redis-sentinel-password']),
      clusterNodes: given(c['redis-cluster-nodes']),
      tls: c['redis-tls'],
      tlsCa: given(c['redis-tls-ca']),
      tlsCert: given(c['redis-tls-cert']),
      tlsKey: given(c['redis-tls-key']),
      queuePrefix: c['queue-prefix'],
    });
  } catch (error) {
    if (error instanceof RedisConfigError) throw new ConfigError(error.message);
    throw error;
  }
}
