import {
  CoordinationV1Api,
  CoreV1Api,
  setHeaderOptions,
  type V1ObjectMeta,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import {
  HealthServer,
  PARTIAL_OBJECT_METADATA_LIST,
  SWEEP_JOB,
  SWEEP_SCHEDULER_ID,
  VERSION,
  createQueue,
  createRegistry,
  ResilientWatch,
  SERVICE_ACCOUNT_ANNOTATION,
  createWatcherMetrics,
  describeError,
  desiredRegistries,
  enqueueCredentialSweep,
  enqueueSweep,
  nameOutputSecrets,
  enqueueSync,
  globalRegistriesOf,
  loadKubeConfig,
  projectNamespace,
  redisConnection,
  describeRedis,
  followFailovers,
  type RedisClient,
  registryOfCredentialSecret,
  sleep,
  type CachedNamespace,
  type Closable,
  type GlobalRegistries,
  type Logger,
  type SyncReason,
  type WaitForVersion,
  type WatchEventType,
  type WatcherConfig,
  type WatcherMetrics,
} from '@eatr/core';
import { LeaseElector } from './leader/lease-elector.js';
import { PendingSyncs } from './pending-syncs.js';

/**
 * A credential Secret as the watcher keeps it: its name and version. The watch asks the API server
 * for metadata only (PartialObjectMetadata), so the keys never reach this process.
 */
interface WatchedCredentials {
  readonly metadata: { readonly name: string; readonly resourceVersion: string };
}

/** A wired ServiceAccount as the watcher keeps it: its pull Secret names. */
interface WatchedServiceAccount {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion: string;
  };
  readonly pullSecrets: readonly string[];
  /** The entries eatr recorded as its own (its annotation). */
  readonly addedByEatr: readonly string[];
}

function projectCredentials(raw: unknown): WatchedCredentials {
  const meta = (raw as { metadata?: V1ObjectMeta }).metadata;
  return { metadata: { name: meta?.name ?? '', resourceVersion: meta?.resourceVersion ?? '' } };
}

function unchanged(a: WatchedServiceAccount, b: WatchedServiceAccount): boolean {
  return (
    a.pullSecrets.join(',') === b.pullSecrets.join(',') &&
    a.addedByEatr.join(',') === b.addedByEatr.join(',')
  );
}

function projectServiceAccount(raw: unknown): WatchedServiceAccount {
  const sa = raw as V1ServiceAccount;
  return {
    metadata: {
      name: sa.metadata?.name ?? '',
      namespace: sa.metadata?.namespace ?? '',
      resourceVersion: sa.metadata?.resourceVersion ?? '',
    },
    pullSecrets: (sa.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n !== ''),
    addedByEatr: (sa.metadata?.annotations?.[SERVICE_ACCOUNT_ANNOTATION] ?? '')
      .split(',')
      .filter((n) => n !== ''),
  };
}

export interface WatcherOptions {
  /** Metrics registry to register on; default: a new one. The all-in-one process shares one. */
  readonly registry?: Registry;
  /** Serve /metrics, /healthz, /readyz on the configured port. Default true. */
  readonly serveHealth?: boolean;
}

/** How often the leader checks that the sweep scheduler still exists (e.g. after Redis was flushed). */
const SCHEDULER_CHECK_MS = 15_000;

/**
 * The watcher: one leader at a time turns Namespace and credential-Secret events into deduplicated
 * sync jobs and keeps the sweep scheduler in place; standbys wait on the Lease.
 */
export class Watcher implements Closable {
  private namespaces: ResilientWatch<CachedNamespace> | undefined;
  private credentials: ResilientWatch<WatchedCredentials> | undefined;
  private serviceAccounts: ResilientWatch<WatchedServiceAccount> | undefined;
  private schedulerLoop: { stop: AbortController; done: Promise<void> } | undefined;
  private readonly pending: PendingSyncs;
  /** Credential sweeps are enqueued one after another, so a later version is never overtaken. */
  private pendingCredentialSweep: Promise<void> = Promise.resolve();
  private readonly global: GlobalRegistries;
  private elector!: LeaseElector;
  private health: HealthServer | undefined;
  private closing: Promise<void> | undefined;
  private started = false;

