import { LogMessage, type SweepJobData } from '@eatr/core';
import { sweep } from '../sync/sweep.js';
import type { JobContext } from './job-context.js';

/** A sweep job: look at every namespace and enqueue the syncs that are due. */
export async function runSweep(data: SweepJobData, c: JobContext): Promise<unknown> {
  const started = performance.now();
  try {
    const result = await sweep({ ...c, job: data });
    c.metrics.sweeps.inc({ result: 'success' });
    const durationMs = Math.round(performance.now() - started);
    c.log.info({ decision: 'sweep', ...result, durationMs }, LogMessage.sweepDone);
    return result;
  } catch (error) {
    c.metrics.sweeps.inc({ result: 'error' });
    throw error;
  }
}
