import { CoreV1Api } from '@kubernetes/client-node';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Registry } from 'prom-client';
import {
  EventRecorder,
  HealthServer,
  PROBE_JOB,
  QUEUE_NAME,
  RetryableError,
  SWEEP_JOB,
  sweepJobData,
  SYNC_JOB,
  VERSION,
  backoffStrategy,
  checkEvictionPolicy,
  createQueue,
  createRegistry,
  createRenewerMetrics,
  loadKubeConfig,
  describeRedis,
  BlockedStore,
  enqueueProbe,
  enqueueSync,
  followFailovers,
  longestSyncMs,
  parseRegistryHost,
  probeJobData,
  redisConnection,
  type RedisClient,
  syncJobData,
  type Closable,
  type Logger,
  type RenewerConfig,
} from '@eatr/core';
import { createRequestHandler } from './aws/proxy.js';
import { SdkEcrTokenClient, type EcrTokenClient } from './aws/ecr-token-client.js';
import { CredentialResolver } from './credentials/credential-resolver.js';
import { registerExpiryGauge } from './expiry-gauge.js';
import { lostJobId } from './lost-job.js';
import { ClusterCache } from './cache/cluster-cache.js';
import { asEatrError } from './sync/eatr-error.js';
import { NamespaceSync } from './sync/namespace-sync.js';
import { ApiServerWrites } from './sync/kube-writes.js';
import type { JobSink } from './sync/ports.js';
import { SeriesTracker } from './sync/series-tracker.js';
import { sweep, type SweepDependencies } from './sync/sweep.js';
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

/**
 * A renewer process: a BullMQ worker running sync and sweep jobs, with /metrics, /healthz and /readyz.
 * Stateless: any number may run against one queue.
 */
export class Renewer implements Closable {
  private closing: Promise<void> | undefined;
  private ready = false;
  /** Whether the Redis connection is up: a renewer that cannot reach the queue does no work. */
  private redisUp = true;

  private constructor(
    private readonly worker: Worker,
    private readonly queue: Queue,
    private readonly cache: ClusterCache,
    /** The queue's and the blocked store's connection, and the worker's: BullMQ closes neither. */
    private readonly redis: RedisClient,
    private readonly workerRedis: RedisClient,
    private readonly stopFollowingFailovers: () => void,
    private readonly health: HealthServer | undefined,
    private readonly ecr: EcrTokenClient,
    private readonly log: Logger,
  ) {}

  /** The port /metrics is served on (useful with metrics-port 0). */
  get metricsPort(): number | undefined {
    return this.health?.port;
  }

  /**
   * Ready once every watch cache has listed and the worker is connected and taking jobs, and for as
   * long as Redis is reachable.
   */
  get isReady(): boolean {
    return this.ready && this.redisUp;
  }

