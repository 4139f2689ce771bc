import { isIP } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { CommonConfig } from '../config/component-config.js';
import type { RedisConfig } from '../config/redis-config.js';
import { ReloadingTlsFiles } from './reloading-tls-files.js';

/** A connection to eatr's Redis, whatever its mode: what BullMQ's Queue and Worker take. */
export type RedisClient = Redis | Cluster;

/**
 * Workers hold blocking connections, which must retry forever; producers fail fast so an enqueue
 * error surfaces.
 */
export type RedisRole = 'worker' | 'producer';

/**
 * Node TLS options from the configured material. Material from files is read again at each connect
 * (ReloadingTlsFiles), so a rotated CA or client certificate is used at the next reconnect.
 */
export function tlsOptions(tls: NonNullable<RedisConfig['tls']>, servername?: string): TlsOptions {
  if (tls.files) return new ReloadingTlsFiles(tls.files, tls).connectionOptions(servername);
  return {
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(servername ? { servername } : {}),
  };
}

// After a Sentinel failover, a connection still on the demoted master answers writes with
// READONLY: reconnect (Sentinel mode asks the sentinels for the new master) and resend the command,
// which did not run.
const reconnectOnReadonly = (error: Error): 2 | false =>
  error.message.startsWith('READONLY') ? 2 : false;

/**
 * The ioredis options of one Redis connection for a role (pure): for a standalone URL, a Sentinel
 * group (the master it names, found again after a failover), or each node of a Cluster.
 */
export function redisOptions(config: Pick<CommonConfig, 'redis'>, role: RedisRole): RedisOptions {
  const redis = config.redis;
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableOfflineQueue: role === 'worker',
    retryStrategy: (times) => Math.min(times * 200, 5000),
    reconnectOnError: reconnectOnReadonly,
    // A producer sends no blocking commands, so a reply that takes 10 s means a dead (half-open)
    // connection: drop it and reconnect rather than wait minutes for TCP to notice.
    ...(role === 'producer' ? { socketTimeout: 10_000 } : {}),
  };
  if (redis.password) options.password = redis.password;
  if (redis.mode === 'standalone') {
    const url = new URL(redis.url);
    options.host = url.hostname;
    options.port = url.port ? Number(url.port) : 6379;
    options.db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    const username = decodeURIComponent(url.username);
    const password = redis.password ?? (url.password ? decodeURIComponent(url.password) : '');
    if (username) options.username = username;
    if (password) options.password = password;
    // SNI takes host names only (an IP is verified against the certificate's IP SANs without it).
    if (redis.tls)
      options.tls = tlsOptions(redis.tls, isIP(url.hostname) ? undefined : url.hostname);
    return options;
  }
  if (redis.mode === 'sentinel') {
    options.sentinels = redis.sentinels.map(({ host, port }) => ({ host, port }));
    options.name = redis.masterName;
    if (redis.sentinelPassword) options.sentinelPassword = redis.sentinelPassword;
    // Not ioredis's `failoverDetector`: its +switch-master handler, arriving while a connection to a
    // crashed master is being re-established, ends that connection for good ("Connection is
    // closed"; test/integration/redis-ha.test.ts caught it). followFailovers() does the same job
    // for connections that are up, and a reconnect always asks the sentinels.
    options.sentinelRetryStrategy = (times) => Math.min(times * 200, 5000);
    if (redis.tls) {
      // Managed and chart-deployed Sentinel groups use one CA for sentinels and servers.
      options.tls = tlsOptions(redis.tls);
      options.sentinelTLS = tlsOptions(redis.tls);
      options.enableTLSForSentinelMode = true;
    }
    return options;
  }
  if (redis.tls) options.tls = tlsOptions(redis.tls);
  return options;
}

/** The ioredis Cluster options for a role (pure); per-node options are `redisOptions`. */
export function clusterOptions(
  config: Pick<CommonConfig, 'redis'>,
  role: RedisRole,
): ClusterOptions {
  const {
    host: _host,
    port: _port,
    retryStrategy: _retry,
    enableOfflineQueue: _offline,
    ...node
  } = redisOptions(config, role);
  return {
    redisOptions: node,
    // Commands wait for the slot map (Cluster connects in stages); BullMQ waits for ready anyway.
    enableOfflineQueue: true,
    clusterRetryStrategy: (times) => Math.min(times * 200, 5000),
    // Keep host names as given so TLS verifies them (managed clusters, e.g. ElastiCache, need this).
    ...(config.redis.tls
      ? { dnsLookup: (address: string, callback) => callback(null, address) }
      : {}),
    slotsRefreshTimeout: 2000,
  } satisfies ClusterOptions;
}

/**
 * A new connection for a role, for BullMQ (`connection:`) and eatr's own keys. The caller owns it:
 * BullMQ does not close a connection it was given, so close it after the Queue or Worker.
 */
