import type { CoreV1Api, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  PROBE_JOB,
  QUEUE_NAME,
  RENEW_AFTER_ANNOTATION,
  enqueueSync,
  followFailovers,
  loadConfig,
  redisConnection,
  type RedisClient,
  type SyncForce,
  type WaitForVersion,
} from '@eatr/core';
import { FakeAwsEndpoint, type CredentialConfig } from '../../harness/aws/index.js';
import { EatrProcess, type EatrComponent } from '../../harness/eatr-process.js';
import { harness, kubeClients, uniqueName } from '../../harness/index.js';
import { logLineTime, overlappingRuns, runCount, syncRuns } from '../../harness/sync-runs.js';

/** A watcher's own Lease (so tests do not share one) with a short duration for quick failovers. */
export const leaseEnv = (name: string) => ({ EATR_LEASE_NAME: name, EATR_LEASE_DURATION: '3s' });

/** A registry host in the fake endpoint's default account. */
export const registry = (region: string, account = '123456789012') =>
  `${account}.dkr.ecr.${region}.amazonaws.com`;

export const KEYS: CredentialConfig = {
  accessKeyId: 'AKIAEATRTESTKEY00001',
  secretAccessKey: 'eatr-test-secret-key-1/abcdefghijklmnop',
};
export const OTHER_KEYS: CredentialConfig = {
  accessKeyId: 'AKIAEATRTESTKEY00002',
  secretAccessKey: 'eatr-test-secret-key-2/qrstuvwxyz012345',
};

/**
 * One test's world on the shared cluster and Redis: its own host namespace, queue prefix and AWS
 * endpoint, the processes it started, and helpers to act like a user. `close()` stops everything.
 */
export class Scenario {
  readonly hostNamespace = uniqueName('host');
  readonly queuePrefix = `{${uniqueName('q')}}`;
  readonly core: CoreV1Api;
  readonly kubeconfigPath: string;
  readonly apiServerUrl: string;
  readonly redisUrl: string;
  readonly queue: Queue;
  private readonly processes: EatrProcess[] = [];
  /** Namespaces createNamespace made: deleted on close, so later tests' watchers do not serve them. */
  private readonly namespaces: string[] = [];
  private closing: Promise<void> | undefined;
  /** The test's own connection to a Redis given in `redisEnv` (eatr's connection code reaches it). */
  private readonly redisClient: RedisClient | undefined;
  private readonly stopFollowingFailovers: () => void;

  private constructor(
    readonly aws: FakeAwsEndpoint,
    private readonly redisEnv: Record<string, string> | undefined,
  ) {
    const h = harness();
    this.kubeconfigPath = h.kubeconfigPath;
    this.apiServerUrl = h.apiServerUrl;
    this.redisUrl = h.redisUrl;
    this.core = kubeClients(h.kubeconfigPath).core;
    const config = redisEnv
      ? loadConfig('watcher', [], { ...redisEnv, EATR_QUEUE_PREFIX: this.queuePrefix })
      : undefined;
    this.redisClient = config ? redisConnection(config, 'worker') : undefined;
    const quiet = { info: () => undefined, debug: () => undefined };
    this.stopFollowingFailovers =
      config && this.redisClient
        ? followFailovers(config, [this.redisClient], quiet)
        : () => undefined;
    this.queue = new Queue(QUEUE_NAME, {
      connection: this.redisClient ?? { url: h.redisUrl },
      prefix: this.queuePrefix,
    });
    // A test that fails Redis over or crashes it expects this connection to drop meanwhile.
    if (this.redisClient) this.queue.on('error', () => undefined);
  }

  /**
   * `redisEnv`: eatr's Redis settings for another Redis than the shared one (a Sentinel group, a
   * Cluster, TLS); the scenario's processes and its own queue use them.
   */
  static async create(
    credentials: CredentialConfig[] = [KEYS, OTHER_KEYS],
    options: { redisEnv?: Record<string, string> } = {},
  ): Promise<Scenario> {
    const aws = await FakeAwsEndpoint.start({ credentials });
    const scenario = new Scenario(aws, options.redisEnv);
    await scenario.core.createNamespace({ body: { metadata: { name: scenario.hostNamespace } } });
    return scenario;
  }

  /** Environment for eatr processes: this scenario's Redis prefix, host namespace and AWS endpoint. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      KUBECONFIG: this.kubeconfigPath,
      ...(this.redisEnv ?? { EATR_REDIS_URL: this.redisUrl }),
      EATR_QUEUE_PREFIX: this.queuePrefix,
      EATR_HOST_NAMESPACE: this.hostNamespace,
      EATR_METRICS_PORT: '0',
      EATR_METRICS_HOST: '127.0.0.1',
      EATR_LOG_LEVEL: 'debug',
      EATR_JOB_BACKOFF: '200ms',
      ...this.aws.env(),
      ...extra,
    };
  }

  /** Starts an eatr process of this build, or of another one (`build`: e.g. the previous release). */
  async start(
    component: EatrComponent,
    extraEnv: Record<string, string> = {},
    args: string[] = [],
    build?: string,
  ): Promise<EatrProcess> {
    const p = await EatrProcess.start(component, {
      env: this.env(extraEnv),
      args,
      ...(build ? { build } : {}),
    });
    this.processes.push(p);
    return p;
  }

