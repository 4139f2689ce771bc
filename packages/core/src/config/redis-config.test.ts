import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import { hashTagOf, parseHostPortList } from './redis-config.js';
import { clusterOptions, redisOptions } from '../runtime/redis.js';

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eatr-redis-config-'));
  // Two self-signed P-256 certificates with their keys (a CA bundle is any certificate).
  for (const name of ['a', 'b']) {
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`),
    ], { stdio: 'ignore' });
  }
  writeFileSync(file('junk.pem'), 'not a certificate\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv, argv: string[] = []) => loadConfig('renewer', argv, env);

describe('Redis settings', () => {
  it('defaults to a standalone Redis on localhost without TLS', () => {
    expect(load({}).redis).toEqual({
      mode: 'standalone',
      url: 'redis://127.0.0.1:6379',
      password: undefined,
      tls: undefined,
    });
  });

  it('reads a Sentinel group from flags or environment, with the default master name', () => {
    const fromEnv = load({
      EATR_REDIS_SENTINELS: 's1:26379, s2:26380,[::1]:26381',
      EATR_REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      EATR_REDIS_PASSWORD: 'redis-pw',
    }).redis;
    expect(fromEnv).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      masterName: 'mymaster',
      sentinelPassword: 'sentinel-pw',
      password: 'redis-pw',
      tls: undefined,
    });
    const fromFlags = load({}, [
      '--redis-sentinels',
      'a:1',
      '--redis-sentinel-master',
      'eatr-master',
    ]).redis;
    expect(fromFlags).toMatchObject({ mode: 'sentinel', masterName: 'eatr-master' });
  });

  it('reads Cluster seed nodes', () => {
    const c = load({ EATR_REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001' });
    expect(c.redis).toMatchObject({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
    });
  });

  it('reads the TLS files at start-up: CA alone, or CA with a client certificate', () => {
    const ca = load({ EATR_REDIS_URL: 'rediss://r:6380', EATR_REDIS_TLS_CA: file('a.crt') });
    expect(ca.redis.tls?.ca).toContain('BEGIN CERTIFICATE');
    expect(ca.redis.tls?.cert).toBeUndefined();
    const mutual = load({
      EATR_REDIS_SENTINELS: 's:26379',
      EATR_REDIS_TLS: 'true',
      EATR_REDIS_TLS_CA: file('a.crt'),
      EATR_REDIS_TLS_CERT: file('b.crt'),
      EATR_REDIS_TLS_KEY: file('b.key'),
    });
    expect(mutual.redis.tls?.cert).toContain('BEGIN CERTIFICATE');
    expect(mutual.redis.tls?.key).toContain('PRIVATE KEY');
    // rediss:// alone is TLS with the public CAs.
    expect(load({ EATR_REDIS_URL: 'rediss://r:6380' }).redis.tls).toEqual({});
  });

  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    [
      'a URL and sentinels',
      { EATR_REDIS_URL: 'redis://r:6379', EATR_REDIS_SENTINELS: 's:26379' },
      /^redis-url and redis-sentinels are both set/,
    ],
    [
      'a URL and cluster nodes',
      { REDIS_URL: 'redis://r:6379', EATR_REDIS_CLUSTER_NODES: 'n:7000' },
      /^redis-url and redis-cluster-nodes are both set/,
    ],
    [
      'sentinels and cluster nodes',
      { EATR_REDIS_SENTINELS: 's:26379', EATR_REDIS_CLUSTER_NODES: 'n:7000' },
      /^redis-sentinels and redis-cluster-nodes are both set/,
    ],
    [
      'a sentinel without a port',
      { EATR_REDIS_SENTINELS: 's:26379,s2' },
      /^redis-sentinels: "s2" is not host:port/,
    ],
    [
      'a cluster node with a bad port',
      { EATR_REDIS_CLUSTER_NODES: 'n:70000' },
      /^redis-cluster-nodes: "n:70000" is not host:port/,
    ],
    [
      'a master name without sentinels',
      { EATR_REDIS_SENTINEL_MASTER: 'm' },
      /^redis-sentinel-master is set but redis-sentinels is not/,
    ],
    [
      'a sentinel password without sentinels',
      { EATR_REDIS_SENTINEL_PASSWORD: 'p' },
      /^redis-sentinel-password is set but redis-sentinels is not/,
    ],
    [
      'Cluster with a prefix without a hash tag',
      { EATR_REDIS_CLUSTER_NODES: 'n:7000', EATR_QUEUE_PREFIX: 'eatr' },
      /^queue-prefix: "eatr" has no \{hash tag\}; Redis Cluster needs one/,
    ],
    [
      'Cluster with an empty hash tag',
      { EATR_REDIS_CLUSTER_NODES: 'n:7000', EATR_QUEUE_PREFIX: '{}eatr' },
      /^queue-prefix: "\{\}eatr" has no \{hash tag\}/,
    ],
    ['a URL of another scheme', { EATR_REDIS_URL: 'http://r:6379' }, /^redis-url: must be a/],
    [
      'a CA without TLS',
      { EATR_REDIS_URL: 'redis://r:6379', EATR_REDIS_TLS_CA: '/ca.crt' },
      /^redis-tls-ca is set but TLS is off/,
    ],
    [
      'a client certificate without its key',
      { EATR_REDIS_TLS: 'true', EATR_REDIS_TLS_CERT: '/c.crt' },
      /^redis-tls-cert is set without redis-tls-key/,
    ],
    [
      'a missing CA file',
      { EATR_REDIS_TLS: 'yes', EATR_REDIS_TLS_CA: '/nonexistent/ca.crt' },
      /^redis-tls-ca: cannot read \/nonexistent\/ca.crt \(ENOENT\)/,
    ],
    [
      'a CA file that is not a certificate',
      { EATR_REDIS_TLS: 'true', EATR_REDIS_TLS_CA: '<junk.pem>' },
      /^redis-tls-ca: .*junk.pem is not a PEM certificate/,
    ],
    [
      'a key that is not a key',
      {
        EATR_REDIS_TLS: 'true',
        EATR_REDIS_TLS_CERT: '<b.crt>',
        EATR_REDIS_TLS_KEY: '<junk.pem>',
      },
      /^redis-tls-key: .*junk.pem is not a PEM private key/,
    ],
    [
      "a client certificate with another certificate's key",
      { EATR_REDIS_TLS: 'true', EATR_REDIS_TLS_CERT: '<b.crt>', EATR_REDIS_TLS_KEY: '<a.key>' },
      /^redis-tls-cert: .*b.crt is not a PEM certificate \(it does not match the key in .*a.key\)/,
    ],
    ['a bad redis-tls value', { EATR_REDIS_TLS: 'maybe' }, /^EATR_REDIS_TLS: "maybe" must be true/],
  ])('rejects %s with one clear message', (_case, env, message) => {
    const withFiles = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, v?.replace(/^<(.+)>$/, (_m, f: string) => file(f))]),
    );
    expect(() => load(withFiles)).toThrow(ConfigError);
    expect(() => load(withFiles)).toThrow(message);
  });

  it('says why a TLS file cannot be read', () => {
    expect(() => load({ EATR_REDIS_TLS: 'true', EATR_REDIS_TLS_CA: file('a.crt/ca.crt') })).toThrow(
      /^redis-tls-ca: cannot read .*a.crt\/ca.crt \(ENOTDIR\)/,
    );
  });
});

describe('parseHostPortList', () => {
  it.each<[string, ReturnType<typeof parseHostPortList>]>([
    ['a:1', { ok: true, value: [{ host: 'a', port: 1 }] }],
    [
      ' a:1 , b.c:65535 ',
      {
        ok: true,
        value: [
          { host: 'a', port: 1 },
          { host: 'b.c', port: 65535 },
        ],
      },
    ],
    ['[fd00::1]:26379', { ok: true, value: [{ host: 'fd00::1', port: 26379 }] }],
    ['', { ok: false, bad: '' }],
    ['a', { ok: false, bad: 'a' }],
    ['a:0', { ok: false, bad: 'a:0' }],
    ['redis://a:1', { ok: false, bad: 'redis://a:1' }],
    ['fd00::1:26379', { ok: false, bad: 'fd00::1:26379' }],
  ])('%j', (text, expected) => {
    expect(parseHostPortList(text)).toEqual(expected);
  });
});

describe('hashTagOf', () => {
  it.each<[string, string | undefined]>([
    ['{eatr}', 'eatr'],
    ['{eatr}-staging', 'eatr'],
    ['x{a}{b}', 'a'],
    ['eatr', undefined],
    ['{}eatr', undefined],
    ['{eatr', undefined],
  ])('%j -> %j', (prefix, tag) => {
    expect(hashTagOf(prefix)).toBe(tag);
  });
});

describe('redisOptions', () => {
  it('gives BullMQ workers connections that retry forever, producers ones that fail fast', () => {
    const config = load({ EATR_REDIS_URL: 'redis://user:pw@r:6380/2' });
    expect(redisOptions(config, 'worker')).toMatchObject({
      host: 'r',
      port: 6380,
      db: 2,
      username: 'user',
      password: 'pw',
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
    expect(redisOptions(config, 'producer')).toMatchObject({
      maxRetriesPerRequest: 3,
      enableOfflineQueue: false,
    });
  });

  it('asks the sentinels for the master, with TLS to both', () => {
    const config = load({
      EATR_REDIS_SENTINELS: 's1:26379,s2:26379',
      EATR_REDIS_SENTINEL_MASTER: 'm',
      EATR_REDIS_SENTINEL_PASSWORD: 'sp',
      EATR_REDIS_PASSWORD: 'rp',
      EATR_REDIS_TLS: 'true',
      EATR_REDIS_TLS_CA: file('a.crt'),
    });
    const options = redisOptions(config, 'worker');
    expect(options).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'm',
      sentinelPassword: 'sp',
      password: 'rp',
      enableTLSForSentinelMode: true,
    });
    expect(options.tls?.ca).toContain('BEGIN CERTIFICATE');
    expect(options.sentinelTLS?.ca).toContain('BEGIN CERTIFICATE');
    expect(options.host).toBeUndefined();
  });

  it('reconnects and resends a write that a demoted master refused (READONLY)', () => {
    const config = load({ EATR_REDIS_SENTINELS: 's:26379' });
    const reconnect = redisOptions(config, 'worker').reconnectOnError;
    expect(reconnect?.(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnect?.(new Error('ERR unknown command'))).toBe(false);
  });

  it('gives a Cluster the per-node options of the role, with TLS', () => {
    const config = load({
      EATR_REDIS_CLUSTER_NODES: 'n:7000',
      EATR_REDIS_PASSWORD: 'rp',
      EATR_REDIS_TLS: 'true',
    });
    const options = clusterOptions(config, 'worker');
    expect(options.redisOptions).toMatchObject({ password: 'rp', maxRetriesPerRequest: null });
    expect(options.redisOptions?.tls).toEqual({});
    expect(options.dnsLookup).toBeTypeOf('function');
  });
});
