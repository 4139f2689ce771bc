import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A Redis or Sentinel address. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * TLS material, read from files at start-up (a file that cannot be read is a configuration error
 * then, not a connection error later), and the files' paths, which connections read again so a
 * rotation is used without a restart. Empty when TLS relies on public CAs.
 */
export interface RedisTls {
  /** PEM CA bundle the server certificate must chain to (default: Node's public CAs). */
  readonly ca?: string;
  /** PEM client certificate and key, for servers that require one (`tls-auth-clients yes`). */
  readonly cert?: string;
  readonly key?: string;
  /** Where `ca`, `cert` and `key` came from. */
  readonly files?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

interface RedisCommon {
  /** Password of the Redis servers (not of the sentinels). */
  readonly password: string | undefined;
  /** TLS to every Redis (and Sentinel) connection; undefined for plain TCP. */
  readonly tls: RedisTls | undefined;
}

export type RedisConfig =
  | (RedisCommon & { readonly mode: 'standalone'; readonly url: string })
  | (RedisCommon & {
      readonly mode: 'sentinel';
      readonly sentinels: readonly HostPort[];
      readonly masterName: string;
      readonly sentinelPassword: string | undefined;
    })
  | (RedisCommon & { readonly mode: 'cluster'; readonly nodes: readonly HostPort[] });

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_SENTINEL_MASTER = 'mymaster';

/** The raw Redis settings, as flags and environment give them (undefined = not set). */
export interface RawRedisSettings {
  readonly url: string | undefined;
  readonly password: string | undefined;
  readonly sentinels: string | undefined;
  readonly sentinelMaster: string | undefined;
  readonly sentinelPassword: string | undefined;
  readonly clusterNodes: string | undefined;
  readonly tls: boolean;
  readonly tlsCa: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly queuePrefix: string;
}

/**
 * `host:port,host:port` (IPv6 as `[::1]:26379`). Returns the addresses or the first bad item
 * (pure).
 */
export function parseHostPortList(
  text: string,
): { ok: true; value: HostPort[] } | { ok: false; bad: string } {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) return { ok: false, bad: text };
  const value: HostPort[] = [];
  for (const item of items) {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(item);
    const port = Number(match?.[3]);
    const host = match?.[1] ?? match?.[2];
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
      return { ok: false, bad: item };
    value.push({ host, port });
  }
  return { ok: true, value };
}

/**
 * The hash tag Redis Cluster would hash a key with this prefix by: the text between the first `{`
 * and the next `}`, when not empty (pure). Every BullMQ key of one queue must share one slot.
 */
export function hashTagOf(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return prefix.slice(open + 1, close);
}

function readPem(setting: string, path: string, check: (pem: string) => void): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RedisConfigError(`${setting}: cannot read ${path} (${code})`);
  }
  try {
    check(pem);
  } catch (error) {
    throw new RedisConfigError(
      `${setting}: ${path} is not a PEM ${setting.endsWith('key') ? 'private key' : 'certificate'} (${(error as Error).message})`,
    );
  }
  return pem;
}

/** A bad Redis setting; redis-settings.ts turns it into a ConfigError. */
export class RedisConfigError extends Error {}

/**
 * Decides the Redis mode from the settings and reads the TLS files. Exactly one of a URL, sentinels
 * or cluster nodes; a conflict names both settings. Throws RedisConfigError.
 */
