import { randomUUID } from 'node:crypto';
import { Worker, type Job, type Queue } from 'bullmq';
import {
  BULK_PRIORITY,
  JOB_FORMAT,
  QUEUE_NAME,
  SYNC_JOB,
  backoffStrategy,
  createQueue,
  enqueueSync,
  readSyncJob,
  syncDeduplicationId,
  type CachedResource,
  type SyncJobData,
} from '@eatr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, uniqueName } from '../harness/index.js';

/**
 * A sync job's payload as a renewer of this release reads it; enqueueSync writes every job in this
 * release's format (the check), which the comparisons then leave out.
 */
function payload(job: Job): SyncJobData {
  const read = readSyncJob(job.data);
  if (read.kind !== 'ok' || read.format !== JOB_FORMAT)
    throw new Error(`not a format-${JOB_FORMAT} sync job: ${JSON.stringify(job.data)}`);
  return read.data;
}

/** What a renewer sees when it takes a sync job: the payload it acts on and the job's priority. */
interface Run {
  readonly data: SyncJobData;
  readonly priority: number;
}

/**
 * A queue of its own (unique prefix) and a worker that takes jobs by hand, one at a time, as a
 * renewer with concurrency 1 would: the test decides when a job starts, fails or ends.
 */
class Lane {
  readonly queue: Queue;
  private readonly worker: Worker<SyncJobData>;
  private readonly token = randomUUID();

  constructor() {
    const connection = { url: harness().redisUrl };
    const prefix = `{${uniqueName('enqueue')}}`;
    // A 30 s first backoff: a failed job waits out its retry (15-30 s) for longer than any test here.
    this.queue = createQueue(connection, { prefix, jobAttempts: 3, jobBackoffMs: 30_000 });
    this.worker = new Worker<SyncJobData>(QUEUE_NAME, null, {
      connection,
      prefix,
      autorun: false,
      settings: { backoffStrategy: backoffStrategy(60_000) },
    });
  }

  enqueue(data: SyncJobData, delayMs?: number): Promise<boolean> {
    return enqueueSync(this.queue, data, delayMs);
  }

  /** Starts the next job a renewer would run now, if any. */
  async take(): Promise<Job<SyncJobData> | undefined> {
    // Typed as always a Job, but undefined when nothing can run now.
    const job: Job<SyncJobData> | undefined = await this.worker.getNextJob(this.token, {
      block: false,
    });
    return job;
  }

  async complete(job: Job<SyncJobData>): Promise<void> {
    await job.moveToCompleted('done', this.token, false);
  }

  /** The job fails; with attempts left it waits out its backoff (state `delayed`). */
  async fail(job: Job<SyncJobData>): Promise<void> {
    await job.moveToFailed(new Error('AWS said no'), this.token, false);
  }

  /** Runs every job that can run now, in the order a renewer would, and returns what each was. */
  async runAll(): Promise<Run[]> {
    const runs: Run[] = [];
    for (let job = await this.take(); job; job = await this.take()) {
      runs.push({ data: payload(job), priority: job.priority });
      await this.complete(job);
    }
    return runs;
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.obliterate({ force: true });
    await this.queue.close();
  }
}

const lanes: Lane[] = [];
afterEach(async () => {
  await Promise.all(lanes.splice(0).map((lane) => lane.close()));
});

function lane(): Lane {
  const l = new Lane();
  lanes.push(l);
  return l;
}

const event = (namespace: string, extra: Partial<SyncJobData> = {}): SyncJobData => ({
  namespace,
  reason: 'namespace',
  ...extra,
});
const sweep = (namespace: string): SyncJobData => ({ namespace, reason: 'sweep' });
const rv = (resource: CachedResource, resourceVersion: string) => ({ resource, resourceVersion });
const urgent = (data: SyncJobData): Run => ({ data, priority: 0 });
const bulk = (data: SyncJobData): Run => ({ data, priority: BULK_PRIORITY });

