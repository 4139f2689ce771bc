import type { KubeConfig } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  SETTINGS,
  QUEUE_NAME,
  buildConfig,
  defaultJobOptions,
  loadKubeConfig,
  redisConnection,
  withEnvironment,
  type RedisClient,
  type RenewerConfig,
  type WatcherConfig,
  CoordinationV1Api,
  CoreV1Api,
} from '@eatr/core';

/** The settings both components read (flags as given on the command line, by flag name). */
export type SettingFlags = Readonly<Record<string, string | undefined>>;

/** What every command connects with: the components' own configuration, kubeconfig and Redis. */
export interface ConnectionOptions {
  readonly settings: SettingFlags;
  /** kubeconfig context to use instead of the current one (kubectl's --context). */
  readonly context?: string | undefined;
}

/**
 * The CLI reads its settings exactly as the watcher and renewer do (the same SETTINGS and
 * environment variables, through buildConfig), so `eatr status` looks at the cluster and Redis that
 * the components in the same environment use. `env` defaults to the process's environment.
 */
export function loadConfigs(settings: SettingFlags, env?: NodeJS.ProcessEnv) {
  const { values, sources } = withEnvironment({ values: settings }, env);
  return {
    watcher: buildConfig('watcher', values, sources),
    renewer: buildConfig('renewer', values, sources),
  };
}

/** The SETTINGS flag names, for the CLI's global options. */
export const SETTING_FLAGS: readonly string[] = SETTINGS.map((s) => s.flag);

/** Lazily opened connections; `close()` ends whatever was opened. */
export class Cli {
  readonly watcher: WatcherConfig;
  readonly renewer: RenewerConfig;
  readonly kc: KubeConfig;
  private redisClient: RedisClient | undefined;
  private queueClient: Queue | undefined;

  constructor(options: ConnectionOptions) {
    const { watcher, renewer } = loadConfigs(options.settings);
    this.watcher = watcher;
    this.renewer = renewer;
    this.kc = loadKubeConfig(watcher.kubeconfig);
    if (options.context !== undefined) {
      if (!this.kc.getContexts().some((c) => c.name === options.context))
        throw new UsageError(`context "${options.context}" is not in the kubeconfig`);
      this.kc.setCurrentContext(options.context);
    }
  }

  get core(): CoreV1Api {
    return this.kc.makeApiClient(CoreV1Api);
  }

  get coordination(): CoordinationV1Api {
    return this.kc.makeApiClient(CoordinationV1Api);
  }

  /**
   * A producer connection made as the components make theirs (standalone, Sentinel or Cluster),
   * but one that waits while connecting and gives up after a few attempts: a command must fail
   * with a message, not hang, when Redis is unreachable.
   */
  get redis(): RedisClient {
    if (this.redisClient === undefined) {
      const client = redisConnection(this.watcher, 'producer', { lazyConnect: true });
      const giveUp = (times: number) => (times > 3 ? null : times * 200);
      if (client instanceof Redis) {
        client.options.enableOfflineQueue = true;
        client.options.connectTimeout = 5000;
        client.options.retryStrategy = giveUp;
        client.options.sentinelRetryStrategy = giveUp;
      } else {
        client.options.clusterRetryStrategy = giveUp;
      }
      client.connect().catch(() => undefined); // a failure surfaces on the first command
      this.redisClient = client;
    }
    return this.redisClient;
  }

  get queue(): Queue {
    // The components' queue settings; BullMQ's own version and eviction-policy check is skipped:
    // it prints a warning to the console, and `eatr doctor` reports both itself.
    this.queueClient ??= new Queue(QUEUE_NAME, {
      connection: this.redis,
      prefix: this.watcher.queuePrefix,
      defaultJobOptions: defaultJobOptions({
        prefix: this.watcher.queuePrefix,
        jobAttempts: this.watcher.jobAttempts,
        jobBackoffMs: this.watcher.jobBackoffMs,
      }),
      skipVersionCheck: true,
    });
    return this.queueClient;
  }

  async close(): Promise<void> {
    // BullMQ does not close a connection it was given: the queue first, then the connection.
    await this.queueClient?.close().catch(() => undefined);
    this.redisClient?.disconnect();
  }
}

/** A command line that cannot be carried out as typed (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
