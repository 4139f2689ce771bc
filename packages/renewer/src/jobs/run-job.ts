import { UnrecoverableError, type Job } from 'bullmq';
import { PROBE_JOB, SWEEP_JOB, SYNC_JOB } from '@eatr/core';
import type { JobContext } from './job-context.js';
import { runProbe } from './probe-job.js';
import { runSweep } from './sweep-job.js';
import { runSync } from './sync-job.js';

/**
 * Runs one job. Outcomes: done (returns), retry with backoff (throws), permanent (UnrecoverableError).
 * Async so an unknown job rejects like any other failure rather than throwing into BullMQ.
 */
export async function runJob(job: Job, c: JobContext): Promise<unknown> {
  if (job.name === SWEEP_JOB) return runSweep(job, c);
  if (job.name === PROBE_JOB) return runProbe(job, c);
  if (job.name === SYNC_JOB) return runSync(job, c);
  throw new UnrecoverableError(`unknown job ${job.name}`);
}
