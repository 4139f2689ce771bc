import type { Job, Queue, Worker } from 'bullmq';
import type { Registry } from 'prom-client';
import {
  BUILD_INFO,
  BlockedStore,
  EventRecorder,
  HealthServer,
  checkEvictionPolicy,
  LEGACY_QUEUE_NAME,
  createQueue,
  createRegistry,
  createRenewerMetrics,
  enqueueProbe,
  enqueueSync,
  followFailovers,
  loadKubeConfig,
  longestSyncMs,
  redisConnection,
  type Logger,
  type RedisClient,
  type RenewerConfig,
  planSettingsOf,
  RedisHealth,
  CoreV1Api,
} from '@eatr/core';
import { createRequestHandler } from './aws/proxy.js';
import { SdkEcrTokenClient, type EcrTokenClient } from './aws/ecr-token-client.js';
import { SdkWebIdentitySts } from './aws/web-identity-sts.js';
import { RoleSessions, type RoleSession } from './tokens/role-sessions.js';
import { ApiServerServiceAccountTokens } from './tokens/service-account-tokens.js';
import { CredentialSweeps } from './jobs/credential-sweeps.js';
import { SecretRepairs } from './jobs/secret-repairs.js';
import { ClusterCache } from './cache/cluster-cache.js';
import { CredentialResolver } from './credentials/credential-resolver.js';
import { registerExpiryGauge } from './expiry-gauge.js';
import type { JobContext } from './jobs/job-context.js';
import { forwardLegacyJob } from './jobs/forward-legacy-job.js';
import { runJob } from './jobs/run-job.js';
import { createWorker } from './jobs/worker.js';
import { ConfigurationGuard } from './configuration/configuration-guard.js';
import { GenerationStore } from './configuration/generation-store.js';
import { settingsFingerprint } from './configuration/settings-fingerprint.js';
import { Readiness } from './readiness.js';
import { ApiServerWrites } from './sync/kube-writes.js';
import type { JobSink } from './sync/ports.js';
import { NamespaceSync } from './sync/namespace-sync.js';
import { SeriesTracker } from './sync/series-tracker.js';
import { TokenCache } from './tokens/token-cache.js';
import { TokenService } from './tokens/token-service.js';

export interface RenewerOptions {
  /** ECR client; default: the AWS SDK with the configured proxy, timeouts and attempts. */
  readonly ecr?: EcrTokenClient;
  /** Metrics registry to register on; default: a new one. The all-in-one process shares one. */
  readonly registry?: Registry;
  /** Serve /metrics, /healthz, /readyz on the configured port. Default true. */
  readonly serveHealth?: boolean;
}

/** What a wired renewer holds and must release: the Renewer starts and closes these. */
export interface RenewerParts {
  readonly worker: Worker;
  /** Takes jobs off the previous release's queue (LEGACY_QUEUE_NAME). */
  readonly legacyWorker: Worker;
  /** Stops the workers while renewers with newer settings run. */
  readonly configuration: ConfigurationGuard;
  readonly queue: Queue;
  readonly cache: ClusterCache;
  /** The queue's and the blocked store's connection, and the worker's: BullMQ closes neither. */
  readonly producerRedis: RedisClient;
  readonly workerRedis: RedisClient;
  readonly stopFollowingFailovers: () => void;
  readonly health: HealthServer | undefined;
  readonly ecr: EcrTokenClient;
  readonly readiness: Readiness;
}

/**
 * Builds a renewer process's objects and connects them: the one place they are created, each given
 * what it needs (no object refers back to its owner). Nothing takes jobs yet: the caches are not
 * started and the worker does not run.
 */