  get allLogLines(): string[] {
    return this.processes.flatMap((p) => p.lines);
  }

  async createCredentialSecret(
    host: string,
    keys: CredentialConfig = KEYS,
    extra: Record<string, string> = {},
    style: 'seed' | 'rancher' = 'seed',
  ): Promise<V1Secret> {
    const region = /\.dkr\.ecr\.([^.]+)\./.exec(host)?.[1] ?? 'eu-west-1';
    const stringData =
      style === 'seed'
        ? {
            aws_access_key_id: keys.accessKeyId,
            aws_secret_access_key: keys.secretAccessKey,
            aws_region: region,
            ...extra,
          }
        : {
            AWS_ACCESS_KEY_ID: keys.accessKeyId,
            AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
            AWS_DEFAULT_REGION: region,
            AWS_ACCOUNT_NUMBER: '123456789012',
            ...extra,
          };
    return this.core.createNamespacedSecret({
      namespace: this.hostNamespace,
      body: { metadata: { name: `eatr-aws-credentials-${host}` }, stringData },
    });
  }

  /**
   * Replaces the keys in `host`'s credential Secret, as a user rotating them does: its metadata
   * stays, its whole content becomes `keys`.
   */
  async rotateCredentials(host: string, keys: CredentialConfig = OTHER_KEYS): Promise<V1Secret> {
    return this.replaceCredentialContent(host, {
      aws_access_key_id: keys.accessKeyId,
      aws_secret_access_key: keys.secretAccessKey,
    });
  }

  /** Replaces the whole content of `host`'s credential Secret with `stringData`; its metadata stays. */
  async replaceCredentialContent(
    host: string,
    stringData: Record<string, string>,
  ): Promise<V1Secret> {
    const name = `eatr-aws-credentials-${host}`;
    const current = await this.core.readNamespacedSecret({ namespace: this.hostNamespace, name });
    return this.core.replaceNamespacedSecret({
      namespace: this.hostNamespace,
      name,
      body: { ...current, data: undefined, stringData },
    });
  }

  /** A namespace asking for `hosts`, with a `default` ServiceAccount (no controller-manager makes one here). */
  async createNamespace(
    prefix: string,
    hosts: string[],
    serviceAccountPullSecrets: string[] = [],
  ): Promise<string> {
    const name = uniqueName(prefix);
    this.namespaces.push(name);
    await this.core.createNamespace({
      body: { metadata: { name, labels: Object.fromEntries(hosts.map((h) => [h, 'true'])) } },
    });
    await this.core.createNamespacedServiceAccount({
      namespace: name,
      body: {
        metadata: { name: 'default' },
        imagePullSecrets: serviceAccountPullSecrets.map((n) => ({ name: n })),
      },
    });
    return name;
  }

  async setLabels(namespace: string, labels: Record<string, string | null>): Promise<void> {
    const ns = await this.core.readNamespace({ name: namespace });
    const merged = Object.entries({ ...ns.metadata?.labels, ...labels });
    const next = Object.fromEntries(merged.filter((e): e is [string, string] => e[1] !== null));
    await this.core.replaceNamespace({
      name: namespace,
      body: { ...ns, metadata: { ...ns.metadata, labels: next } },
    });
  }

