import { randomUUID } from 'node:crypto';
import { Job, Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { cappedExponential } from '../runtime/backoff.js';
import { isAtLeast } from '../watch/resource-version.js';
import {
  BULK_PRIORITY,
  PROBE_JOB,
  QUEUE_NAME,
  SWEEP_JOB,
  SYNC_JOB,
  isBulkReason,
  jobFormatOf,
  probeJobData,
  readSweepJob,
  readSyncJob,
  sweepJobData,
  syncJobData,
  versioned,
  JOB_FORMAT,
  type CachedResource,
  type ProbeJobData,
  type SyncForce,
  type SyncJobData,
} from './job-data.js';

export * from './job-data.js';

/** At most one waiting sync per namespace, and never two running at once. */
export function syncDeduplicationId(namespace: string): string {
  return `ns-${namespace}`;
}

/** At most one sweep waiting that was not produced by the scheduler (e.g. after a watcher start). */
export const SWEEP_DEDUPLICATION_ID = 'sweep';

/** At most one credential-change sweep waiting, apart from the scheduled ones (which wait for nothing). */
export const CREDENTIALS_SWEEP_DEDUPLICATION_ID = 'sweep-credentials';

export interface QueueSettings {
  readonly prefix: string;
  readonly jobAttempts: number;
  readonly jobBackoffMs: number;
}

/**
 * The retry backoff of sync jobs: exponential from the job's `delay`, with jitter, capped by the
 * worker's `--job-backoff-max` (BullMQ's own exponential type has no cap: the 10th retry of a 2 s
 * backoff would wait 17 minutes). Computed by the worker (see retryDelayMs).
 */
export const CAPPED_BACKOFF = 'eatr-capped-exponential';
/** The backoff of a probe chain: 5 s, 10 s, 20 s, 40 s, then every `--job-backoff-max`. */
export const PROBE_BACKOFF = 'eatr-probe';
/** First delay of a probe chain. */
export const PROBE_FIRST_DELAY_MS = 5000;
/** A probe chain keeps going while AWS refuses (about a month at one a minute); a success ends it. */
const PROBE_ATTEMPTS = 50_000;

/**
 * Delay before retry number `attemptsMade` (1-based) of a job whose first retry waits `firstMs`:
 * doubling, never above `maxMs`, with up to half of it taken off at random so retries spread (pure
 * given `random`).
 */
export function retryDelayMs(
  attemptsMade: number,
  firstMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const full = cappedExponential(attemptsMade - 1, firstMs, maxMs);
  return Math.max(1, Math.round(full * (1 - 0.5 * random())));
}

/**
 * The worker's backoff for eatr's own backoff types; `maxMs` is the worker's `--job-backoff-max`.
 * A probe waits 5 s, 10 s, 20 s... up to `maxMs` without jitter: one chain per registry needs none.
 */
export function backoffStrategy(maxMs: number) {
  return (attemptsMade: number, type?: string, _err?: Error, job?: { opts: JobsOptions }) => {
    const backoff = job?.opts.backoff;
    const firstMs = typeof backoff === 'object' && backoff.delay ? backoff.delay : 1000;
    if (type === PROBE_BACKOFF)
      return cappedExponential(attemptsMade - 1, PROBE_FIRST_DELAY_MS, maxMs);
    return retryDelayMs(attemptsMade, firstMs, maxMs);
  };
}

/**
 * Stack traces a job keeps: the last failure's. BullMQ appends one per failed attempt unless limited,
 * and a probe chain can fail 50,000 times (a month of AWS refusing): its job would grow by ~1 KiB a
 * minute in a Redis that evicts nothing.
 */
export const STACK_TRACE_LIMIT = 1;

/**
 * Retries with capped exponential backoff and jitter; finished jobs do not pile up in Redis, nor does
 * a job that keeps failing. Every producer's queue applies these to every job it adds.
 */
export function defaultJobOptions(settings: QueueSettings): JobsOptions {
  return {
    attempts: settings.jobAttempts,
    backoff: { type: CAPPED_BACKOFF, delay: settings.jobBackoffMs },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 1000, age: 24 * 3600 },
    stackTraceLimit: STACK_TRACE_LIMIT,
  };
}

/** A producer for eatr's queue (or, to read or tidy it, the previous release's: `name`). */
export function createQueue(
  connection: ConnectionOptions,
  settings: QueueSettings,
  name: string = QUEUE_NAME,
): Queue {
  return new Queue(name, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: defaultJobOptions(settings),
  });
}