export async function wireRenewer(
  config: RenewerConfig,
  log: Logger,
  options: RenewerOptions,
): Promise<RenewerParts> {
  const kc = loadKubeConfig(config.kubeconfig, config.kubeApi);
  const core = kc.makeApiClient(CoreV1Api);
  const registry = options.registry ?? createRegistry('renewer', BUILD_INFO);
  const metrics = createRenewerMetrics(registry);
  const series = new SeriesTracker(metrics);
  // One producer connection for the queue and eatr's own keys; the worker gets its own (BullMQ
  // adds a blocking one beside it).
  const producerRedis = redisConnection(config, 'producer');
  producerRedis.on('error', (error: Error) =>
    log.debug({ err: error.message }, 'redis connection error'),
  );
  const queue = createQueue(producerRedis, {
    prefix: config.queuePrefix,
    jobAttempts: config.jobAttempts,
    jobBackoffMs: config.jobBackoffMs,
  });
  const credentialSweeps = new CredentialSweeps(queue, log);
  const cache = new ClusterCache({
    kubeConfig: kc,
    core,
    hostNamespace: config.hostNamespace,
    serviceAccounts: config.serviceAccounts,
    servedNamespaces: config.servedNamespaces,
    ...(config.argoCd.registries.length > 0 ? { argoCdNamespace: config.argoCd.namespace } : {}),
    watchTimeoutMs: config.watchTimeoutMs,
    ...(config.digestKey ? { digestKey: config.digestKey } : {}),
    log,
    onNamespaceDeleted: (namespace) => series.dropNamespace(namespace),
    onSecretDeleted: (namespace, name) => {
      series.dropSecret(namespace, name);
      repairs.deleted(namespace, name);
    },
    onRestart: (resource) => metrics.cacheWatchRestarts.inc({ resource }),
    onCredentialsChanged: (registry, resourceVersion) =>
      credentialSweeps.request(registry, resourceVersion),
  });
  const repairs = new SecretRepairs({
    enqueue: (job) => enqueueSync(queue, job),
    view: cache,
    settings: planSettingsOf(config),
    log,
  });
  registerExpiryGauge(registry, cache, planSettingsOf(config));

  const requestHandler = createRequestHandler(config.proxy, config.ecrTimeoutMs);
  const ecr =
    options.ecr ?? new SdkEcrTokenClient({ requestHandler, maxAttempts: config.ecrMaxAttempts });
  // Tenant roles only when the allowlist names some: otherwise no TokenRequest is ever made.
  const roles =
    config.tenantRoles.length === 0
      ? undefined
      : new RoleSessions(
          new ApiServerServiceAccountTokens(core),
          new SdkWebIdentitySts({ requestHandler, maxAttempts: config.ecrMaxAttempts }),
          new TokenCache<RoleSession>({ renewalIntervalMs: config.renewalIntervalMs }),
        );
  const tokens = new TokenService(
    ecr,
    new TokenCache({ renewalIntervalMs: config.renewalIntervalMs }),
    metrics,
    roles,
  );
  const events = new EventRecorder(core, 'renewer', config.podName, log);
  const credentials = new CredentialResolver(
    cache,
    config.hostNamespace,
    config.usePodIdentity,
    config.defaultAccess,
  );
  const blocked = new BlockedStore(producerRedis, config.queuePrefix);
  const kube = new ApiServerWrites(core, cache, config.servedNamespaces);
  const jobs: JobSink = {
    enqueueSync: (data) => enqueueSync(queue, data),
    enqueueProbe: (data) => enqueueProbe(queue, data),
  };
  const sync = new NamespaceSync({
    view: cache,
    kube,
    jobs,
    config,
    credentials,
    tokens,
    events,
    metrics,
    series,
    blocked,
    ...(config.recoverStuckPods ? { pods: kube } : {}),
    log,
  });
  const evictionWarning = await checkEvictionPolicy(config);
  if (evictionWarning) log.warn(evictionWarning);
  if (config.shutdownTimeoutMs < longestSyncMs(config))
    log.warn(
      { shutdownTimeoutMs: config.shutdownTimeoutMs, longestSyncMs: longestSyncMs(config) },
      'shutdown-timeout is shorter than the longest sync (2 x ecr-max-attempts x ecr-timeout + 5s): a SIGTERM may cut a sync off, and another renewer repeats it once its lock expires',
    );

  const context: JobContext = {
    superseded: () => configuration.isSuperseded,
    sync,
    tokens,
    jobs,
    kube,
    view: cache,
    credentials,
    blocked,
    config,
    metrics,
    log,
  };
  const workerRedis = redisConnection(config, 'worker');
  const handle = (job: Job, token?: string) => runJob(job, token, context);
  const worker = createWorker(config, workerRedis, handle, log);
  // Drains what a previous release's watcher, renewers and CLI still queue during a rollout, by
  // moving each job into this release's queue (one queue deduplicates syncs of a namespace).
  const forwardLegacy = (job: Job) => forwardLegacyJob(job, queue, log);
  const legacyWorker = createWorker(config, workerRedis, forwardLegacy, log, LEGACY_QUEUE_NAME);

  const workers = [worker, legacyWorker];
  const configuration = new ConfigurationGuard({
    store: new GenerationStore(producerRedis, config.queuePrefix),
    fingerprint: settingsFingerprint(config),
    revision: config.settingsRevision,
    onSuperseded: async () => {
      await Promise.all(workers.map((w) => w.pause(true)));
    },
    onCurrent: async () => {
      await Promise.all(workers.map((w) => w.resume()));
    },
    superseded: metrics.superseded,
    log,
  });

  const readiness = new Readiness(log);
  const redisHealth = new RedisHealth({ unhealthyAfterMs: config.redisUnhealthyAfterMs, log })
    .watch(producerRedis)
    .watch(workerRedis);
  const health =
    (options.serveHealth ?? true)
      ? await HealthServer.start({
          host: config.metrics.host,
          port: config.metrics.port,
          registry,
          isReady: () => readiness.isReady,
          // A Redis that refuses the rotated-away password or certificates: a restart reads the new.
          isHealthy: () => !worker.closing && !legacyWorker.closing && redisHealth.isHealthy,
        })
      : undefined;
  // Also the worker's blocking connection, BullMQ's copy of workerRedis.
  const stopFollowingFailovers = followFailovers(config, [producerRedis, workerRedis], log);
  // The producer connection goes where the worker's does: when it is down, so is the queue.
  producerRedis.on('ready', () => readiness.redisReachable(true));
  producerRedis.on('close', () => readiness.redisReachable(false));
  return {
    worker,
    legacyWorker,
    configuration,
    queue,
    cache,
    producerRedis,
    workerRedis,
    stopFollowingFailovers,
    health,
    ecr,
    readiness,
  };
}