describe('enqueueSync on a real Redis', () => {
  it('keeps one waiting sync per namespace: a second enqueue is deduplicated, and one sync runs', async () => {
    const l = lane();
    expect(await l.enqueue(event('a'))).toBe(true);
    expect(await l.enqueue(event('a'))).toBe(false);
    expect(await l.enqueue(event('b'))).toBe(true);
    expect(await l.runAll()).toEqual([urgent(event('a')), urgent(event('b'))]);
    // Once it ran, the namespace is free again: the next change is a new job.
    expect(await l.enqueue(event('a'))).toBe(true);
    expect(await l.runAll()).toEqual([urgent(event('a'))]);
  });

  it('runs event syncs before bulk work, which waits at the bulk priority', async () => {
    const l = lane();
    expect(await l.enqueue(sweep('s1'))).toBe(true);
    expect(await l.enqueue({ namespace: 's2', reason: 'startup' })).toBe(true);
    expect(await l.enqueue(event('e1'))).toBe(true);
    expect(await l.enqueue({ namespace: 'e2', reason: 'credentials' })).toBe(true);
    expect(await l.runAll()).toEqual([
      urgent(event('e1')),
      urgent({ namespace: 'e2', reason: 'credentials' }),
      bulk(sweep('s1')),
      bulk({ namespace: 's2', reason: 'startup' }),
    ]);
  });

  it("promotes a waiting sweep when an event for its namespace arrives, with the event's versions", async () => {
    const l = lane();
    for (const ns of ['a', 'b', 'c']) await l.enqueue(sweep(ns));
    await l.enqueue(event('x'));
    const sa: SyncJobData = {
      namespace: 'b',
      reason: 'serviceaccount',
      waitFor: [rv('serviceaccounts', '42')],
    };
    expect(await l.enqueue(sa)).toBe(false);
    // b runs after the event that was already waiting, but before the sweeps it was queued with.
    expect(await l.runAll()).toEqual([
      urgent(event('x')),
      urgent(sa),
      bulk(sweep('a')),
      bulk(sweep('c')),
    ]);
  });

  it('never lets bulk work downgrade a waiting event', async () => {
    const l = lane();
    const waiting = event('a', { waitFor: [rv('namespaces', '5')] });
    await l.enqueue(waiting);
    expect(await l.enqueue(sweep('a'))).toBe(false);
    await l.enqueue(sweep('b'));
    expect(await l.runAll()).toEqual([urgent(waiting), bulk(sweep('b'))]);
  });

  it('merges what a waiting sync waits for: the newest version of each resource', async () => {
    const l = lane();
    await l.enqueue(event('a', { waitFor: [rv('namespaces', '100')] }));
    const older = [rv('namespaces', '90'), rv('serviceaccounts', '120')];
    expect(await l.enqueue({ namespace: 'a', reason: 'serviceaccount', waitFor: older })).toBe(
      false,
    );
    const [run, ...rest] = await l.runAll();
    expect(rest).toEqual([]);
    expect(run?.data.reason).toBe('serviceaccount');
    expect(run?.data.waitFor).toEqual(
      expect.arrayContaining([rv('namespaces', '100'), rv('serviceaccounts', '120')]),
    );
    expect(run?.data.waitFor).toHaveLength(2);
  });

  it('keeps the strongest force and the latest request time of the syncs it merges', async () => {
    const l = lane();
    await l.enqueue(sweep('a'));
    await l.enqueue({ namespace: 'a', reason: 'manual', force: 'renew', requestedAt: 2000 });
    await l.enqueue({ namespace: 'a', reason: 'recovered', force: 'retry', requestedAt: 1000 });
    await l.enqueue(event('a'));
    // `eatr renew` asked for a renewal: a later event or retry must not turn it into a plain sync.
    expect(await l.runAll()).toEqual([
      urgent({ namespace: 'a', reason: 'namespace', force: 'renew', requestedAt: 2000 }),
    ]);
  });

  it('runs a retry waiting out its backoff at once when an event arrives, and not for a sweep', async () => {
    const l = lane();
    await l.enqueue(event('a'));
    const first = await l.take();
    if (!first) throw new Error('no job to take');
    expect(payload(first)).toEqual(event('a'));
    await l.fail(first);
    expect(await first.getState()).toBe('delayed');
    expect(await l.take()).toBeUndefined();

    expect(await l.enqueue(sweep('a'))).toBe(false);
    expect(await l.take()).toBeUndefined(); // bulk work does not cut a backoff short

    const change = event('a', { waitFor: [rv('namespaces', '7')] });
    expect(await l.enqueue(change)).toBe(false);
    const retry = await l.take();
    // The same job (its attempts count on), now with the event's versions.
    expect(retry?.id).toBe(first.id);
    expect(retry?.attemptsMade).toBe(1);
    expect(retry && payload(retry)).toEqual(change);
  });

  it('runs one follow-up, with the newest data, for events that arrive while the sync runs', async () => {
    const l = lane();
    await l.enqueue(event('a', { waitFor: [rv('namespaces', '10')] }));
    const running = await l.take();
    if (!running) throw new Error('no job to take');

    await l.enqueue(event('a', { waitFor: [rv('namespaces', '11')] }));
    const latest = event('a', { waitFor: [rv('namespaces', '12')] });
    await l.enqueue(latest);
    // Never two syncs of one namespace at once: the follow-up waits for the running one to end.
    expect(await l.take()).toBeUndefined();

    await l.complete(running);
    expect(await l.runAll()).toEqual([urgent(latest)]);
  });

  it('drops bulk work for a namespace whose sync runs (that sync reads current state)', async () => {
    const l = lane();
    await l.enqueue(event('a'));
    const running = await l.take();
    if (!running) throw new Error('no job to take');
    expect(await l.enqueue(sweep('a'))).toBe(false);
    await l.complete(running);
    expect(await l.runAll()).toEqual([]);
  });

  it('adds a delayed sync that waits its delay, unless one is already waiting', async () => {
    const l = lane();
    expect(await l.enqueue(event('a'), 60_000)).toBe(true);
    expect(await l.take()).toBeUndefined();
    // An event does not wait behind the delay: the sync runs now.
    const change = event('a', { waitFor: [rv('namespaces', '3')] });
    expect(await l.enqueue(change)).toBe(false);
    expect(await l.runAll()).toEqual([urgent(change)]);

    // A delayed enqueue that meets a waiting sync adds nothing: one sync of b, now, and none later.
    await l.enqueue(event('b'));
    expect(await l.enqueue(event('b', { reason: 'credentials' }), 60_000)).toBe(false);
    expect((await l.runAll()).map((run) => run.data.namespace)).toEqual(['b']);
    expect(await l.queue.getJobCounts('delayed', 'waiting', 'prioritized')).toEqual({
      delayed: 0,
      waiting: 0,
      prioritized: 0,
    });
  });

  it('leaves a waiting job a newer release wrote as it is (it reads current state when it runs)', async () => {
    const l = lane();
    const newer = { v: JOB_FORMAT + 1, namespace: 'a', reason: 'namespace', tenantRole: 'x' };
    await l.queue.add(SYNC_JOB, newer, { deduplication: { id: syncDeduplicationId('a') } });
    expect(await l.enqueue(event('a', { waitFor: [rv('namespaces', '9')] }))).toBe(false);
    const job = await l.take();
    expect(job?.data).toEqual(newer);
    expect(await l.take()).toBeUndefined();
  });

  it("merges the event into a waiting job with a reason it does not know (read as an event's)", async () => {
    const l = lane();
    await l.queue.add(
      SYNC_JOB,
      { namespace: 'a', reason: 'from-the-future' },
      { deduplication: { id: syncDeduplicationId('a') } },
    );
    const change = event('a', { waitFor: [rv('namespaces', '9')] });
    expect(await l.enqueue(change)).toBe(false);
    expect(await l.runAll()).toEqual([urgent(change)]);
  });
});

