import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { z } from 'zod';

/** The one BullMQ queue eatr uses; its keys live under the configured prefix (default `{eatr}`). */
export const QUEUE_NAME = 'eatr';
export const SYNC_JOB = 'sync-namespace';
export const SWEEP_JOB = 'sweep';
/** Id of the job scheduler that produces sweep jobs (upserted by the watcher leader only). */
export const SWEEP_SCHEDULER_ID = 'eatr-sweep';

/** Why a sync was asked for; for logs and the `eatr_jobs_enqueued_total` metric. */
export type SyncReason = 'namespace' | 'credentials' | 'sweep' | 'startup' | 'follow-up';

/** A sync job names a namespace and nothing else: the renewer re-reads everything when it runs. */
export const syncJobData = z
  .object({ namespace: z.string().min(1).max(63), reason: z.string().max(32) })
  .strict();
export type SyncJobData = z.infer<typeof syncJobData>;

export const sweepJobData = z.object({}).strict();

/** At most one waiting sync per namespace, and never two running at once. */
export function syncDeduplicationId(namespace: string): string {
  return `ns-${namespace}`;
}

export interface QueueSettings {
  readonly prefix: string;
  readonly jobAttempts: number;
  readonly jobBackoffMs: number;
}

/** Retries with exponential backoff and jitter; finished jobs do not pile up in Redis. */
export function defaultJobOptions(settings: QueueSettings): JobsOptions {
  return {
    attempts: settings.jobAttempts,
    backoff: { type: 'exponential', delay: settings.jobBackoffMs, jitter: 0.5 },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 1000, age: 24 * 3600 },
  };
}

export function createQueue(connection: ConnectionOptions, settings: QueueSettings): Queue {
  return new Queue(QUEUE_NAME, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: defaultJobOptions(settings),
  });
}

/**
 * Adds a deduplicated sync job for a namespace. Returns false when it was deduplicated (a sync for
 * that namespace was already waiting; that job will read the same current state).
 */
export async function enqueueSync(queue: Queue, data: SyncJobData, delayMs = 0): Promise<boolean> {
  // Our own id tells a new job from a deduplicated add, for which BullMQ returns the existing job's id.
  const jobId = `sync-${data.namespace}-${randomUUID()}`;
  const job = await queue.add(SYNC_JOB, syncJobData.parse(data), {
    jobId,
    deduplication: { id: syncDeduplicationId(data.namespace), keepLastIfActive: true },
    ...(delayMs > 0 ? { delay: delayMs } : {}),
  });
  return job.id === jobId;
}