export function resolveRedisConfig(raw: RawRedisSettings): RedisConfig {
  const given = [
    raw.url !== undefined ? 'redis-url' : undefined,
    raw.sentinels !== undefined ? 'redis-sentinels' : undefined,
    raw.clusterNodes !== undefined ? 'redis-cluster-nodes' : undefined,
  ].filter((s): s is string => s !== undefined);
  if (given.length > 1)
    throw new RedisConfigError(
      `${given[0]} and ${given[1]} are both set: eatr uses one Redis, give only one of them`,
    );
  if (raw.sentinelMaster !== undefined && raw.sentinels === undefined)
    throw new RedisConfigError('redis-sentinel-master is set but redis-sentinels is not');
  if (raw.sentinelPassword !== undefined && raw.sentinels === undefined)
    throw new RedisConfigError('redis-sentinel-password is set but redis-sentinels is not');

  const url = raw.url ?? (given.length === 0 ? DEFAULT_REDIS_URL : undefined);
  if (url !== undefined && !(/^rediss?:\/\//.test(url) && URL.canParse(url)))
    throw new RedisConfigError('redis-url: must be a redis:// or rediss:// URL');
  const tlsOn = raw.tls || (url?.startsWith('rediss://') ?? false);
  for (const [setting, value] of [
    ['redis-tls-ca', raw.tlsCa],
    ['redis-tls-cert', raw.tlsCert],
    ['redis-tls-key', raw.tlsKey],
  ] as const) {
    if (value !== undefined && !tlsOn)
      throw new RedisConfigError(
        `${setting} is set but TLS is off: use a rediss:// redis-url or set redis-tls to true`,
      );
  }
  if ((raw.tlsCert === undefined) !== (raw.tlsKey === undefined))
    throw new RedisConfigError(
      raw.tlsCert === undefined
        ? 'redis-tls-key is set without redis-tls-cert: a client certificate needs both'
        : 'redis-tls-cert is set without redis-tls-key: a client certificate needs both',
    );
  let tls: RedisTls | undefined;
  if (tlsOn) {
    const ca = raw.tlsCa && readPem('redis-tls-ca', raw.tlsCa, (pem) => new X509Certificate(pem));
    const key =
      raw.tlsKey && readPem('redis-tls-key', raw.tlsKey, (pem) => void createPrivateKey(pem));
    const cert =
      raw.tlsCert &&
      readPem('redis-tls-cert', raw.tlsCert, (pem) => {
        const x509 = new X509Certificate(pem);
        if (key && !x509.checkPrivateKey(createPrivateKey(key)))
          throw new Error(`it does not match the key in ${raw.tlsKey}`);
      });
    const files = {
      ...(raw.tlsCa ? { ca: raw.tlsCa } : {}),
      ...(raw.tlsCert ? { cert: raw.tlsCert } : {}),
      ...(raw.tlsKey ? { key: raw.tlsKey } : {}),
    };
    tls = {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(Object.keys(files).length > 0 ? { files } : {}),
    };
  }
  const common = { password: raw.password || undefined, tls };

  if (raw.sentinels !== undefined) {
    const parsed = parseHostPortList(raw.sentinels);
    if (!parsed.ok)
      throw new RedisConfigError(
        `redis-sentinels: "${parsed.bad}" is not host:port (give a comma list of sentinel addresses)`,
      );
    const masterName = raw.sentinelMaster ?? DEFAULT_SENTINEL_MASTER;
    if (!/^[A-Za-z0-9._-]+$/.test(masterName))
      throw new RedisConfigError(
        `redis-sentinel-master: "${masterName}" is not a Sentinel master name`,
      );
    return {
      ...common,
      mode: 'sentinel',
      sentinels: parsed.value,
      masterName,
      sentinelPassword: raw.sentinelPassword || undefined,
    };
  }
  if (raw.clusterNodes !== undefined) {
    const parsed = parseHostPortList(raw.clusterNodes);
    if (!parsed.ok)
      throw new RedisConfigError(
        `redis-cluster-nodes: "${parsed.bad}" is not host:port (give a comma list of cluster nodes)`,
      );
    if (hashTagOf(raw.queuePrefix) === undefined)
      throw new RedisConfigError(
        `queue-prefix: "${raw.queuePrefix}" has no {hash tag}; Redis Cluster needs one (e.g. {eatr}) so every queue key is in one slot`,
      );
    return { ...common, mode: 'cluster', nodes: parsed.value };
  }
  return { ...common, mode: 'standalone', url: url ?? DEFAULT_REDIS_URL };
}
