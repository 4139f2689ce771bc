import type { Job } from 'bullmq';
import {
  SWEEP_JOB,
  SYNC_JOB,
  currentRequestPriority,
  versioned,
  type RequestPriority,
  type SyncReason,
} from '@eatr/core';
import { describe, expect, it } from 'vitest';
import { instruments } from '../sync/testing/fakes.js';
import { runJob } from './run-job.js';
import type { JobContext } from './job-context.js';

const job = (name: string, data: object) =>
  ({ name, id: 'job-1', data: versioned(data), timestamp: Date.now(), attemptsMade: 0 }) as Job;

/**
 * A context whose sync and sweep record the request priority their API calls would carry (the one
 * the client-side rate limiter reads), after an await, as a real call would be.
 */
function recordingContext(seen: RequestPriority[]): JobContext {
  const record = async () => {
    await Promise.resolve();
    seen.push(currentRequestPriority());
  };
  const { metrics, log } = instruments();
  return {
    metrics,
    log,
    superseded: () => false,
    sync: {
      run: async () => {
        await record();
        return { result: 'done', actions: [] };
      },
    },
    // A sweep's only API requests: the versions of foreign Secrets that block a namespace.
    blocked: {
      all: () =>
        Promise.resolve(
          new Map([
            [
              'team-a/secret:ecr',
              { fingerprint: 'f', reason: 'conflict', registry: 'r', since: 0, lastSeen: 0 },
            ],
          ]),
        ),
      clearKeys: () => Promise.resolve(),
    },
    kube: {
      foreignSecretVersions: async () => {
        await record();
        return { versions: new Map(), requests: 1 };
      },
    },
    view: { allNamespaces: () => [], waitFor: () => Promise.resolve(true) },
    config: {},
  } as unknown as JobContext;
}

describe('runJob: the priority of the API requests a job makes', () => {
  it.each<[SyncReason, RequestPriority]>([
    ['namespace', 'event'],
    ['credentials', 'event'],
    ['serviceaccount', 'event'],
    ['follow-up', 'event'],
    ['recovered', 'event'],
    ['manual', 'event'],
    ['sweep', 'bulk'],
    ['startup', 'bulk'],
  ])('a sync for reason %s makes %s requests', async (reason, expected) => {
    const seen: RequestPriority[] = [];
    await runJob(job(SYNC_JOB, { namespace: 'team-a', reason }), 'token', recordingContext(seen));
    expect(seen).toEqual([expected]);
  });

  it('a scheduled sweep makes bulk requests, one for a credential change event requests', async () => {
    const seen: RequestPriority[] = [];
    await runJob(job(SWEEP_JOB, {}), 'token', recordingContext(seen));
    await runJob(
      job(SWEEP_JOB, {
        reason: 'credentials',
        waitFor: [{ resource: 'credentials', resourceVersion: '7' }],
      }),
      'token',
      recordingContext(seen),
    );
    expect(seen).toEqual(['bulk', 'event']);
    expect(currentRequestPriority()).toBe('event'); // nothing leaks out of the job
  });
});
