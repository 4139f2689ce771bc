import {
  CoordinationV1Api,
  CoreV1Api,
  type V1Namespace,
  type V1Secret,
} from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import {
  HealthServer,
  SWEEP_JOB,
  SWEEP_SCHEDULER_ID,
  VERSION,
  createQueue,
  createRegistry,
  createWatcherMetrics,
  describeError,
  desiredRegistries,
  enqueueSync,
  loadKubeConfig,
  redisOptions,
  registryOfCredentialSecret,
  type Closable,
  type GlobalRegistries,
  type Logger,
  type SyncReason,
  type WatcherConfig,
  type WatcherMetrics,
} from '@eatr/core';
import { LeaseElector } from './leader/lease-elector.js';
import { PendingSyncs } from './pending-syncs.js';
import { sleep } from './watch/backoff.js';
import { ResilientWatch, type WatchEventType } from './watch/resilient-watch.js';

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
  private namespaces: ResilientWatch<V1Namespace> | undefined;
  private credentials: ResilientWatch<V1Secret> | undefined;
  private schedulerLoop: { stop: AbortController; done: Promise<void> } | undefined;
  private readonly pending: PendingSyncs;
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
  ) {
    this.global = {
      registries: config.globalRegistries,
      include: config.includeNamespaces,
      exclude: config.excludeNamespaces,
    };
    this.pending = new PendingSyncs((namespace, reason) => this.enqueue(namespace, reason), log);
  }

  static async start(
    config: WatcherConfig,
    log: Logger,
    options: WatcherOptions = {},
  ): Promise<Watcher> {
    const kc = loadKubeConfig(config.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const registry = options.registry ?? createRegistry('watcher', VERSION);
    const metrics = createWatcherMetrics(registry);
    const queue = createQueue(redisOptions(config, 'producer'), {
      prefix: config.queuePrefix,
      jobAttempts: config.jobAttempts,
      jobBackoffMs: config.jobBackoffMs,
    });
    queue.on('error', (error) => log.warn({ err: error.message }, 'queue connection error'));
    const watcher = new Watcher(config, log, queue, metrics);

    watcher.registerQueueGauge(registry);
    watcher.pending.start();
    const makeWatches = () => {
      watcher.namespaces = new ResilientWatch<V1Namespace>({
        resource: 'namespaces',
        path: '/api/v1/namespaces',
        kubeConfig: kc,
        list: (page) => core.listNamespace(page),
        onEvent: (type, ns, previous) => watcher.onNamespace(type, ns, previous),
        onRestart: () => metrics.watchRestarts.inc({ resource: 'namespaces' }),
        stallTimeoutMs: config.watchTimeoutMs,
        log,
      });
      watcher.credentials = new ResilientWatch<V1Secret>({
        resource: 'credentials',
        path: `/api/v1/namespaces/${config.hostNamespace}/secrets`,
        kubeConfig: kc,
        list: (page) => core.listNamespacedSecret({ namespace: config.hostNamespace, ...page }),
        onEvent: (type, secret, previous) => watcher.onCredential(type, secret, previous),
        onRestart: () => metrics.watchRestarts.inc({ resource: 'credentials' }),
        stallTimeoutMs: config.watchTimeoutMs,
        log,
      });
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
    return (this.namespaces?.isSynced ?? false) && (this.credentials?.isSynced ?? false);
  }

  /** Stops watching, releases the Lease, closes Redis and the metrics server. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.elector.stop();
      await this.stopLeading();
      await this.pending.stop();
      await this.queue.close();
      await this.health?.close();
      this.log.info('watcher stopped');
    })();
    return this.closing;
  }

  private async stopLeading(): Promise<void> {
    this.schedulerLoop?.stop.abort();
    await this.schedulerLoop?.done;
    this.schedulerLoop = undefined;
    await Promise.all([this.namespaces?.stop(), this.credentials?.stop()]);
    this.namespaces = undefined;
    this.credentials = undefined;
  }

  private wanted(ns: V1Namespace | undefined): string[] {
    if (!ns?.metadata?.name || ns.metadata.deletionTimestamp) return [];
    return desiredRegistries(ns.metadata.name, ns.metadata.labels, this.global).registries.map(
      (r) => r.host,
    );
  }

  private onNamespace(
    type: WatchEventType,
    ns: V1Namespace,
    previous: V1Namespace | undefined,
  ): void {
    this.metrics.watchEvents.inc({ resource: 'namespaces', type });
    const name = ns.metadata?.name;
    if (!name) return;
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
      this.pending.add(name, 'namespace');
    }
  }

  private onCredential(
    type: WatchEventType,
    secret: V1Secret,
    previous: V1Secret | undefined,
  ): void {
    const registry = registryOfCredentialSecret(secret.metadata?.name ?? '');
    if (!registry) return;
    this.metrics.watchEvents.inc({ resource: 'credentials', type });
    // The first list only tells what exists; the namespace list already enqueued what needs it.
    if (!this.credentials?.isSynced) return;
    if (
      type === 'MODIFIED' &&
      previous?.metadata?.resourceVersion === secret.metadata?.resourceVersion
    )
      return;
    const affected = [...(this.namespaces?.objects.values() ?? [])].filter((ns) =>
      this.wanted(ns).includes(registry),
    );
    this.log.info(
      { registry, event: type, namespaces: affected.length },
      'credential Secret changed; syncing every namespace that uses it',
    );
    for (const ns of affected)
      if (ns.metadata?.name) this.pending.add(ns.metadata.name, 'credentials');
  }

  private async enqueue(namespace: string, reason: SyncReason): Promise<void> {
    const added = await enqueueSync(this.queue, { namespace, reason });
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
      while (!stop.signal.aborted) {
        try {
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
        await sleep(Math.min(SCHEDULER_CHECK_MS, this.config.sweepIntervalMs), stop.signal);
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
