import { UnrecoverableError, type Job } from 'bullmq';
import {
  PROBE_JOB,
  SWEEP_JOB,
  SYNC_JOB,
  isBulkReason,
  readProbeJob,
  readSweepJob,
  readSyncJob,
  withRequestPriority,
  type JobRead,
} from '@eatr/core';
import { handBack, stepAside } from './hand-back.js';
import type { JobContext } from './job-context.js';
import { runProbe } from './probe-job.js';
import { runSweep } from './sweep-job.js';
import { runSync } from './sync-job.js';

/**
 * Runs one job. Outcomes: done (returns), retry with backoff (throws), permanent (UnrecoverableError),
 * or handed back for a newer renewer (a job type or payload this release cannot read; see
 * hand-back.ts), or left to renewers with newer settings (configuration-guard.ts). `token` is the
 * worker's lock on the job. Async so that every outcome is a settled promise.
 */
export async function runJob(job: Job, token: string | undefined, c: JobContext): Promise<unknown> {
  if (c.superseded()) return stepAside(job, token, c);
  if (job.name === SWEEP_JOB)
    return withPayload(job, token, c, 'sweep', readSweepJob, (data) =>
      // A scheduled sweep is bulk; one for a credential change serves the change.
      withRequestPriority(data.reason === 'credentials' ? 'event' : 'bulk', () =>
        runSweep(data, c),
      ),
    );
  if (job.name === PROBE_JOB)
    return withPayload(job, token, c, 'probe', readProbeJob, (data) => runProbe(job, data, c));
  if (job.name === SYNC_JOB)
    return withPayload(job, token, c, 'sync', readSyncJob, (data) =>
      // Its API requests wait in the client-side rate limiter as the job waited in the queue.
      withRequestPriority(isBulkReason(data.reason) ? 'bulk' : 'event', () =>
        runSync(job, data, c),
      ),
    );
  return handBack(job, token, `unknown job ${job.name}`, c);
}

/**
 * Reads a job's payload (any format) and runs it; a newer format this release cannot read is handed
 * back, and one of this release's format or older that does not parse fails for good.
 */
async function withPayload<T>(
  job: Job,
  token: string | undefined,
  c: JobContext,
  what: 'sync' | 'sweep' | 'probe',
  read: (data: unknown) => JobRead<T>,
  run: (data: T) => Promise<unknown>,
): Promise<unknown> {
  const payload = read(job.data);
  if (payload.kind === 'newer') return handBack(job, token, payload.problem, c);
  if (payload.kind === 'malformed')
    throw new UnrecoverableError(`malformed ${what} job data: ${payload.problem}`);
  return run(payload.data);
}
