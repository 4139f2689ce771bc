import type { Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import {
  BlockedStore,
  HealthServer,
  BUILD_INFO,
  LogMessage,
  LEGACY_QUEUE_NAME,
  createQueue,
  createRegistry,
  createWatcherMetrics,
  describeError,
  enqueueSweep,
  enqueueSync,
  loadKubeConfig,
  planSettingsOf,
  redisConnection,
  RedisHealth,
  describeRedis,
  followFailovers,
  type RedisClient,
  type CachedNamespace,
  type Closable,
  type Logger,
  type SyncReason,
  type WaitForVersion,
  type WatchEventType,
  type WatcherConfig,
  type WatcherMetrics,
  CoordinationV1Api,
  CoreV1Api,
} from '@eatr/core';
import { LeaseElector } from './leader/lease-elector.js';
import { LeaderWatches } from './leader-watches.js';
import { PendingSyncs } from './pending-syncs.js';
import { registerQueueGauge } from './queue-gauge.js';
import { registerRedisMemoryGauge } from './redis-memory-gauge.js';
import { EventRules } from './rules/event-rules.js';
import { SweepScheduler } from './sweep-scheduler.js';
import { type WatchedServiceAccount } from './watched-objects.js';

export interface WatcherOptions {
  /** Metrics registry to register on; default: a new one. The all-in-one process shares one. */
  readonly registry?: Registry;
  /** Serve /metrics, /healthz, /readyz on the configured port. Default true. */
  readonly serveHealth?: boolean;
}

/**
 * The watcher: one leader at a time turns Namespace and ServiceAccount events into deduplicated
 * sync jobs and keeps the sweep scheduler in place; standbys wait on the Lease. Credential Secret
 * changes are the renewers' to notice (they read those Secrets; the watcher reads no Secret).
 */
export class Watcher implements Closable {
  private watches: LeaderWatches | undefined;
  private scheduler: SweepScheduler | undefined;
  private readonly pending: PendingSyncs;
  private readonly rules: EventRules;
  private elector!: LeaseElector;
  private health: HealthServer | undefined;
  private closing: Promise<void> | undefined;
  private started = false;

  private constructor(
    private readonly config: WatcherConfig,
    private readonly log: Logger,
    private readonly queue: Queue,
    /** The previous release's queue, whose sweep scheduler the leader removes. */
    private readonly legacyQueue: Queue,
    private readonly metrics: WatcherMetrics,
    /** The queue's connection: BullMQ does not close one it was given. */
    private readonly connection: RedisClient,
    private readonly stopFollowingFailovers: () => void,
    /** Redis for the probes: not ready while it is down, not healthy while it refuses our credentials. */
    private readonly redisHealth: RedisHealth,
  ) {
    this.pending = new PendingSyncs(
      (namespace, reason, waitFor) => this.enqueue(namespace, reason, waitFor),
      log,
    );
    const blocked = new BlockedStore(connection, config.queuePrefix);
    this.rules = new EventRules({
      settings: planSettingsOf(config),
      namespace: (name) => this.watches?.namespaces.get(name),
      blocked: (namespace, subjects) => blocked.get(namespace, subjects),
      jobs: {
        syncNamespace: (namespace, reason, waitFor) => this.pending.add(namespace, reason, waitFor),
      },
      metrics,
      log,
    });
  }

  static async start(
    config: WatcherConfig,
    log: Logger,
    options: WatcherOptions = {},
  ): Promise<Watcher> {
    const kc = loadKubeConfig(config.kubeconfig, config.kubeApi);
    const core = kc.makeApiClient(CoreV1Api);
    const registry = options.registry ?? createRegistry('watcher', BUILD_INFO);
    const metrics = createWatcherMetrics(registry);
    const connection = redisConnection(config, 'producer');
    const queueSettings = {
      prefix: config.queuePrefix,
      jobAttempts: config.jobAttempts,
      jobBackoffMs: config.jobBackoffMs,
    };
    const queue = createQueue(connection, queueSettings);
    queue.on('error', (error) => log.warn({ err: error.message }, 'queue connection error'));
    const legacyQueue = createQueue(connection, queueSettings, LEGACY_QUEUE_NAME);
    legacyQueue.on('error', () => undefined); // the same connection: reported by `queue`
    const watcher = new Watcher(
      config,
      log,
      queue,
      legacyQueue,
      metrics,
      connection,
      followFailovers(config, [connection], log),
      new RedisHealth({ unhealthyAfterMs: config.redisUnhealthyAfterMs, log }).watch(connection),
    );
    let connectedBefore = false;
    connection.on('ready', () => {
      if (connectedBefore) watcher.onRedisReconnected();
      connectedBefore = true;
    });

    registerQueueGauge(registry, queue, () => watcher.elector.isLeader, log);
    registerRedisMemoryGauge(registry, queue, () => watcher.elector.isLeader, log);
    watcher.pending.start();
    watcher.elector = new LeaseElector({
      api: kc.makeApiClient(CoordinationV1Api),
      namespace: config.leaderElection.namespace,
      name: config.leaderElection.leaseName,
      identity: LeaseElector.identity(config.podName),
      leaseDurationMs: config.leaderElection.leaseDurationMs,
      log,
      onStartedLeading: () => {
        metrics.leader.set(1);
        watcher.watches = new LeaderWatches({
          kubeConfig: kc,
          core,
          config,
          onNamespace: (type, ns, previous) => watcher.onNamespace(type, ns, previous),
          onServiceAccount: (type, sa, previous) => watcher.onServiceAccount(type, sa, previous),
          metrics,
          log,
        });
        watcher.watches.start();
        watcher.scheduler = new SweepScheduler({
          queue,
          legacyQueue,
          sweepIntervalMs: config.sweepIntervalMs,
          ready: () => watcher.watchesSynced,
          log,
        });
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
        isHealthy: () => watcher.redisHealth.isHealthy,
      });
    }
    watcher.elector.start();
    watcher.started = true;
    log.info(
      {
        version: BUILD_INFO.version,
        commit: BUILD_INFO.commit,
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

  /**
   * Ready while Redis is reachable (without it no event becomes a job); then a leader once both
   * watches have listed, a standby at once (it only waits).
   */
  get isReady(): boolean {
    if (!this.started || this.closing || !this.redisHealth.isUp) return false;
    if (!this.elector.isLeader) return true;
    return this.watchesSynced;
  }

  private get watchesSynced(): boolean {
    return this.watches?.synced ?? false;
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
      (added) => this.log.info({ deduplicated: !added }, LogMessage.redisReconnected),
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
      this.stopFollowingFailovers();
      await this.queue.close();
      await this.legacyQueue.close();
      this.connection.disconnect();
      await this.health?.close();
      this.log.info('watcher stopped');
    })();
    return this.closing;
  }

  private async stopLeading(): Promise<void> {
    await this.scheduler?.stop();
    this.scheduler = undefined;
    await this.watches?.stop();
    this.watches = undefined;
  }

  private onNamespace(
    type: WatchEventType,
    ns: CachedNamespace,
    previous: CachedNamespace | undefined,
  ): void {
    this.metrics.watchEvents.inc({ resource: 'namespaces', type });
    // The first list only tells what exists: the start-up sweep covers it, as one job, not thousands.
    if (this.watches?.namespaces.isSynced) this.rules.onNamespace(type, ns, previous);
  }

  private onServiceAccount(
    type: WatchEventType,
    sa: WatchedServiceAccount,
    previous: WatchedServiceAccount | undefined,
  ): void {
    this.metrics.watchEvents.inc({ resource: 'serviceaccounts', type });
    // Until every ServiceAccount watch has listed, events only tell what exists (the sweep covers it).
    if (!this.watches?.serviceAccounts.every((w) => w.isSynced)) return;
    this.rules
      .onServiceAccount(type, sa, previous)
      .catch((error: unknown) =>
        this.log.warn({ err: describeError(error) }, 'ServiceAccount event not handled'),
      );
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
}