  private constructor(
    private readonly config: WatcherConfig,
    private readonly log: Logger,
    private readonly queue: Queue,
    private readonly metrics: WatcherMetrics,
    /** The queue's connection: BullMQ does not close one it was given. */
    private readonly connection: RedisClient,
    private readonly stopFollowingFailovers: () => void,
  ) {
    this.global = globalRegistriesOf(config);
    this.pending = new PendingSyncs(
      (namespace, reason, waitFor) => this.enqueue(namespace, reason, waitFor),
      log,
    );
  }

  static async start(
    config: WatcherConfig,
    log: Logger,
    options: WatcherOptions = {},
  ): Promise<Watcher> {
    const kc = loadKubeConfig(config.kubeconfig, config.kubeApi);
    const core = kc.makeApiClient(CoreV1Api);
    const registry = options.registry ?? createRegistry('watcher', VERSION);
    const metrics = createWatcherMetrics(registry);
    const connection = redisConnection(config, 'producer');
    const queue = createQueue(connection, {
      prefix: config.queuePrefix,
      jobAttempts: config.jobAttempts,
      jobBackoffMs: config.jobBackoffMs,
    });
    queue.on('error', (error) => log.warn({ err: error.message }, 'queue connection error'));
    const watcher = new Watcher(
      config,
      log,
      queue,
      metrics,
      connection,
      followFailovers(config, [connection], log),
    );
    let connectedBefore = false;
    connection.on('ready', () => {
      if (connectedBefore) watcher.onRedisReconnected();
      connectedBefore = true;
    });

    watcher.registerQueueGauge(registry);
    watcher.pending.start();
    const makeWatches = () => {
      watcher.namespaces = new ResilientWatch<CachedNamespace>({
        resource: 'namespaces',
        path: '/api/v1/namespaces',
        kubeConfig: kc,
        list: (page) => core.listNamespace(page),
        project: projectNamespace,
        onEvent: (type, ns, previous) => watcher.onNamespace(type, ns, previous),
        onRestart: () => metrics.watchRestarts.inc({ resource: 'namespaces' }),
        stallTimeoutMs: config.watchTimeoutMs,
        log,
      });
      watcher.credentials = new ResilientWatch<WatchedCredentials>({
        resource: 'credentials',
        path: `/api/v1/namespaces/${config.hostNamespace}/secrets`,
        kubeConfig: kc,
        metadataOnly: true,
        list: (page) =>
          core.listNamespacedSecret(
            { namespace: config.hostNamespace, ...page },
            setHeaderOptions('Accept', PARTIAL_OBJECT_METADATA_LIST),
          ),
        project: projectCredentials,
        onEvent: (type, secret, previous) => watcher.onCredential(type, secret, previous),
        onRestart: () => metrics.watchRestarts.inc({ resource: 'credentials' }),
        stallTimeoutMs: config.watchTimeoutMs,
        log,
      });
      const targets = config.serviceAccounts;
      if (targets === '*' || targets.length > 0) {
        const fieldSelector =
          targets !== '*' && targets.length === 1 ? `metadata.name=${targets[0]}` : undefined;
        watcher.serviceAccounts = new ResilientWatch<WatchedServiceAccount>({
          resource: 'serviceaccounts',
          path: '/api/v1/serviceaccounts',
          ...(fieldSelector ? { fieldSelector } : {}),
          kubeConfig: kc,
          list: (page) =>
            core.listServiceAccountForAllNamespaces({
              ...page,
              ...(fieldSelector ? { fieldSelector } : {}),
            }),
          project: projectServiceAccount,
          keyOf: (sa) => `${sa.metadata.namespace}/${sa.metadata.name}`,
          onEvent: (type, sa, previous) => watcher.onServiceAccount(type, sa, previous),
          onRestart: () => metrics.watchRestarts.inc({ resource: 'serviceaccounts' }),
          stallTimeoutMs: config.watchTimeoutMs,
          log,
        });
      }
    };
    watcher.elector = new LeaseElector({
      api: kc.makeApiClient(CoordinationV1Api),
      namespace: config.leaderElection.namespace,
      name: config.leaderElection.leaseName,
      identity: LeaseElector.identity(config.podName),
      leaseDurationMs: config.leaderElection.leaseDurationMs,
      log,
      onStartedLeading: () => {
        metrics.leader.set(1);
        makeWatches();
        watcher.namespaces?.start();
        watcher.credentials?.start();
        watcher.serviceAccounts?.start();
        watcher.startSchedulerLoop();
      },
      onStoppedLeading: async () => {
        metrics.leader.set(0);
        await watcher.stopLeading();
      },
    });
    metrics.leader.set(0);
    if (options.serveHealth ?? true) {
      watcher.health = await HealthServer.start({
        host: config.metrics.host,
        port: config.metrics.port,
        registry,
        isReady: () => watcher.isReady,
      });
    }
    watcher.elector.start();
    watcher.started = true;
    log.info(
      {
        version: VERSION,
        metricsPort: watcher.health?.port,
        sweepInterval: config.sweepIntervalMs,
        lease: `${config.leaderElection.namespace}/${config.leaderElection.leaseName}`,
        redis: describeRedis(config),
      },
      'watcher started',
    );
    return watcher;
  }

