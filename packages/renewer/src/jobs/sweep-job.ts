import { UnrecoverableError, type Job } from 'bullmq';
import { LogMessage, sweepJobData } from '@eatr/core';
import { sweep } from '../sync/sweep.js';
import type { JobContext } from './job-context.js';

/** A sweep job: look at every namespace and enqueue the syncs that are due. */
export async function runSweep(job: Job, c: JobContext): Promise<unknown> {
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
    c.log.info({ decision: 'sweep', ...result, durationMs }, LogMessage.sweepDone);
    return result;
  } catch (error) {
    c.metrics.sweeps.inc({ result: 'error' });
    throw error;
  }
}
