import type { Job, Queue } from 'bullmq';
import {
  PROBE_JOB,
  SWEEP_JOB,
  SYNC_JOB,
  enqueueCredentialSweep,
  enqueueProbe,
  enqueueSweep,
  enqueueSync,
  readProbeJob,
  readSweepJob,
  readSyncJob,
  type Logger,
} from '@eatr/core';

/**
 * A job of the previous release's queue (format 1), moved into this release's queue as the same
 * request, rather than run here: the deduplication of one queue keeps one sync per namespace at a
 * time, and a namespace is never synced by a job in each queue at once. Cheap (one or two Redis
 * calls), so the jobs of a 0.1.x watcher, renewer or CLI wait no longer than a hop.
 */
export async function forwardLegacyJob(
  job: Job,
  queue: Queue,
  log: Logger,
): Promise<{ result: string }> {
  const forwarded = await forward(job, queue);
  log.debug({ job: job.name, jobId: job.id, result: forwarded }, 'previous release job forwarded');
  return { result: forwarded };
}

async function forward(job: Job, queue: Queue): Promise<string> {
  if (job.name === SYNC_JOB) {
    const read = readSyncJob(job.data);
    if (read.kind !== 'ok') return `unreadable: ${read.problem}`;
    return (await enqueueSync(queue, read.data)) ? 'enqueued' : 'deduplicated';
  }
  if (job.name === SWEEP_JOB) {
    const read = readSweepJob(job.data);
    const credentialsVersion =
      read.kind === 'ok' && read.data.reason === 'credentials'
        ? read.data.waitFor?.find((w) => w.resource === 'credentials')?.resourceVersion
        : undefined;
    const added = credentialsVersion
      ? await enqueueCredentialSweep(queue, credentialsVersion)
      : await enqueueSweep(queue);
    return added ? 'enqueued' : 'deduplicated';
  }
  if (job.name === PROBE_JOB) {
    const read = readProbeJob(job.data);
    if (read.kind !== 'ok') return `unreadable: ${read.problem}`;
    return (await enqueueProbe(queue, read.data)) ? 'enqueued' : 'deduplicated';
  }
  return `unknown job ${job.name}`;
}
