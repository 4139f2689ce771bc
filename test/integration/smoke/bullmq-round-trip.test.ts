import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, uniqueName } from '../../harness/index.js';

describe('harness Redis', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function connect(options: { forWorker: boolean }): Redis {
    // Workers block on Redis and must never give up a command; producers should fail fast.
    const redis = new Redis(harness().redisUrl, {
      maxRetriesPerRequest: options.forWorker ? null : 1,
    });
    cleanups.push(() => redis.quit());
    return redis;
  }

  it('runs with maxmemory-policy noeviction, as BullMQ requires', async () => {
    const redis = connect({ forWorker: false });
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
  });

  it('carries a BullMQ job from a Queue to a Worker and its result back', async () => {
    const name = uniqueName('smoke');
    const prefix = `{${uniqueName('t')}}`;
    const producer = connect({ forWorker: false });
    const queue = new Queue<{ n: number }, { doubled: number }>(name, {
      connection: producer,
      prefix,
    });
    cleanups.push(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
    });

    const completed = new Promise<Job<{ n: number }, { doubled: number }>>((resolve, reject) => {
      const worker = new Worker<{ n: number }, { doubled: number }>(
        name,
        (job) => Promise.resolve({ doubled: job.data.n * 2 }),
        { connection: connect({ forWorker: true }), prefix },
      );
      cleanups.push(() => worker.close());
      worker.on('completed', resolve);
      worker.on('failed', (_job, error) => reject(error));
      worker.on('error', reject);
    });

    const added = await queue.add('double', { n: 21 });
    const job = await completed;
    expect(job.id).toBe(added.id);
    expect(job.returnvalue).toEqual({ doubled: 42 });
    expect(await queue.getJobCounts('completed')).toEqual({ completed: 1 });

    // Every key of the queue is under the hash-tag prefix, and obliterate removes them all.
    expect(await producer.keys(`${prefix}:${name}:*`)).not.toHaveLength(0);
    await queue.obliterate({ force: true });
    expect(await producer.keys(`${prefix}:${name}:*`)).toHaveLength(0);
  });
});
