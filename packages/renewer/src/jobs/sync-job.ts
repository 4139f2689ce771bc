import { UnrecoverableError, type Job } from 'bullmq';
import { LogMessage, type SyncJobData } from '@eatr/core';
import { asEatrError } from '../sync/eatr-error.js';
import type { JobContext } from './job-context.js';

/** A sync job: bring one namespace's pull Secrets up to date. */
export async function runSync(job: Job, data: SyncJobData, c: JobContext): Promise<unknown> {
  const { namespace } = data;
  const stopTimer = c.metrics.syncDuration.startTimer();
  // Start and end of every run, whatever its outcome: two runs of one namespace must never overlap,
  // and these lines let a test (or an operator after an incident) check that across renewers.
  c.log.debug(
    { namespace, jobId: job.id, reason: data.reason, attempt: job.attemptsMade + 1 },
    LogMessage.syncStarted,
  );
  try {
    const result = await c.sync.run(data, data.requestedAt ?? job.timestamp);
    c.metrics.syncs.inc({ result: result.result });
    c.log.debug(
      {
        namespace,
        jobId: job.id,
        reason: data.reason,
        result: result.result,
        actions: result.actions,
      },
      LogMessage.syncDone,
    );
    return result;
  } catch (error) {
    const failure = asEatrError(error, { namespace });
    c.metrics.syncs.inc({ result: failure.errorClass });
    if (failure.errorClass === 'gone') return { result: 'gone' };
    if (failure.errorClass === 'permanent') {
      c.log.error(
        { namespace, reason: failure.reason, err: failure.message },
        LogMessage.syncFailedPermanently,
      );
      throw new UnrecoverableError(failure.message);
    }
    throw failure;
  } finally {
    stopTimer();
    c.log.debug({ namespace, jobId: job.id }, LogMessage.syncEnded);
  }
}
