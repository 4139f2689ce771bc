import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import { blockedStoreKey, loadConfig, redisConnection, LogMessage } from '@eatr/core';
import type { EatrProcess } from '../harness/eatr-process.js';
import { RedisCluster, SentinelGroup, TlsRedis, redisCall } from '../harness/redis-ha.js';
import { logLineTime, overlappingRuns, runCount, syncRuns } from '../harness/sync-runs.js';
import { KEYS, Scenario, decodedAuth, leaseEnv, registry } from './support/scenario.js';

// Redis as production runs it (issue 11, part 1): a Sentinel group that fails over in the middle of
// a burst, a 3-master Redis Cluster, and TLS with a CA and a client certificate. Each runs real
// watcher and renewer processes against the real API server and checks what a user would see.

const EU = registry('eu-west-1');
const RECONNECT_SWEEP = LogMessage.redisReconnected;
const US = registry('us-east-1');

let s: Scenario | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** Runs `work` over `items` with at most `width` at once. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** eatr's pull Secrets for `host` in `namespaces`, by namespace (one LIST). */
async function pullSecrets(sc: Scenario, namespaces: ReadonlySet<string>, host = EU) {
  const list = await sc.core.listSecretForAllNamespaces({
    labelSelector: 'app.kubernetes.io/managed-by=eatr',
  });
  const out = new Map<string, V1Secret>();
  for (const secret of list.items) {
    const ns = secret.metadata?.namespace ?? '';
    if (namespaces.has(ns) && secret.metadata?.name === host) out.set(ns, secret);
  }
  return out;
}

/** Every namespace has a Secret holding a token the ECR endpoint issued, not yet expired. */
async function expectConverged(sc: Scenario, namespaces: readonly string[], timeoutMs: number) {
  const wanted = new Set(namespaces);
  let found = new Map<string, V1Secret>();
  const secrets = await sc
    .waitFor(
      `${namespaces.length} pull Secrets`,
      async () => {
        found = await pullSecrets(sc, wanted);
        return found.size === wanted.size ? found : undefined;
      },
      timeoutMs,
    )
    .catch((error: unknown) => {
      const missing = namespaces.filter((ns) => !found.has(ns));
      const problems = sc.allLogLines.filter((l) => /"level":"(warn|error|fatal)"/.test(l));
      if (process.env.EATR_REDIS_HA_LOG)
        writeFileSync(process.env.EATR_REDIS_HA_LOG, sc.allLogLines.join('\n'));
      throw new Error(
        `${found.size} of ${wanted.size} namespaces have their Secret; missing e.g. ${missing.slice(0, 5).join(', ')}; ` +
          `last warnings and errors of eatr's processes:\n${problems.slice(-10).join('\n')}`,
        { cause: error },
      );
    });
  const issued = new Set(sc.aws.issuedTokens().map((t) => t.password));
  for (const [ns, secret] of secrets) {
    expect(secret.type, ns).toBe('kubernetes.io/dockerconfigjson');
    expect(issued.has(decodedAuth(secret, EU).replace(/^AWS:/, '')), ns).toBe(true);
    expect(
      Date.parse(secret.metadata?.annotations?.['eatr.io/expires-at'] ?? ''),
      ns,
    ).toBeGreaterThan(Date.now());
  }
}

const secretCreatedTimes = (renewers: readonly EatrProcess[]) =>
  renewers.flatMap((r) =>
    r.logs
      .filter((l) => l.msg === LogMessage.secretCreated)
      .map(logLineTime)
      .filter((t) => t !== undefined),
  );

