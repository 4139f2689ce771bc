import { Worker, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  PROBE_JOB,
  QUEUE_NAME,
  createQueue,
  enqueueProbe,
  versioned,
  type ProbeJobData,
} from '@eatr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, uniqueName } from '../harness/index.js';

// A probe chain asks AWS again every minute for as long as AWS refuses a registry (up to 50,000
// attempts). BullMQ appends a stack trace to the job on every failed attempt unless told not to, and
// the bundled Redis evicts nothing: the job must not grow with its attempts.

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ATTEMPTS = 300;

let queue: Queue | undefined;
let worker: Worker | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  await worker?.close();
  await queue?.obliterate({ force: true });
  await queue?.close();
  redis?.disconnect();
});

/** Runs `job` through `ATTEMPTS` failed attempts, 1 ms apart; returns its size in Redis after 10 and after all. */
async function fail(prefix: string, job: Job): Promise<{ after10: number; afterAll: number }> {
  const connection = { url: harness().redisUrl };
  redis ??= new Redis(harness().redisUrl);
  const key = `${prefix}:${QUEUE_NAME}:${job.id ?? ''}`;
  const size = async () => Number(await redis?.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  let failures = 0;
  let after10 = 0;
  const done = new Promise<void>((resolve, reject) => {
    worker = new Worker(
      QUEUE_NAME,
      () => Promise.reject(new Error(`AccessDeniedException: not authorized for ${REGISTRY}`)),
      { connection, prefix, settings: { backoffStrategy: () => 1 } },
    );
    worker.on('failed', (failed) => {
      if (failed?.id !== job.id) return;
      failures++;
      if (failures === 10) void size().then((s) => (after10 = s), reject);
      if (failures === ATTEMPTS) resolve();
    });
    worker.on('error', reject);
  });
  await job.promote(); // the chain's first ask waits 5 s
  await done;
  await worker?.close();
  worker = undefined;
  return { after10, afterAll: await size() };
}

describe('a probe job that AWS refuses hundreds of times', () => {
  it('stays the same size in Redis: only the last failure is kept', async () => {
    const prefix = `{${uniqueName('job-size')}}`;
    queue = createQueue({ url: harness().redisUrl }, { prefix, jobAttempts: 3, jobBackoffMs: 1 });
    const data: ProbeJobData = { registry: REGISTRY };
    expect(await enqueueProbe(queue, data)).toBe(true);
    const [eatrs] = await queue.getJobs(['delayed']);
    if (!eatrs) throw new Error('no probe job');
    const eatr = await fail(prefix, eatrs);

    // The same chain without a limit, as 0.1.x enqueued it: what the limit saves.
    const unbounded = await queue.add(PROBE_JOB, versioned(data), {
      delay: 60_000,
      attempts: 50_000,
      stackTraceLimit: undefined,
    });
    const before = await fail(prefix, unbounded);

    console.log(
      `[figures] probe job size after 10 and ${ATTEMPTS} failed attempts: ${JSON.stringify({ unbounded: before, eatr })}`,
    );
    expect(eatr.afterAll).toBeLessThanOrEqual(eatr.after10 + 256);
    expect(before.afterAll).toBeGreaterThan(before.after10 * 10);
  }, 120_000);
});