export function redisConnection(
  config: Pick<CommonConfig, 'redis'>,
  role: RedisRole,
  extra: { readonly lazyConnect?: boolean } = {},
): RedisClient {
  if (config.redis.mode === 'cluster') {
    const options = clusterOptions(config, role);
    return new Cluster(
      config.redis.nodes.map(({ host, port }) => ({ host, port })),
      { ...options, ...(extra.lazyConnect ? { lazyConnect: true } : {}) },
    );
  }
  const options = {
    ...redisOptions(config, role),
    ...(extra.lazyConnect ? { lazyConnect: true } : {}),
  };
  return config.redis.mode === 'sentinel' ? new SentinelRedis(options) : new Redis(options);
}

/**
 * A Sentinel-mode connection that remembers its copies: BullMQ's Worker makes its blocking
 * connection with duplicate(), and followFailovers() must move that one to a new master too.
 */
class SentinelRedis extends Redis {
  readonly copies = new Set<Redis>();

  override duplicate(override?: Partial<RedisOptions>): Redis {
    const copy = super.duplicate(override);
    this.copies.add(copy);
    copy.once('end', () => this.copies.delete(copy));
    return copy;
  }
}

/** What followFailovers() needs of a log. */
interface FailoverLog {
  info(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

/**
 * In Sentinel mode, listens on every sentinel for `+switch-master` of the configured master and
 * makes each of `clients` that is connected reconnect, so it asks the sentinels for the new master
 * at once. Without it a client stays on a demoted master until the sentinels reconfigure that one
 * (seconds later) and every write it took meanwhile is lost. A client that is reconnecting already
 * is left alone. Returns a function that stops listening; a no-op outside Sentinel mode.
 */
export function followFailovers(
  config: Pick<CommonConfig, 'redis'>,
  clients: readonly RedisClient[],
  log: FailoverLog,
): () => void {
  const redis = config.redis;
  if (redis.mode !== 'sentinel') return () => undefined;
  let lastSwitch = '';
  const subscribers = redis.sentinels.map(({ host, port }) => {
    const sentinel = new Redis({
      host,
      port,
      ...(redis.sentinelPassword ? { password: redis.sentinelPassword } : {}),
      ...(redis.tls ? { tls: tlsOptions(redis.tls) } : {}),
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(times * 200, 5000),
    });
    sentinel.on('error', (error: Error) =>
      log.debug({ err: error.message, sentinel: `${host}:${port}` }, 'sentinel connection error'),
    );
    sentinel.subscribe('+switch-master').catch(() => undefined);
    sentinel.on('message', (_channel: string, message: string) => {
      // "<master name> <old ip> <old port> <new ip> <new port>"
      const [name, , , newHost, newPort] = message.split(' ');
      const to = `${newHost ?? ''}:${newPort ?? ''}`;
      // Every sentinel announces the switch: act once per new master.
      if (name !== redis.masterName || to === lastSwitch) return;
      lastSwitch = to;
      const ready = clients
        .flatMap((c) => (c instanceof SentinelRedis ? [c, ...c.copies] : [c]))
        .filter((c) => c.status === 'ready');
      log.info({ master: to, reconnecting: ready.length }, 'Redis Sentinel failover: reconnecting');
      for (const client of ready) client.disconnect(true);
    });
    return sentinel;
  });
  return () => {
    for (const s of subscribers) s.disconnect();
  };
}

/** Where the connection goes, for logs (no password). */
export function describeRedis(config: Pick<CommonConfig, 'redis'>): Record<string, unknown> {
  const r = config.redis;
  const tls = r.tls !== undefined;
  if (r.mode === 'sentinel')
    return {
      mode: r.mode,
      sentinels: r.sentinels.map((s) => `${s.host}:${s.port}`),
      master: r.masterName,
      tls,
    };
  if (r.mode === 'cluster')
    return { mode: r.mode, nodes: r.nodes.map((n) => `${n.host}:${n.port}`), tls };
  const url = new URL(r.url);
  return { mode: r.mode, host: url.host, tls };
}

/**
 * Checks that Redis will not evict BullMQ's keys; returns a warning to log when it might. On a
 * Cluster every master is asked (the queue's slot may move); with Sentinel, the current master.
 */
export async function checkEvictionPolicy(
  config: Pick<CommonConfig, 'redis'>,
): Promise<string | undefined> {
  const client = redisConnection(config, 'producer', { lazyConnect: true });
  const policyOf = async (redis: Redis): Promise<string | undefined> => {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    return reply[1];
  };
  try {
    await client.connect();
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    const findings: string[] = [];
    for (const node of nodes) {
      const policy = await policyOf(node).catch(() => undefined);
      if (policy === undefined || policy === 'noeviction') continue;
      const where = `${node.options.host ?? '?'}:${String(node.options.port ?? '?')}`;
      findings.push(nodes.length > 1 ? `${policy} on ${where}` : policy);
    }
    return findings.length > 0
      ? `Redis maxmemory-policy is ${findings.join(', ')}; BullMQ needs noeviction or jobs may be lost`
      : undefined;
  } catch {
    return undefined; // CONFIG may be disabled on managed Redis; nothing to check then.
  } finally {
    client.disconnect();
  }
}