/**
 * The newest version per resource of two job payloads (pure). The reason of the newer event wins,
 * except that bulk work never downgrades an event.
 */
export function mergeSyncData(waiting: SyncJobData, incoming: SyncJobData): SyncJobData {
  const versions = new Map<CachedResource, string>();
  for (const w of [...(waiting.waitFor ?? []), ...(incoming.waitFor ?? [])]) {
    const known = versions.get(w.resource);
    if (known === undefined || !isAtLeast(known, w.resourceVersion))
      versions.set(w.resource, w.resourceVersion);
  }
  const reason =
    isBulkReason(incoming.reason) && !isBulkReason(waiting.reason)
      ? waiting.reason
      : incoming.reason;
  const waitFor = [...versions].map(([resource, resourceVersion]) => ({
    resource,
    resourceVersion,
  }));
  const force = strongerForce(waiting.force, incoming.force);
  const requestedAt = Math.max(waiting.requestedAt ?? 0, incoming.requestedAt ?? 0);
  return {
    namespace: waiting.namespace,
    reason,
    ...(waitFor.length > 0 ? { waitFor } : {}),
    ...(force ? { force } : {}),
    ...(requestedAt > 0 ? { requestedAt } : {}),
  };
}

function strongerForce(a: SyncForce | undefined, b: SyncForce | undefined): SyncForce | undefined {
  return a === 'renew' || b === 'renew' ? 'renew' : (a ?? b);
}

function sameData(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Adds a deduplicated sync job for a namespace. Returns false when it was deduplicated: a sync for
 * that namespace was already waiting and will read current state. An event that meets a waiting job
 * makes that job urgent (no priority, no delay) and raises the versions it waits for. An event that
 * meets a running sync becomes that sync's follow-up, which BullMQ runs after it (it keeps one, the
 * last added): the follow-up it replaces is folded in, so a forced renewal or a version asked for
 * earlier is not lost, and the event counts as added.
 */
export async function enqueueSync(queue: Queue, data: SyncJobData, delayMs = 0): Promise<boolean> {
  const parsed = syncJobData.parse(data);
  const urgent = !isBulkReason(parsed.reason);
  const dedupId = syncDeduplicationId(parsed.namespace);
  const add = async (payload: SyncJobData) => {
    // Our own id tells a new job from a deduplicated add, for which BullMQ returns the existing job's id.
    const jobId = `sync-${parsed.namespace}-${randomUUID()}`;
    const job = await queue.add(SYNC_JOB, versioned(payload), {
      jobId,
      // Bulk work never queues behind a running sync (keepLastIfActive): it would replace an event's
      // follow-up, which BullMQ keeps one of, with a low-priority job.
      deduplication: { id: dedupId, ...(urgent ? { keepLastIfActive: true } : {}) },
      ...(urgent ? {} : { priority: BULK_PRIORITY }),
      ...(delayMs > 0 ? { delay: delayMs } : {}),
    });
    if (job.id === jobId) return { added: true, id: job.id };
    const followUp = urgent ? await pendingFollowUp(queue, dedupId) : undefined;
    return { added: followUp?.jobId === jobId, id: job.id };
  };
  // Fold in the follow-up this event may replace (read first: BullMQ overwrites it).
  const earlier = urgent ? await pendingFollowUp(queue, dedupId) : undefined;
  const first = await add(earlier?.data ? mergeSyncData(earlier.data, parsed) : parsed);
  if (first.added || first.id === undefined || delayMs > 0) return first.added;
  const existing = await Job.fromId<unknown>(queue, first.id);
  if (!existing) return (await add(parsed)).added; // it finished meanwhile
  let state = await existing.getState();
  if (state === 'active') {
    // Bulk work needs nothing more: the running sync reads current state. An event that found the
    // job active only after BullMQ looked asks again, and becomes its follow-up.
    return urgent ? (await add(parsed)).added : false;
  }
  // A newer release's payload is not ours to rewrite; it reads current state when it runs.
  if (jobFormatOf(existing.data) > JOB_FORMAT) return false;
  const current = readSyncJob(existing.data);
  const merged = current.kind === 'ok' ? mergeSyncData(current.data, parsed) : parsed;
  if (!sameData(versioned(merged), existing.data)) await existing.updateData(versioned(merged));
  if (urgent && existing.priority > 0) await existing.changePriority({ priority: 0 });
  if (urgent && state === 'delayed') {
    // A retry waiting out its backoff: this event is new input, so run it now.
    await existing.promote().catch(() => undefined);
    state = await existing.getState();
  }
  // Taken between the two reads: the update may have come too late, so one more sync follows it.
  if (urgent && state === 'active') return (await add(merged)).added;
  return false;
}

