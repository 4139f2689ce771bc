import { Worker, type Job } from 'bullmq';
import {
  QUEUE_NAME,
  backoffStrategy,
  type Logger,
  type RedisClient,
  type RenewerConfig,
} from '@eatr/core';
import { lostJobId } from '../lost-job.js';

/**
 * The BullMQ worker that takes jobs off a queue (eatr's, or the previous release's: `queueName`) and hands each to `processor`, logging what goes
 * wrong around the jobs. Created stopped (autorun off): the renewer runs it once its caches have listed.
 */
export function createWorker(
  config: RenewerConfig,
  connection: RedisClient,
  processor: (job: Job, token?: string) => Promise<unknown>,
  log: Logger,
  queueName: string = QUEUE_NAME,
): Worker {
  const worker = new Worker(queueName, processor, {
    connection,
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
  return worker;
}