describe('Redis Sentinel', () => {
  let group: SentinelGroup;
  beforeAll(async () => {
    group = await SentinelGroup.start({ password: 'redis-pw', sentinelPassword: 'sentinel-pw' });
  });
  afterAll(async () => {
    await group.stop();
  });

  it('a failover in the middle of a 500-namespace burst: every namespace converges, no sync runs twice at once', async () => {
    const sc = (s = await Scenario.create([KEYS], { redisEnv: group.env }));
    await sc.createCredentialSecret(EU);
    const count = 500;
    const namespaces: string[] = [];
    await inParallel(
      Array.from({ length: count }, (_, i) => i),
      25,
      async (i) => {
        namespaces.push(await sc.createNamespace(`burst-${i}`, []));
      },
    );
    const renewers = [await sc.start('renewer'), await sc.start('renewer')];
    const watcher = await sc.start('watcher', leaseEnv('redis-sentinel'));
    await sc.waitFor('the watcher to lead', () => watcher.ready());
    const firstMaster = await group.masterPort();

    // The burst: label every namespace, and fail over once a fifth of the Secrets are written.
    const labelling = inParallel(namespaces, 25, (ns) => sc.setLabels(ns, { [EU]: 'true' }));
    await sc.waitFor(
      'a fifth of the Secrets',
      () => Promise.resolve(secretCreatedTimes(renewers).length >= count / 5),
      60_000,
    );
    const failoverAt = Date.now();
    const writtenBefore = secretCreatedTimes(renewers).length;
    const newMaster = await group.failover();
    const failoverDone = Date.now();
    await labelling;

    const labelled = Date.now();
    await expectConverged(sc, namespaces, 120_000);
    await sc.drained(60_000);
    expect(newMaster).not.toBe(firstMaster);
    // It was in the middle: Secrets were still being written after the new master took over.
    expect(writtenBefore).toBeLessThan(count);
    const times = secretCreatedTimes(renewers);
    expect(times.filter((t) => t > failoverDone).length).toBeGreaterThan(0);
    // Each namespace's Secret was created once: no sync was lost and redone from scratch by another.
    expect(times).toHaveLength(count);

    const runs = syncRuns(renewers);
    // Writes the old master took but had not replicated may be lost: just before SENTINEL FAILOVER,
    // and until the demoted master refuses writes, shortly after the new one takes them.
    const failover = { from: failoverAt - 1000, to: failoverDone + 2000 };
    expect(overlappingRuns(runs, { failover })).toEqual([]);
    for (const ns of namespaces) expect(runs.get(ns)?.length ?? 0, ns).toBeGreaterThan(0);

    const lastSecret = Math.max(...times);
    const sorted = [...times].sort((a, b) => a - b);
    const longestPause = Math.max(
      ...sorted.slice(1).map((t, i) => (t >= failoverAt ? t - (sorted[i] ?? t) : 0)),
    );
    const reconnectSweep = watcher.logs.find((l) => l.msg === RECONNECT_SWEEP);
    console.log(
      `sentinel failover during a ${count}-namespace burst: ${writtenBefore} Secrets written before; ` +
        `SENTINEL FAILOVER until the new master took writes ${failoverDone - failoverAt} ms; ` +
        `watcher's sweep after reconnecting at +${(logLineTime(reconnectSweep ?? {}) ?? Number.NaN) - failoverAt} ms; ` +
        `labelling done at +${labelled - failoverAt} ms; ` +
        `failover -> last Secret written ${lastSecret - failoverAt} ms; ` +
        `longest pause between two Secret writes after the failover ${longestPause} ms; ` +
        `${runCount(runs)} sync runs, ${[...runs.values()].flat().filter((r) => r.lost).length} of them on jobs the failover lost; ${overlappingRuns(runs).length} overlapping pair(s) in all, each of a job Redis may have dropped`,
    );
    // Redis replicates asynchronously: jobs the old master took but had not replicated are gone. The
    // watcher noticed the reconnect and swept, which is how those namespaces were still served.
    expect(reconnectSweep).toBeDefined();

    // The workers' blocking connections followed the new master: a new namespace is served now.
    const late = await sc.createNamespace('after-failover', [EU]);
    await sc.waitForSecret(late, EU);
  }, 300_000);

  it('the master crashing (SIGKILL) in the middle of a burst: every namespace converges, no sync runs twice at once', async () => {
    const sc = (s = await Scenario.create([KEYS], { redisEnv: group.env }));
    await sc.createCredentialSecret(EU);
    const count = 100;
    const namespaces: string[] = [];
    await inParallel(
      Array.from({ length: count }, (_, i) => i),
      25,
      async (i) => {
        namespaces.push(await sc.createNamespace(`crash-${i}`, []));
      },
    );
    const renewers = [await sc.start('renewer'), await sc.start('renewer')];
    const watcher = await sc.start('watcher', leaseEnv('redis-sentinel-crash'));
    await sc.waitFor('the watcher to lead', () => watcher.ready());

    const labelling = inParallel(namespaces, 10, (ns) => sc.setLabels(ns, { [EU]: 'true' }));
    await sc.waitFor(
      'a fifth of the Secrets',
      () => Promise.resolve(secretCreatedTimes(renewers).length >= count / 5),
      60_000,
    );
    const crashAt = Date.now();
    await group.killMaster();
    const promoted = Date.now();
    await labelling;
    await expectConverged(sc, namespaces, 120_000);
    await sc.drained(60_000);

    const times = secretCreatedTimes(renewers);
    expect(times).toHaveLength(count);
    // Writes the master took but had not replicated when it died are lost (the replica was in sync
    // just before); nothing is written while no master runs.
    const failover = { from: crashAt - 1000, to: promoted + 2000 };
    expect(overlappingRuns(syncRuns(renewers), { failover })).toEqual([]);
    const sorted = [...times].sort((a, b) => a - b);
    const longestPause = Math.max(
      ...sorted.slice(1).map((t, i) => (t >= crashAt ? t - (sorted[i] ?? t) : 0)),
    );
    console.log(
      `sentinel master SIGKILLed during a ${count}-namespace burst: replica promoted after ` +
        `${promoted - crashAt} ms; crash -> last Secret written ${Math.max(...times) - crashAt} ms; ` +
        `longest pause between two Secret writes after the crash ${longestPause} ms`,
    );
    const late = await sc.createNamespace('after-crash', [EU]);
    await sc.waitForSecret(late, EU);
  }, 300_000);
});

