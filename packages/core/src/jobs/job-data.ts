import { z } from 'zod';

/*
 * Job payloads, and how one release reads another's.
 *
 * During a rollout (and a rollback) renewers of two releases work one queue, and a watcher or CLI of
 * one release enqueues jobs that a renewer of the other runs. The policy is N-1 <-> N: every release
 * works with the previous release's watcher, renewers and CLI, in both directions. The rule that
 * keeps it, for every future change to the jobs below:
 *
 * 1. Every payload carries `v`, the job format of the release that wrote it (JOB_FORMAT). A change
 *    to any payload or job type bumps JOB_FORMAT.
 * 2. Readers keep what they understand and ignore the rest: read schemas are not strict, an unknown
 *    enum value reads as the nearest known meaning (the `.catch` beside each enum says which), and a
 *    `waitFor` entry for a resource this release does not watch is dropped.
 * 3. Add, never change: a new field is optional and safe for an older reader to ignore; a field is
 *    never renamed, removed, or given a new type or meaning (add another one instead).
 * 4. A job a worker cannot handle at all (an unknown job name, or a newer format whose fields it
 *    cannot read) is handed back for a newer worker: delayed HAND_BACK_DELAY_MS at a time, for up
 *    to HAND_BACK_WINDOW_MS after it was written, then dropped with an error log line (the next
 *    sweep covers its namespace). It is never failed.
 *
 * Format 1 (eatr 0.1.x) had no `v`, strict readers, and failed any unknown field, enum value or job
 * name for good. So that a 0.1.x renewer never meets a payload it would fail, format 2 lives in a
 * queue of its own (QUEUE_NAME); renewers also drain the format-1 queue (LEGACY_QUEUE_NAME), which
 * watchers, renewers and CLIs of 0.1.x still write to during a rollout, by moving each job into
 * QUEUE_NAME; watchers keep a format-1 sweep scheduler there for 0.1.x renewers. The release after
 * next may stop both: its N-1 writes format 2 only.
 */

/** The job format this release writes (see the rule above). */
export const JOB_FORMAT = 2;

/** The queue of versioned jobs (format 2 and later); its keys live under the configured prefix. */
export const QUEUE_NAME = 'eatr-v2';
/**
 * The queue of eatr 0.1.x (job format 1, no `v`): renewers drain it so that the jobs of a previous
 * release's watcher, renewers and CLI still run during a rollout. Nothing of this release writes it.
 */
export const LEGACY_QUEUE_NAME = 'eatr';

/** How long a job no worker here can handle waits before a worker (perhaps a newer one) takes it again. */
export const HAND_BACK_DELAY_MS = 15_000;
/**
 * How long after it was written such a job is handed back before it is dropped: a slow rollout's
 * overlap. Bounded by time, not by count: a job is also taken again after a stall or a step-aside.
 */
export const HAND_BACK_WINDOW_MS = 10 * 60_000;

export const SYNC_JOB = 'sync-namespace';
export const SWEEP_JOB = 'sweep';
/** Asks AWS again, with a growing delay, for a registry it denied: one chain per registry (see enqueueProbe). */
export const PROBE_JOB = 'probe-registry';
/** Id of the job scheduler that produces sweep jobs (upserted by the watcher leader only). */
export const SWEEP_SCHEDULER_ID = 'eatr-sweep';

/** Why a sync was asked for; for logs and the `eatr_jobs_enqueued_total` metric. */
export const SYNC_REASONS = [
  'namespace',
  'credentials',
  'serviceaccount',
  'follow-up',
  'sweep',
  'startup',
  /** A registry AWS had denied works again: its other namespaces are served at once. */
  'recovered',
  /** An operator asked for it (`eatr renew`). */
  'manual',
] as const;
export type SyncReason = (typeof SYNC_REASONS)[number];

/**
 * Bulk work (sweeps, start-up) waits behind event-driven syncs. BullMQ runs jobs without a priority
 * before any prioritized job, so events get none and bulk work gets this one.
 */
export const BULK_PRIORITY = 100;

export function isBulkReason(reason: SyncReason): boolean {
  return reason === 'sweep' || reason === 'startup';
}

/** The watches whose caches a renewer reads; a job may ask it to have seen a version of one. */
export const CACHED_RESOURCES = ['namespaces', 'credentials', 'serviceaccounts'] as const;
export type CachedResource = (typeof CACHED_RESOURCES)[number];

/**
 * "Read state at least as new as this": the resourceVersion of the change that caused the job, as
 * the watcher saw it. The renewer's own watch cache may lag the watcher's by a moment.
 */
export const waitForVersion = z
  .object({ resource: z.enum(CACHED_RESOURCES), resourceVersion: z.string().min(1).max(32) })
  .strict();
export type WaitForVersion = z.infer<typeof waitForVersion>;

/**
 * How hard a sync tries: `retry` ignores remembered failures (a token call AWS refused a moment ago,
 * a Secret recorded as blocked) and asks AWS again; `renew` also renews Secrets that are not due.
 */
