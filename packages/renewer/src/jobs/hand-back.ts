import { DelayedError, type Job } from 'bullmq';
import { HAND_BACK_DELAY_MS, HAND_BACK_WINDOW_MS, jobFormatOf } from '@eatr/core';
import type { JobContext } from './job-context.js';

/**
 * A job this release cannot handle at all (an unknown job name, or a newer format whose fields it
 * cannot read): back to the queue for HAND_BACK_DELAY_MS so that a newer renewer takes it, until
 * HAND_BACK_WINDOW_MS after it was written; then it is dropped (completed, with an error line), never
 * failed. Dropping loses nothing the next sweep does not cover.
 */
export async function handBack(
  job: Job,
  token: string | undefined,
  problem: string,
  c: Pick<JobContext, 'log' | 'metrics'>,
  now: () => number = Date.now,
): Promise<{ result: 'dropped' }> {
  const ageMs = Math.max(0, now() - job.timestamp);
  const fields = { job: job.name, jobId: job.id, format: jobFormatOf(job.data), problem, ageMs };
  if (ageMs >= HAND_BACK_WINDOW_MS || token === undefined) {
    c.metrics.jobsHandedBack.inc({ job: job.name, outcome: 'dropped' });
    c.log.error(
      fields,
      'no renewer could handle this job (written by a newer eatr?); dropped: the next sweep covers it',
    );
    return { result: 'dropped' };
  }
  c.metrics.jobsHandedBack.inc({ job: job.name, outcome: 'delayed' });
  c.log.warn(
    { ...fields, delayMs: HAND_BACK_DELAY_MS },
    'job written by a newer eatr that this renewer cannot handle; handed back for a newer renewer',
  );
  await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
  throw new DelayedError();
}

/** How long a job a superseded renewer took waits before another renewer takes it. */
export const STEP_ASIDE_DELAY_MS = 500;

/**
 * A job taken by a renewer whose settings are no longer the newest (it had asked for it before it
 * paused): back to the queue at once, untouched, for a renewer with the newest settings.
 */
export async function stepAside(job: Job, token: string | undefined, c: Pick<JobContext, 'log'>) {
  if (token === undefined) throw new Error(`no lock token for job ${job.id ?? '?'}`);
  c.log.debug(
    { job: job.name, jobId: job.id },
    'renewers with newer settings run: job left to them',
  );
  await job.moveToDelayed(Date.now() + STEP_ASIDE_DELAY_MS, token);
  throw new DelayedError();
}
