import { QUEUE_NAME, SWEEP_SCHEDULER_ID } from '@eatr/core';
import type { Cli } from '../context.js';
import type { Check } from '../doctor-model.js';
import { humanDuration } from '../output.js';
import { fail, ok } from './check.js';

/** The queue is being worked: no failed or stalled jobs, a renewer connected, the sweep scheduled. */
export async function queueChecks(cli: Cli): Promise<Check[]> {
  const queue = cli.queue;
  const checks: Check[] = [];
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
  const failedJobs = counts.failed ?? 0;
  checks.push(
    failedJobs === 0
      ? ok('queue-failed', 'no failed jobs')
      : fail(
          'queue-failed',
          `${failedJobs} failed job${failedJobs === 1 ? '' : 's'} (syncs that ran out of attempts)`,
          'see the renewer logs (decision="failed") and eatr status; eatr renew NAMESPACE retries at once',
        ),
  );
  // A job is stalled when it is active but its lock is gone (the renewer running it died); BullMQ's
  // stalled check hands it to another renewer, so one that stays stalled means no renewer runs.
  const active = await queue.getActive();
  let stalled = 0;
  for (const job of active)
    if (!(await cli.redis.exists(`${cli.watcher.queuePrefix}:${QUEUE_NAME}:${job.id ?? ''}:lock`)))
      stalled++;
  checks.push(
    stalled === 0
      ? ok(
          'queue-stalled',
          `${active.length} active, ${counts.delayed ?? 0} delayed (retries and the next sweep), none stalled`,
        )
      : fail(
          'queue-stalled',
          `${stalled} active job${stalled === 1 ? '' : 's'} without a lock (stalled)`,
          'start a renewer: it takes stalled jobs over',
        ),
  );
  const workers = await queue.getWorkersCount().catch(() => undefined);
  if (workers !== undefined)
    checks.push(
      workers > 0
        ? ok('renewers', `${workers} worker${workers === 1 ? '' : 's'} connected to the queue`)
        : fail(
            'renewers',
            'no renewer is connected to the queue: nothing runs the syncs',
            'start eatr-renewer (or eatr run) with the same --redis-url and --queue-prefix',
          ),
    );
  const scheduler = await queue.getJobScheduler(SWEEP_SCHEDULER_ID);
  checks.push(
    scheduler
      ? ok('sweep-scheduler', `sweep scheduled every ${humanDuration(scheduler.every ?? 0)}`)
      : fail(
          'sweep-scheduler',
          'no sweep scheduler: nothing re-checks namespaces periodically',
          'start eatr-watcher (its leader upserts the scheduler)',
        ),
  );
  return checks;
}
