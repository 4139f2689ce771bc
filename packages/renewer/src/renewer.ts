import {
  BUILD_INFO,
  describeRedis,
  type Closable,
  type Logger,
  type RenewerConfig,
} from '@eatr/core';
import { SdkEcrTokenClient } from './aws/ecr-token-client.js';
import { wireRenewer, type RenewerOptions, type RenewerParts } from './wiring.js';

/**
 * A renewer process: a BullMQ worker running sync and sweep jobs, with /metrics, /healthz and /readyz.
 * Stateless: any number may run against one queue. This class is its lifecycle (start, readiness,
 * close); wiring.ts builds what it runs.
 */
export class Renewer implements Closable {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly parts: RenewerParts,
    private readonly log: Logger,
  ) {}

  /** The port /metrics is served on (useful with metrics-port 0). */
  get metricsPort(): number | undefined {
    return this.parts.health?.port;
  }

  /**
   * Ready once every watch cache has listed and the worker is connected and taking jobs, and for as
   * long as Redis is reachable.
   */
  get isReady(): boolean {
    return this.parts.readiness.isReady;
  }

  static async start(
    config: RenewerConfig,
    log: Logger,
    options: RenewerOptions = {},
  ): Promise<Renewer> {
    const parts = await wireRenewer(config, log, options);
    const renewer = new Renewer(parts, log);
    // Jobs read the caches: take none before every watch has listed.
    parts.cache.start();
    const listing = performance.now();
    await parts.cache.synced();
    log.info({ durationMs: Math.round(performance.now() - listing) }, 'watch caches listed');
    // The settings this renewer starts with are the newest: renewers with other ones stop taking jobs.
    await parts.configuration.start();
    void parts.worker.run();
    void parts.legacyWorker.run();
    await Promise.all([parts.worker.waitUntilReady(), parts.legacyWorker.waitUntilReady()]);
    if (parts.configuration.isSuperseded)
      await Promise.all([parts.worker.pause(true), parts.legacyWorker.pause(true)]);
    parts.readiness.setStarted(true);
    log.info(
      {
        version: BUILD_INFO.version,
        commit: BUILD_INFO.commit,
        concurrency: config.concurrency,
        metricsPort: parts.health?.port,
        queuePrefix: config.queuePrefix,
        redis: describeRedis(config),
      },
      'renewer started',
    );
    return renewer;
  }

  /** Stops taking jobs, waits for running ones, and releases everything. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const p = this.parts;
      p.readiness.setStarted(false);
      p.stopFollowingFailovers();
      await p.configuration.stop();
      await Promise.all([p.worker.close(), p.legacyWorker.close()]);
      p.workerRedis.disconnect();
      await p.cache.stop();
      await p.queue.close();
      p.producerRedis.disconnect();
      await p.health?.close();
      if (p.ecr instanceof SdkEcrTokenClient) p.ecr.destroy();
      this.log.info('renewer stopped');
    })();
    return this.closing;
  }
}