  /**
   * Enqueues a sync as the watcher does for an event: naming the versions the renewer's caches must
   * have seen (the namespace, its `default` ServiceAccount, the newest credential Secret).
   */
  async enqueue(namespace: string, force?: SyncForce): Promise<void> {
    const waitFor: WaitForVersion[] = [];
    const ns = await this.core.readNamespace({ name: namespace }).catch(() => undefined);
    if (ns?.metadata?.resourceVersion)
      waitFor.push({ resource: 'namespaces', resourceVersion: ns.metadata.resourceVersion });
    const sa = await this.core
      .readNamespacedServiceAccount({ namespace, name: 'default' })
      .catch(() => undefined);
    if (sa?.metadata?.resourceVersion)
      waitFor.push({ resource: 'serviceaccounts', resourceVersion: sa.metadata.resourceVersion });
    const credentials = await this.core.listNamespacedSecret({ namespace: this.hostNamespace });
    const newest = credentials.items
      .map((c) => c.metadata?.resourceVersion ?? '0')
      .sort((a, b) => Number(b) - Number(a))[0];
    if (newest) waitFor.push({ resource: 'credentials', resourceVersion: newest });
    await enqueueSync(this.queue, {
      namespace,
      reason: force ? 'manual' : 'namespace',
      waitFor,
      ...(force ? { force } : {}),
    });
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ namespace, name });
    } catch {
      return undefined;
    }
  }

  /** Polls until the Secret satisfies `predicate` (default: exists). */
  async waitForSecret(
    namespace: string,
    name: string,
    predicate: (s: V1Secret) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<V1Secret> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const secret = await this.readSecret(namespace, name);
      if (secret && predicate(secret)) return secret;
      if (Date.now() > deadline)
        throw new Error(
          `Secret ${namespace}/${name} not as expected within ${timeoutMs} ms (exists: ${String(Boolean(secret))})`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Waits until `secret` is due for renewal: past its `eatr.io/renew-after` time, on the clock the
   * renewer compares it with (this machine's), rather than a guess at the renewal interval.
   */
  async untilDue(secret: V1Secret): Promise<void> {
    const renewAfter = Date.parse(secret.metadata?.annotations?.[RENEW_AFTER_ANNOTATION] ?? '');
    if (Number.isNaN(renewAfter))
      throw new Error(`Secret ${secret.metadata?.name ?? '?'} has no ${RENEW_AFTER_ANNOTATION}`);
    while (Date.now() <= renewAfter)
      await new Promise((r) => setTimeout(r, Math.max(1, renewAfter - Date.now() + 1)));
  }

  /** Polls until the namespace's `default` ServiceAccount lists `pullSecret`; returns it. */
  async waitForServiceAccountEntry(
    namespace: string,
    pullSecret: string,
    timeoutMs = 15_000,
  ): Promise<V1ServiceAccount> {
    return this.waitFor(
      `ServiceAccount ${namespace}/default to list ${pullSecret}`,
      async () => {
        const sa = await this.core.readNamespacedServiceAccount({ namespace, name: 'default' });
        return sa.imagePullSecrets?.some((r) => r.name === pullSecret) ? sa : undefined;
      },
      timeoutMs,
    );
  }

  async waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false>,
    timeoutMs = 15_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Waits until the queue has no waiting, active, delayed or prioritized jobs, except the next run of
   * the sweep scheduler (always there, delayed, while a watcher leads) and a probe chain waiting to
   * ask AWS again (there while AWS refuses a registry).
   */
  async drained(timeoutMs = 15_000): Promise<void> {
    let counts: Record<string, number> = {};
    try {
      await this.waitFor(
        'the queue to drain',
        async () => {
          counts = await this.queue.getJobCounts('waiting', 'active', 'prioritized');
          const delayed = await this.queue.getJobs(['delayed']);
          counts.delayed = delayed.filter(
            (job) => job.repeatJobKey === undefined && job.name !== PROBE_JOB,
          ).length;
          return Object.values(counts).every((n) => n === 0);
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`queue not drained within ${timeoutMs} ms: ${JSON.stringify(counts)}`, {
        cause: error,
      });
    }
  }

  /**
   * Sync runs of one namespace that ran at the same time, across every process this scenario started
   * (none expected; see test/harness/sync-runs.ts), and how many runs there were.
   */
  overlappingSyncs(): { runs: number; overlaps: string[] } {
    const runs = syncRuns(this.processes);
    return { runs: runCount(runs), overlaps: overlappingRuns(runs) };
  }

  async events(namespace: string, reason?: string) {
    const list = await this.core.listNamespacedEvent({ namespace });
    return list.items.filter((e) => reason === undefined || e.reason === reason);
  }

  /** Stops everything this scenario started. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.processes.map((p) => p.stop()));
      // No namespace controller runs here: a deleted namespace stays Terminating, which every eatr
      // component treats as gone.
      for (let i = 0; i < this.namespaces.length; i += 50)
        await Promise.all(
          this.namespaces
            .slice(i, i + 50)
            .map((name) => this.core.deleteNamespace({ name }).catch(() => undefined)),
        );
      await this.queue.obliterate({ force: true }).catch(() => undefined);
      this.stopFollowingFailovers();
      await this.queue.close();
      this.redisClient?.disconnect();
      await this.aws.stop();
    })();
    return this.closing;
  }
}

/** When an eatr log line was written (pino's ISO time), in ms since the epoch. */
export function logTime(line: Record<string, unknown>): number {
  const ms = logLineTime(line);
  if (ms === undefined) throw new Error(`log line without a time: ${JSON.stringify(line)}`);
  return ms;
}

/** The password in a pull Secret for `host`, decoded from `auth` (which kubelet uses). */
export function decodedAuth(secret: V1Secret, host: string): string {
  const json = Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8');
  const config = JSON.parse(json) as {
    auths: Record<string, { auth: string; username: string; password: string }>;
  };
  const entry = config.auths[host];
  if (!entry) throw new Error(`no auths entry for ${host}`);
  return Buffer.from(entry.auth, 'base64').toString('utf8');
}

/** Every key and value in Redis, as text (for the secret-leak scan). */
export async function dumpRedis(url: string): Promise<string> {
  const redis = new Redis(url);
  const parts: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        parts.push(key);
        const type = await redis.type(key);
        if (type === 'string') parts.push((await redis.get(key)) ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return parts.join('\n');
}