describe('Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3, password: 'cluster-pw' });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('watcher and renewer on 3 masters converge namespaces; every eatr key is in the hash tag slot', async () => {
    const sc = (s = await Scenario.create([KEYS], { redisEnv: cluster.env }));
    await sc.createCredentialSecret(EU);
    // One master evicts: the renewer's start-up check asks every master and names it.
    const [evicting] = cluster.ports;
    await redisCall(
      { port: evicting, password: 'cluster-pw' },
      'CONFIG',
      'SET',
      'maxmemory-policy',
      'allkeys-lru',
    );
    const renewer = await sc.start('renewer');
    await redisCall(
      { port: evicting, password: 'cluster-pw' },
      'CONFIG',
      'SET',
      'maxmemory-policy',
      'noeviction',
    );
    expect(
      renewer.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('maxmemory-policy'))
        ?.msg,
    ).toBe(
      `Redis maxmemory-policy is allkeys-lru on 127.0.0.1:${evicting}; BullMQ needs noeviction or jobs may be lost`,
    );
    await sc.start('watcher', leaseEnv('redis-cluster'));

    const namespaces: string[] = [];
    for (let i = 0; i < 30; i++) namespaces.push(await sc.createNamespace(`cluster-${i}`, [EU]));
    // No credentials for US: the renewer records it as blocked, in a hash beside the queue.
    const blocked = await sc.createNamespace('cluster-blocked', [US]);
    await expectConverged(sc, namespaces, 60_000);
    const redis = redisConnection(
      loadConfig('watcher', [], { ...cluster.env, EATR_QUEUE_PREFIX: sc.queuePrefix }),
      'producer',
    );
    try {
      const key = blockedStoreKey(sc.queuePrefix);
      const entries = await sc.waitFor('the blocked entry', async () => {
        const all = await redis.hgetall(key);
        return Object.keys(all).length > 0 ? all : undefined;
      });
      expect(Object.keys(entries)).toEqual([`${blocked}/${US}`]);
    } finally {
      redis.disconnect();
    }
    await sc.drained();
    // The queue's keys (and the blocked hash) share one slot, so one master holds all of them.
    const keys = [...(await cluster.keysPerNode()).values()];
    expect(keys.filter((n) => n > 0)).toHaveLength(1);
  }, 180_000);
});

describe('Redis over TLS', () => {
  it('converges with the CA of a TLS-only Redis', async () => {
    const redis = await TlsRedis.start();
    try {
      const sc = (s = await Scenario.create([KEYS], { redisEnv: redis.env() }));
      await sc.createCredentialSecret(EU);
      await sc.start('renewer');
      await sc.start('watcher', leaseEnv('redis-tls'));
      const namespaces: string[] = [];
      for (let i = 0; i < 5; i++) namespaces.push(await sc.createNamespace(`tls-${i}`, [EU]));
      await expectConverged(sc, namespaces, 30_000);
      await sc.close();
    } finally {
      await redis.stop();
    }
  }, 120_000);

  it('converges with a client certificate where Redis requires one', async () => {
    const redis = await TlsRedis.start({ requireClientCert: true });
    try {
      const sc = (s = await Scenario.create([KEYS], { redisEnv: redis.env({ clientCert: true }) }));
      await sc.createCredentialSecret(EU);
      await sc.start('renewer');
      await sc.start('watcher', leaseEnv('redis-mtls'));
      const namespaces: string[] = [];
      for (let i = 0; i < 5; i++) namespaces.push(await sc.createNamespace(`mtls-${i}`, [EU]));
      await expectConverged(sc, namespaces, 30_000);
      await sc.close();
    } finally {
      await redis.stop();
    }
  }, 120_000);
});