// Defects this file found (issue 16), fixed in enqueueSync.
describe("enqueueSync while the namespace's sync runs", () => {
  it('reports an event that gets a follow-up as enqueued, not deduplicated', async () => {
    // BullMQ stores the follow-up (keepLastIfActive) but answers with the running job's id; the
    // watcher counted a kept sync in eatr_jobs_deduplicated_total.
    const l = lane();
    await l.enqueue(event('a'));
    const running = await l.take();
    if (!running) throw new Error('no job to take');
    const added = await l.enqueue(event('a', { waitFor: [rv('namespaces', '11')] }));
    await l.complete(running);
    expect(await l.runAll()).toHaveLength(1); // the follow-up was kept...
    expect(added).toBe(true); // ...and enqueueSync says so
  });

  it('keeps a forced renewal asked for while the sync runs when an event follows it', async () => {
    // BullMQ's follow-up holds only the last add's payload: `eatr renew` (force renew), then any
    // change to the namespace before the running sync ends, and the renewal was not forced.
    const l = lane();
    await l.enqueue(event('a'));
    const running = await l.take();
    if (!running) throw new Error('no job to take');
    await l.enqueue({ namespace: 'a', reason: 'manual', force: 'renew', requestedAt: 5 });
    await l.enqueue(event('a', { waitFor: [rv('namespaces', '12')] }));
    await l.complete(running);
    const [followUp] = await l.runAll();
    expect(followUp?.data.force).toBe('renew');
  });
});
