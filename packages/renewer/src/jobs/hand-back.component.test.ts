import { DelayedError, type Job } from 'bullmq';
import { HAND_BACK_DELAY_MS, HAND_BACK_WINDOW_MS, PROBE_JOB } from '@eatr/core';
import { describe, expect, it } from 'vitest';
import { instruments } from '../sync/testing/fakes.js';
import { handBack } from './hand-back.js';
import { runJob } from './run-job.js';
import type { JobContext } from './job-context.js';

/** A job as BullMQ hands it to the processor, recording where it was moved. */
function fakeJob(name: string, data: unknown, timestamp: number) {
  const moved: number[] = [];
  const job = {
    name,
    id: 'job-1',
    data,
    timestamp,
    moveToDelayed: (timestamp: number) => {
      moved.push(timestamp);
      return Promise.resolve();
    },
  } as unknown as Job;
  return { job, moved };
}

describe('handBack', () => {
  const NOW = 1_800_000_000_000;
  it.each([
    ['just written', 0],
    ['a minute old', 60_000],
    ['just inside the window', HAND_BACK_WINDOW_MS - 1],
  ])('delays a job it cannot handle for a newer worker: %s', async (_name, age) => {
    const { metrics, log } = instruments();
    const { job, moved } = fakeJob('future', { v: 9 }, NOW - age);
    const before = Date.now();
    await expect(
      handBack(job, 'token', 'unknown job future', { metrics, log }, () => NOW),
    ).rejects.toThrow(DelayedError);
    expect(moved).toHaveLength(1);
    expect(moved[0]).toBeGreaterThanOrEqual(before + HAND_BACK_DELAY_MS);
    expect((await metrics.jobsHandedBack.get()).values).toEqual([
      expect.objectContaining({ labels: { job: 'future', outcome: 'delayed' }, value: 1 }),
    ]);
  });

  it('drops the job (completes it, never fails it) once HAND_BACK_WINDOW_MS has passed', async () => {
    const { metrics, log } = instruments();
    const { job, moved } = fakeJob('future', { v: 9 }, NOW - HAND_BACK_WINDOW_MS);
    await expect(
      handBack(job, 'token', 'unknown job future', { metrics, log }, () => NOW),
    ).resolves.toEqual({ result: 'dropped' });
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
      const { job, moved } = fakeJob(name, data, Date.now());
      await expect(runJob(job, 'token', context)).rejects.toThrow(DelayedError);
      expect(moved).toHaveLength(1);
    }
  });
});
