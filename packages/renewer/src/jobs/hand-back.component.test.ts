import { DelayedError, type Job } from 'bullmq';
import { HAND_BACK_DELAY_MS, MAX_HAND_BACKS, PROBE_JOB } from '@eatr/core';
import { describe, expect, it } from 'vitest';
import { instruments } from '../sync/testing/fakes.js';
import { handBack } from './hand-back.js';
import { runJob } from './run-job.js';
import type { JobContext } from './job-context.js';

/** A job as BullMQ hands it to the processor, recording where it was moved. */
function fakeJob(name: string, data: unknown, attemptsStarted: number, attemptsMade = 0) {
  const moved: number[] = [];
  const job = {
    name,
    id: 'job-1',
    data,
    attemptsStarted,
    attemptsMade,
    moveToDelayed: (timestamp: number) => {
      moved.push(timestamp);
      return Promise.resolve();
    },
  } as unknown as Job;
  return { job, moved };
}

describe('handBack', () => {
  it.each([
    ['the first time a worker took it', 1, 0],
    ['after a failed attempt, the first hand-back', 2, 1],
    ['the last hand-back before the bound', MAX_HAND_BACKS, 0],
  ])('delays a job it cannot handle for a newer worker: %s', async (_name, started, made) => {
    const { metrics, log } = instruments();
    const { job, moved } = fakeJob('future', { v: 9 }, started, made);
    const before = Date.now();
    await expect(handBack(job, 'token', 'unknown job future', { metrics, log })).rejects.toThrow(
      DelayedError,
    );
    expect(moved).toHaveLength(1);
    expect(moved[0]).toBeGreaterThanOrEqual(before + HAND_BACK_DELAY_MS);
    expect((await metrics.jobsHandedBack.get()).values).toEqual([
      expect.objectContaining({ labels: { job: 'future', outcome: 'delayed' }, value: 1 }),
    ]);
  });

  it('drops the job (completes it, never fails it) after MAX_HAND_BACKS hand-backs', async () => {
    const { metrics, log } = instruments();
    const { job, moved } = fakeJob('future', { v: 9 }, MAX_HAND_BACKS + 1);
    await expect(handBack(job, 'token', 'unknown job future', { metrics, log })).resolves.toEqual({
      result: 'dropped',
    });
    expect(moved).toEqual([]);
    expect((await metrics.jobsHandedBack.get()).values).toEqual([
      expect.objectContaining({ labels: { job: 'future', outcome: 'dropped' }, value: 1 }),
    ]);
  });

  it('runJob hands back an unknown job type and a newer probe it cannot read', async () => {
    const { metrics, log } = instruments();
    const context = { metrics, log, superseded: () => false } as unknown as JobContext;
    for (const [name, data] of [
      ['sync-argo-cd', { v: 3, cluster: 'x' }],
      [PROBE_JOB, { v: 3, publicRegistry: 'public.ecr.aws' }],
    ] as const) {
      const { job, moved } = fakeJob(name, data, 1);
      await expect(runJob(job, 'token', context)).rejects.toThrow(DelayedError);
      expect(moved).toHaveLength(1);
    }
  });
});
