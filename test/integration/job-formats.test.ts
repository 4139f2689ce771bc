import { Job, Queue } from 'bullmq';
import { JOB_FORMAT, LEGACY_QUEUE_NAME, SYNC_JOB } from '@eatr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEYS, Scenario, registry } from './support/scenario.js';

// Jobs of other releases, as a renewer of this one meets them in Redis: the previous release's
// queue (format 1, no version) and newer formats in this release's queue.

const EU = registry('eu-west-1');

let s: Scenario;
let legacy: Queue;
beforeEach(async () => {
  s = await Scenario.create([KEYS]);
  legacy = new Queue(LEGACY_QUEUE_NAME, { connection: { url: s.redisUrl }, prefix: s.queuePrefix });
  await s.createCredentialSecret(EU);
});
afterEach(async () => {
  await legacy.close();
  await s.close();
});

describe('jobs of other releases', () => {
  it("runs a format-1 sync from the previous release's queue", async () => {
    await s.start('renewer');
    const ns = await s.createNamespace('legacy', [EU]);
    await legacy.add(SYNC_JOB, { namespace: ns, reason: 'namespace' });
    await s.waitForSecret(ns, EU);
    expect(await legacy.getJobCountByTypes('failed')).toBe(0);
  });

  it('runs a newer sync with fields and values it does not know, and hands back a job type it does not know instead of failing it', async () => {
    const renewer = await s.start('renewer');
    const ns = await s.createNamespace('newer', [EU]);
    await s.queue.add(SYNC_JOB, {
      v: JOB_FORMAT + 1,
      namespace: ns,
      reason: 'tenant-policy',
      force: 'rotate',
      accessPolicy: { roles: ['reader'] },
    });
    await s.waitForSecret(ns, EU);

    const future = await s.queue.add('sync-argo-cd-cluster', { v: JOB_FORMAT + 1, cluster: 'x' });
    const handedBack = await renewer.waitForLog(
      (l) => l.jobId === future.id && typeof l.ageMs === 'number',
    );
    expect(handedBack).toMatchObject({ level: 'warn', job: 'sync-argo-cd-cluster' });
    // The renewer logs the hand-back as it decides it; BullMQ moves the job a moment later.
    const state = await s.waitFor('the handed-back job to be delayed', async () => {
      const now = await (await Job.fromId(s.queue, future.id ?? ''))?.getState();
      return now === 'active' ? undefined : now;
    });
    expect(state).toBe('delayed');
    expect(await s.queue.getJobCountByTypes('failed')).toBe(0);
    expect(await renewer.metricValue('eatr_jobs_handed_back_total', { outcome: 'delayed' })).toBe(
      1,
    );
  });
});