  static async start(
    config: RenewerConfig,
    log: Logger,
    options: RenewerOptions = {},
  ): Promise<Renewer> {
    const kc = loadKubeConfig(config.kubeconfig, config.kubeApi);
    const core = kc.makeApiClient(CoreV1Api);
    const registry = options.registry ?? createRegistry('renewer', VERSION);
    const metrics = createRenewerMetrics(registry);
    const series = new SeriesTracker(metrics);
    const cache = new ClusterCache({
      kubeConfig: kc,
      core,
      hostNamespace: config.hostNamespace,
      serviceAccounts: config.serviceAccounts,
      watchTimeoutMs: config.watchTimeoutMs,
      log,
      onNamespaceDeleted: (namespace) => series.dropNamespace(namespace),
      onSecretDeleted: (namespace, name) => series.dropSecret(namespace, name),
      onRestart: (resource) => metrics.cacheWatchRestarts.inc({ resource }),
    });
    registerExpiryGauge(registry, cache);

    const ecr =
      options.ecr ??
      new SdkEcrTokenClient({
        requestHandler: createRequestHandler(config.proxy, config.ecrTimeoutMs),
        maxAttempts: config.ecrMaxAttempts,
      });
    const tokens = new TokenService(
      ecr,
      new TokenCache({ renewalIntervalMs: config.renewalIntervalMs }),
      metrics,
    );
    const events = new EventRecorder(core, 'renewer', config.podName, log);
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
    const credentials = new CredentialResolver(cache, config.hostNamespace, config.usePodIdentity);
    const blocked = new BlockedStore(producerRedis, config.queuePrefix);
    const kube = new ApiServerWrites(core, cache);
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
      log,
    });
    const evictionWarning = await checkEvictionPolicy(config);
    if (evictionWarning) log.warn(evictionWarning);
    if (config.shutdownTimeoutMs < longestSyncMs(config))
      log.warn(
        { shutdownTimeoutMs: config.shutdownTimeoutMs, longestSyncMs: longestSyncMs(config) },
        'shutdown-timeout is shorter than the longest sync (2 x ecr-max-attempts x ecr-timeout + 5s): a SIGTERM may cut a sync off, and another renewer repeats it once its lock expires',
      );

    const processor = (job: Job) =>
      runJob(job, {
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
      });
    const workerRedis = redisConnection(config, 'worker');
    const worker = new Worker(QUEUE_NAME, processor, {
      connection: workerRedis,
      prefix: config.queuePrefix,
      concurrency: config.concurrency,
      autorun: false,
      // A crashed renewer's jobs run elsewhere within lockDuration + stalledInterval (10 s by default);
      // a live one renews its locks every half lockDuration, so no job runs twice at once.
      lockDuration: config.jobLockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      settings: { backoffStrategy: backoffStrategy(config.jobBackoffMaxMs) },
    });
    worker.on('error', (error) => {
      const lost = lostJobId(error);
      if (lost === undefined) log.error({ err: error.message }, 'worker error');
      // Redis no longer holds a job this renewer ran: a failover dropped the writes that took it (Redis
      // replicates asynchronously) or its lock expired, so another renewer may have run the namespace
      // meanwhile. Harmless (every Kubernetes write is conditional on what was read), worth seeing.
      else
        log.warn(
          { jobId: lost, err: error.message },
          'Redis no longer holds this job or its lock (lost in a failover, or the lock expired); its outcome was not recorded',
        );
    });
    worker.on('stalled', (jobId) =>
      log.warn({ jobId }, "a stopped renewer's job lost its lock; it runs again"),
    );
    worker.on('failed', (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
        log.error(
          {
            job: job.name,
            namespace: (job.data as { namespace?: string }).namespace,
            err: error.message,
          },
          'job failed for good',
        );
    });

    const holder: { renewer?: Renewer } = {};
    const health =
      (options.serveHealth ?? true)
        ? await HealthServer.start({
            host: config.metrics.host,
            port: config.metrics.port,
            registry,
            isReady: () => holder.renewer?.isReady ?? false,
            isHealthy: () => !worker.closing,
          })
        : undefined;
    // Also the worker's blocking connection, BullMQ's copy of workerRedis.
    const stopFollowingFailovers = followFailovers(config, [producerRedis, workerRedis], log);
    const renewer = new Renewer(
      worker,
      queue,
      cache,
      producerRedis,
      workerRedis,
      stopFollowingFailovers,
      health,
      ecr,
      log,
    );
    holder.renewer = renewer;
    // The producer connection goes where the worker's does: when it is down, so is the queue.
    producerRedis.on('ready', () => renewer.redisReachable(true));
    producerRedis.on('close', () => renewer.redisReachable(false));
    // Jobs read the caches: take none before every watch has listed.
    cache.start();
    const listing = performance.now();
    await cache.synced();
    log.info({ durationMs: Math.round(performance.now() - listing) }, 'watch caches listed');
    void worker.run();
    await worker.waitUntilReady();
    renewer.ready = true;
    log.info(
      {
        version: VERSION,
        concurrency: config.concurrency,
        metricsPort: health?.port,
        queuePrefix: config.queuePrefix,
        redis: describeRedis(config),
      },
      'renewer started',
    );
    return renewer;
  }

  private redisReachable(up: boolean): void {
    if (up === this.redisUp) return;
    this.redisUp = up;
    if (up) this.log.info('Redis reachable again; ready');
    else this.log.warn('Redis connection lost; not ready until it is back');
  }

  /** Stops taking jobs, waits for running ones, and releases everything. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ready = false;
      this.stopFollowingFailovers();
      await this.worker.close();
      this.workerRedis.disconnect();
      await this.cache.stop();
      await this.queue.close();
      this.redis.disconnect();
      await this.health?.close();
      if (this.ecr instanceof SdkEcrTokenClient) this.ecr.destroy();
      this.log.info('renewer stopped');
    })();
    return this.closing;
  }
}

/** What every kind of job needs: a sweep's dependencies, and the sync and tokens of syncs and probes. */
interface JobContext extends Omit<SweepDependencies, 'job' | 'now'> {
  readonly sync: NamespaceSync;
  readonly tokens: TokenService;
}