  get metricsPort(): number | undefined {
    return this.health?.port;
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /** A leader is ready once both watches have listed; a standby is ready (it only waits). */
  get isReady(): boolean {
    if (!this.started || this.closing) return false;
    if (!this.elector.isLeader) return true;
    return this.watchesSynced;
  }

  private get watchesSynced(): boolean {
    return (
      (this.namespaces?.isSynced ?? false) &&
      (this.credentials?.isSynced ?? false) &&
      (this.serviceAccounts?.isSynced ?? true)
    );
  }

  /**
   * Redis came back after a lost connection. A Sentinel failover loses the writes the old master had
   * not yet replicated (Redis replicates asynchronously), and a restarted Redis may have lost
   * everything: jobs the watcher enqueued may be gone. One sweep (deduplicated, cheap when nothing
   * is due) finds those namespaces now rather than at the next periodic sweep.
   */
  private onRedisReconnected(): void {
    if (this.closing || !this.elector.isLeader || !this.watchesSynced) return;
    enqueueSweep(this.queue).then(
      (added) =>
        this.log.info(
          { deduplicated: !added },
          'Redis reconnected (a failover or restart may have lost jobs); sweep enqueued',
        ),
      (error: unknown) =>
        this.log.warn(
          { err: describeError(error) },
          'could not enqueue a sweep after a Redis reconnect; the periodic sweep will cover it',
        ),
    );
  }

  /** Stops watching, releases the Lease, closes Redis and the metrics server. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.elector.stop();
      await this.stopLeading();
      await this.pending.stop();
      await this.pendingCredentialSweep;
      this.stopFollowingFailovers();
      await this.queue.close();
      this.connection.disconnect();
      await this.health?.close();
      this.log.info('watcher stopped');
    })();
    return this.closing;
  }

  private async stopLeading(): Promise<void> {
    this.schedulerLoop?.stop.abort();
    await this.schedulerLoop?.done;
    this.schedulerLoop = undefined;
    await Promise.all([
      this.namespaces?.stop(),
      this.credentials?.stop(),
      this.serviceAccounts?.stop(),
    ]);
    this.namespaces = undefined;
    this.credentials = undefined;
    this.serviceAccounts = undefined;
  }

  private wanted(ns: CachedNamespace | undefined): string[] {
    if (!ns?.metadata.name || ns.metadata.terminating) return [];
    return desiredRegistries(ns.metadata.name, ns.metadata.labels, this.global).registries.map(
      (r) => r.host,
    );
  }

  private onNamespace(
    type: WatchEventType,
    ns: CachedNamespace,
    previous: CachedNamespace | undefined,
  ): void {
    this.metrics.watchEvents.inc({ resource: 'namespaces', type });
    const name = ns.metadata.name;
    if (!name) return;
    // The first list only tells what exists: the start-up sweep covers it, as one job, not thousands.
    if (!this.namespaces?.isSynced) return;
    const now = type === 'DELETED' ? [] : this.wanted(ns);
    const before = this.wanted(previous);
    // Only a change in which registries a namespace asks for needs a sync; other edits do not.
    const changed = now.length !== before.length || now.some((host, i) => host !== before[i]);
    if (type === 'DELETED') {
      if (before.length > 0)
        this.log.debug({ namespace: name }, 'namespace deleted; Kubernetes removes its Secrets');
      return;
    }
    if ((type === 'ADDED' && now.length > 0) || (type === 'MODIFIED' && changed)) {
      this.log.info(
        { namespace: name, event: type, registries: now, previous: before },
        'namespace needs a sync',
      );
      this.pending.add(name, 'namespace', [
        { resource: 'namespaces', resourceVersion: ns.metadata.resourceVersion },
      ]);
    }
  }

  private onCredential(
    type: WatchEventType,
    secret: WatchedCredentials,
    previous: WatchedCredentials | undefined,
  ): void {
    const registry = registryOfCredentialSecret(secret.metadata.name);
    if (!registry) return;
    this.metrics.watchEvents.inc({ resource: 'credentials', type });
    // The first list only tells what exists; the start-up sweep covers it.
    if (!this.credentials?.isSynced) return;
    if (
      type === 'MODIFIED' &&
      previous?.metadata.resourceVersion === secret.metadata.resourceVersion
    )
      return;
    // The watcher sees no keys, so it cannot tell a key change from a label edit: one sweep (not a
    // job per namespace) lets the renewer, which compares the keys' digest with each Secret's
    // eatr.io/credentials-version, sync only the namespaces whose token must change.
    this.log.info(
      { registry, event: type, resourceVersion: secret.metadata.resourceVersion },
      'credential Secret changed; enqueueing a sweep',
    );
    const resourceVersion = secret.metadata.resourceVersion;
    this.pendingCredentialSweep = this.pendingCredentialSweep.then(async () => {
      try {
        const added = await enqueueCredentialSweep(this.queue, resourceVersion);
        if (added) this.metrics.jobsEnqueued.inc({ reason: 'credentials-sweep' });
        else this.metrics.jobsDeduplicated.inc();
      } catch (error) {
        // The next scheduled sweep finds the change too; say so rather than lose it quietly.
        this.log.warn(
          { registry, err: describeError(error) },
          'could not enqueue the credential sweep; the scheduled sweep will pick the change up',
        );
      }
    });
  }

  /**
   * A wired ServiceAccount that lacks an entry for one of its namespace's registries, or keeps one eatr
   * added that is no longer wanted: sync its namespace, so a late `default`, a recreated one or an
   * entry a GitOps tool removed is repaired now, not at the next renewal.
   */
  private onServiceAccount(
    type: WatchEventType,
    sa: WatchedServiceAccount,
    previous: WatchedServiceAccount | undefined,
  ): void {
    this.metrics.watchEvents.inc({ resource: 'serviceaccounts', type });
    if (!this.serviceAccounts?.isSynced || type === 'DELETED') return;
    const targets = this.config.serviceAccounts;
    if (targets !== '*' && !targets.includes(sa.metadata.name)) return;
    const namespace = sa.metadata.namespace;
    const ns = this.namespaces?.get(namespace);
    if (!ns || ns.metadata.terminating) return;
    const { registries } = desiredRegistries(namespace, ns.metadata.labels, this.global);
    const wanted = nameOutputSecrets(this.config.secretNameTemplate, registries).named.map(
      (n) => n.secretName,
    );
    const missing = wanted.some((name) => !sa.pullSecrets.includes(name));
    const stale = sa.addedByEatr.some((name) => !wanted.includes(name));
    if (!missing && !stale) return;
    // eatr's own patches land here too; their sync finds nothing to do and costs no API request.
    if (type === 'MODIFIED' && previous && unchanged(previous, sa)) return;
    this.log.info(
      { namespace, serviceAccount: sa.metadata.name, event: type },
      'ServiceAccount changed; syncing its namespace',
    );
    this.pending.add(namespace, 'serviceaccount', [
      { resource: 'serviceaccounts', resourceVersion: sa.metadata.resourceVersion },
    ]);
  }

  private async enqueue(
    namespace: string,
    reason: SyncReason,
    waitFor?: readonly WaitForVersion[],
  ): Promise<void> {
    const added = await enqueueSync(this.queue, {
      namespace,
      reason,
      ...(waitFor ? { waitFor: [...waitFor] } : {}),
    });
    if (added) this.metrics.jobsEnqueued.inc({ reason });
    else this.metrics.jobsDeduplicated.inc();
    this.log.debug({ namespace, reason, deduplicated: !added }, 'sync enqueued');
  }

  /**
   * Keeps the sweep job scheduler in place with the configured interval: upserted when leadership
   * starts, and again whenever it is missing (Redis flushed or replaced) or its interval differs.
   */
  private startSchedulerLoop(): void {
    const stop = new AbortController();
    const done = (async () => {
      // One sweep when leadership starts (after a restart, an upgrade, a failover), instead of a
      // sync per namespace from the first list; retried until Redis takes it.
      let startupSweep = true;
      while (!stop.signal.aborted) {
        try {
          if (startupSweep && this.watchesSynced) {
            const added = await enqueueSweep(this.queue);
            startupSweep = false;
            this.log.info({ deduplicated: !added }, 'start-up sweep enqueued');
          }
          const existing = await this.queue.getJobScheduler(SWEEP_SCHEDULER_ID);
          if (existing?.every !== this.config.sweepIntervalMs) {
            await this.queue.upsertJobScheduler(
              SWEEP_SCHEDULER_ID,
              { every: this.config.sweepIntervalMs },
              { name: SWEEP_JOB, data: {} },
            );
            this.log.info(
              { every: this.config.sweepIntervalMs, previous: existing?.every },
              'sweep scheduler upserted',
            );
          }
        } catch (error) {
          this.log.warn(
            { err: describeError(error) },
            'could not check the sweep scheduler; will retry',
          );
        }
        await sleep(
          startupSweep ? 100 : Math.min(SCHEDULER_CHECK_MS, this.config.sweepIntervalMs),
          stop.signal,
        );
      }
    })();
    this.schedulerLoop = { stop, done };
  }

  /** `eatr_queue_jobs{state}`, read from Redis at scrape time, by the leader only (no duplicates across replicas). */
  private registerQueueGauge(registry: Registry): void {
    const isLeader = () => this.elector.isLeader;
    const { queue, log } = this;
    new Gauge({
      name: 'eatr_queue_jobs',
      help: 'Jobs in the eatr queue by state (reported by the watcher leader)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        this.reset();
        if (!isLeader()) return;
        try {
          const counts = await queue.getJobCounts(
            'waiting',
            'active',
            'delayed',
            'prioritized',
            'failed',
            'completed',
          );
          for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
        } catch (error) {
          log.debug({ err: describeError(error) }, 'could not read queue depth');
        }
      },
    });
  }
}
