import type { Job } from 'bullmq';
import { PROBE_JOB, SWEEP_JOB, SYNC_JOB } from '@eatr/core';
import { handBack, stepAside } from './hand-back.js';
import type { JobContext } from './job-context.js';
import { runProbe } from './probe-job.js';
import { runSweep } from './sweep-job.js';
import { runSync } from './sync-job.js';

/**
 * Runs one job. Outcomes: done (returns), retry with backoff (throws), permanent (UnrecoverableError),
 * or handed back for a newer renewer (a job type this release does not know; see hand-back.ts), or
 * left to renewers with newer settings (configuration-guard.ts).
 * `token` is the worker's lock on the job. Async so that every outcome is a settled promise.
 */
export async function runJob(job: Job, token: string | undefined, c: JobContext): Promise<unknown> {
  if (c.superseded()) return stepAside(job, token, c);
  if (job.name === SWEEP_JOB) return runSweep(job, token, c);
  if (job.name === PROBE_JOB) return runProbe(job, token, c);
  if (job.name === SYNC_JOB) return runSync(job, token, c);
  return handBack(job, token, `unknown job ${job.name}`, c);
}
