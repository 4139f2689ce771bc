import { UnrecoverableError, type Job } from 'bullmq';
import { LogMessage, readSweepJob } from '@eatr/core';
import { handBack } from './hand-back.js';
import { sweep } from '../sync/sweep.js';
import type { JobContext } from './job-context.js';

/** A sweep job: look at every namespace and enqueue the syncs that are due. */
export async function runSweep(
  job: Job,
  token: string | undefined,
  c: JobContext,
): Promise<unknown> {
  const started = performance.now();
  const parsed = readSweepJob(job.data);
  if (parsed.kind === 'newer') return handBack(job, token, parsed.problem, c);
  if (parsed.kind === 'malformed')
    throw new UnrecoverableError(`malformed sweep job data: ${parsed.problem}`);
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