export const SYNC_FORCE = ['retry', 'renew'] as const;
export type SyncForce = (typeof SYNC_FORCE)[number];

/**
 * What this release writes (strict: a payload it builds wrongly is a bug, caught before it is
 * queued). A sync job names a namespace (and versions to wait for) and nothing else: the renewer
 * reads the current state from its caches when it runs.
 */
export const syncJobData = z
  .object({
    namespace: z.string().min(1).max(63),
    reason: z.enum(SYNC_REASONS),
    waitFor: z.array(waitForVersion).max(CACHED_RESOURCES.length).optional(),
    force: z.enum(SYNC_FORCE).optional(),
    /**
     * When a forced renewal was asked for (ms since the epoch; default: when the job was added).
     * Tokens fetched since are reused, so one request's wave shares one new token per renewer.
     */
    requestedAt: z.number().int().nonnegative().optional(),
  })
  .strict();
export type SyncJobData = z.infer<typeof syncJobData>;

/**
 * A sweep names nothing; one the watcher enqueues because a credential Secret changed carries the
 * version it saw, so the renewer sweeps credentials at least that new (the watcher sees only their
 * metadata: which namespaces need a new token is for the renewer, which holds the keys, to decide).
 */
export const sweepJobData = z
  .object({
    reason: z.literal('credentials').optional(),
    waitFor: z.array(waitForVersion).max(CACHED_RESOURCES.length).optional(),
  })
  .strict();
export type SweepJobData = z.infer<typeof sweepJobData>;

/** A probe names the registry whose credentials it tries (never the credentials themselves). */
export const probeJobData = z.object({ registry: z.string().min(1).max(253) }).strict();
export type ProbeJobData = z.infer<typeof probeJobData>;

/** A payload as this release queues it: the data and the format it is written in. */
export function versioned<T extends object>(data: T): T & { v: number } {
  return { v: JOB_FORMAT, ...data };
}

// Reading: tolerant of every older and newer format (rule 2).

/** `waitFor` entries this release can wait for; others (a resource it does not watch) are dropped. */
const readWaitFor = z
  .array(z.unknown())
  .optional()
  .catch(undefined)
  .transform((entries) => {
    const known = (entries ?? []).flatMap((entry) => {
      const read = waitForVersion.safeParse(entry);
      return read.success ? [read.data] : [];
    });
    return known.length > 0 ? known.slice(0, CACHED_RESOURCES.length) : undefined;
  });

const readSyncData = z.object({
  namespace: z.string().min(1).max(63),
  // An unknown reason is some event: urgent, like a namespace change.
  reason: z.enum(SYNC_REASONS).catch('namespace'),
  waitFor: readWaitFor,
  // An unknown force asks for more than a plain sync; `retry` is the most that costs nothing extra.
  force: z.enum(SYNC_FORCE).optional().catch('retry'),
  requestedAt: z.number().int().nonnegative().optional().catch(undefined),
});

const readSweepData = z.object({
  // Any other reason reads as a plain sweep.
  reason: z.literal('credentials').optional().catch(undefined),
  waitFor: readWaitFor,
});

const readProbeData = z.object({ registry: z.string().min(1).max(253) });

/** What a worker makes of a job's payload. */
export type JobRead<T> =
  | { readonly kind: 'ok'; readonly data: T; readonly format: number }
  /** A newer format this release cannot read: hand it back for a newer worker (rule 4). */
  | { readonly kind: 'newer'; readonly format: number; readonly problem: string }
  /** A payload of this release's format or older that does not parse: a bug, failed for good. */
  | { readonly kind: 'malformed'; readonly format: number; readonly problem: string };

/** The format a payload says it is in: 1 when it has no `v` (eatr 0.1.x). */
export function jobFormatOf(data: unknown): number {
  const v = (data as { v?: unknown } | null | undefined)?.v;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 1;
}

function reader<T>(schema: z.ZodType<T>) {
  return (data: unknown): JobRead<T> => {
    const format = jobFormatOf(data);
    const read = schema.safeParse(data);
    if (read.success) return { kind: 'ok', data: withoutUndefined(read.data), format };
    const issue = read.error.issues[0];
    const problem = issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid';
    return { kind: format > JOB_FORMAT ? 'newer' : 'malformed', format, problem };
  };
}

/** Drops keys whose value is undefined, so a read payload equals the one that was written. */
function withoutUndefined<T>(data: T): T {
  if (typeof data !== 'object' || data === null) return data;
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)) as T;
}

/** Reads a sync job's payload of any format. */
export const readSyncJob: (data: unknown) => JobRead<SyncJobData> = reader(readSyncData);
/** Reads a sweep job's payload of any format. */
export const readSweepJob: (data: unknown) => JobRead<SweepJobData> = reader(readSweepData);
/** Reads a probe job's payload of any format. */
export const readProbeJob: (data: unknown) => JobRead<ProbeJobData> = reader(readProbeData);