/**
 * The follow-up BullMQ keeps for a running sync (`dn:<deduplication id>`, written by its
 * keepLastIfActive deduplication): its job id and payload, when there is one.
 */
async function pendingFollowUp(
  queue: Queue,
  dedupId: string,
): Promise<{ jobId: string; data: SyncJobData | undefined } | undefined> {
  const client = await queue.getBackend().client;
  const [jobId, raw] = await client.hmget(queue.toKey(`dn:${dedupId}`), 'jid', 'data');
  if (!jobId) return undefined;
  let data: SyncJobData | undefined;
  try {
    const read = readSyncJob(JSON.parse(raw ?? 'null'));
    data = read.kind === 'ok' && read.format <= JOB_FORMAT ? read.data : undefined;
  } catch {
    data = undefined; // unreadable: the event's payload stands alone
  }
  return { jobId, data };
}

/**
 * Starts the probe chain of a registry AWS denied, unless one runs already (one per registry across
 * every renewer: BullMQ keeps the deduplication id while the job waits, runs or waits out a retry).
 * The probe asks AWS again after 5 s, 10 s, 20 s... and every `--job-backoff-max` after that,
 * so an access problem fixed outside the cluster (an IAM policy) is noticed within about a minute,
 * at the cost of one ECR call per registry per minute while it lasts. Returns whether it started one.
 */
export async function enqueueProbe(queue: Queue, data: ProbeJobData): Promise<boolean> {
  const parsed = probeJobData.parse(data);
  const jobId = `probe-${randomUUID()}`;
  const job = await queue.add(PROBE_JOB, versioned(parsed), {
    jobId,
    deduplication: { id: probeDeduplicationId(parsed.registry) },
    delay: PROBE_FIRST_DELAY_MS,
    attempts: PROBE_ATTEMPTS,
    backoff: { type: PROBE_BACKOFF },
  });
  return job.id === jobId;
}

export function probeDeduplicationId(registry: string): string {
  return `probe-${registry}`;
}

/** Enqueues one sweep now (deduplicated): what a watcher does when it starts leading. */
export async function enqueueSweep(queue: Queue): Promise<boolean> {
  const jobId = `sweep-${randomUUID()}`;
  const job = await queue.add(SWEEP_JOB, versioned({}), {
    jobId,
    deduplication: { id: SWEEP_DEDUPLICATION_ID },
    attempts: 3,
  });
  return job.id === jobId;
}

/**
 * Enqueues one sweep for a credential Secret change the watcher saw at `resourceVersion`: one job
 * however many namespaces use it. A waiting one is raised to the newer version; while one runs, the
 * next is kept to run after it (it may have read the older credentials).
 */
export async function enqueueCredentialSweep(
  queue: Queue,
  resourceVersion: string,
): Promise<boolean> {
  const data = sweepJobData.parse({
    reason: 'credentials',
    waitFor: [{ resource: 'credentials', resourceVersion }],
  });
  const add = async () => {
    const jobId = `sweep-credentials-${randomUUID()}`;
    const job = await queue.add(SWEEP_JOB, versioned(data), {
      jobId,
      deduplication: { id: CREDENTIALS_SWEEP_DEDUPLICATION_ID, keepLastIfActive: true },
      attempts: 3,
    });
    return { added: job.id === jobId, id: job.id };
  };
  const first = await add();
  if (first.added || first.id === undefined) return first.added;
  const existing = await Job.fromId<unknown>(queue, first.id);
  if (!existing) return (await add()).added; // it finished meanwhile
  if (jobFormatOf(existing.data) > JOB_FORMAT) return false; // a newer release's: left as it is
  const known = readSweepJob(existing.data);
  const waited = known.kind === 'ok' ? known.data.waitFor?.[0]?.resourceVersion : undefined;
  if (waited !== undefined && isAtLeast(waited, resourceVersion)) return false;
  await existing.updateData(versioned(data));
  // Taken before the update landed: keep one more to run after it.
  if ((await existing.getState()) === 'active') return (await add()).added;
  return false;
}
