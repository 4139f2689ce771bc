import { UnrecoverableError, type Job } from 'bullmq';
import { LogMessage, readSyncJob } from '@eatr/core';
import { handBack } from './hand-back.js';
import { asEatrError } from '../sync/eatr-error.js';
import type { JobContext } from './job-context.js';

/** A sync job: bring one namespace's pull Secrets up to date. */
export async function runSync(
  job: Job,
  token: string | undefined,
  c: JobContext,
): Promise<unknown> {
  const parsed = readSyncJob(job.data);
  if (parsed.kind === 'newer') return handBack(job, token, parsed.problem, c);
  if (parsed.kind === 'malformed')
    throw new UnrecoverableError(`malformed sync job data: ${parsed.problem}`);
  const { namespace } = parsed.data;
  const stopTimer = c.metrics.syncDuration.startTimer();
  // Start and end of every run, whatever its outcome: two runs of one namespace must never overlap,
  // and these lines let a test (or an operator after an incident) check that across renewers.
  c.log.debug(
    { namespace, jobId: job.id, reason: parsed.data.reason, attempt: job.attemptsMade + 1 },
    LogMessage.syncStarted,
  );
  try {
    const result = await c.sync.run(parsed.data, parsed.data.requestedAt ?? job.timestamp);
    c.metrics.syncs.inc({ result: result.result });
    c.log.debug(
      {
        namespace,
        jobId: job.id,
        reason: parsed.data.reason,
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