/** Runs one job. Outcomes: done (returns), retry with backoff (throws), permanent (UnrecoverableError). */
async function runJob(job: Job, c: JobContext): Promise<unknown> {
  if (job.name === SWEEP_JOB) {
    const started = performance.now();
    const parsed = sweepJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(
        `malformed sweep job data: ${parsed.error.issues[0]?.message ?? ''}`,
      );
    try {
      const result = await sweep({ ...c, job: parsed.data });
      c.metrics.sweeps.inc({ result: 'success' });
      const durationMs = Math.round(performance.now() - started);
      c.log.info({ decision: 'sweep', ...result, durationMs }, 'sweep done');
      return result;
    } catch (error) {
      c.metrics.sweeps.inc({ result: 'error' });
      throw error;
    }
  }
  if (job.name === PROBE_JOB) return runProbe(job, c);
  if (job.name !== SYNC_JOB) throw new UnrecoverableError(`unknown job ${job.name}`);
  const parsed = syncJobData.safeParse(job.data);
  if (!parsed.success)
    throw new UnrecoverableError(
      `malformed sync job data: ${parsed.error.issues[0]?.message ?? ''}`,
    );
  const { namespace } = parsed.data;
  const stopTimer = c.metrics.syncDuration.startTimer();
  // Start and end of every run, whatever its outcome: two runs of one namespace must never overlap,
  // and these lines let a test (or an operator after an incident) check that across renewers.
  c.log.debug(
    { namespace, jobId: job.id, reason: parsed.data.reason, attempt: job.attemptsMade + 1 },
    'sync started',
  );
  try {
    const result = await c.sync.run(parsed.data, parsed.data.requestedAt ?? job.timestamp);
    c.metrics.syncs.inc({ result: result.result });
    c.log.debug(
      {
        namespace,
        jobId: job.id,
        reason: parsed.data.reason,
        result: result.result,
        actions: result.actions,
      },
      'sync done',
    );
    return result;
  } catch (error) {
    const failure = asEatrError(error, { namespace });
    c.metrics.syncs.inc({ result: failure.errorClass });
    if (failure.errorClass === 'gone') return { result: 'gone' };
    if (failure.errorClass === 'permanent') {
      c.log.error(
        { namespace, reason: failure.reason, err: failure.message },
        'sync failed permanently',
      );
      throw new UnrecoverableError(failure.message);
    }
    throw failure;
  } finally {
    stopTimer();
    c.log.debug({ namespace, jobId: job.id }, 'sync ended');
  }
}

/**
 * One step of a registry's probe chain: ask AWS for a token with the registry's credentials, ignoring
 * the refusal this process remembers. When one comes, forget the registry's blocked records and sync
 * its namespaces now; while AWS still refuses, throw, and BullMQ runs the probe again after the probe
 * backoff (5 s, 10 s... 1 minute). A probe writes nothing itself, so no namespace is synced twice at once.
 */
async function runProbe(job: Job, c: JobContext): Promise<unknown> {
  const parsed = probeJobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError('malformed probe job data');
  const { registry } = parsed.data;
  const host = parseRegistryHost(registry);
  const credentials = host && c.credentials.resolve(host.host);
  if ((await c.blocked.blockedByAws(registry)).length === 0 || !host || !credentials?.ok)
    return { result: 'nothing-to-probe' }; // unblocked meanwhile, or now blocked by local causes
  const log = c.log.child({ registry, attempt: job.attemptsMade + 1, decision: 'probe' });
  try {
    await c.tokens.token(credentials.value, host, { ignoreFailure: true });
  } catch (error) {
    const failure = asEatrError(error, { registry });
    log.info({ reason: failure.reason }, 'AWS still refuses; will ask again');
    throw new RetryableError(`AWS still refuses registry ${registry}`, failure.reason, {
      registry,
    });
  }
  const cleared = await c.blocked.clearRegistry(registry);
  const namespaces = [...new Set(cleared.map((key) => key.namespace))];
  for (const namespace of namespaces)
    await c.jobs.enqueueSync({ namespace, reason: 'recovered', force: 'retry' });
  log.info({ enqueued: namespaces.length }, 'registry works again; syncing its namespaces');
  return { result: 'recovered', namespaces: namespaces.length };
}
