/**
 * Sync runs read from renewers' debug log lines ('sync started' / 'sync ended', by job id), and the
 * check the concurrency tests rely on: no two runs of one namespace at the same time.
 */

import { LogMessage } from '@eatr/core';

/** What the check reads from a renewer process (an EatrProcess, or a fake in the self-test). */
export interface LogSource {
  readonly component: string;
  readonly logs: readonly Record<string, unknown>[];
  /** When the process exited (ms), if it did: a run it left open ended then. */
  readonly exitedAt?: number | undefined;
}

/** One sync run of one namespace. */
export interface SyncRun {
  /** The process that ran it, e.g. `renewer#1`. */
  readonly who: string;
  readonly jobId: string;
  readonly start: number;
  /** Undefined while it still runs. */
  readonly end: number | undefined;
  /** Redis no longer held its job when it ended: a failover lost it (see `overlappingRuns`). */
  readonly lost: boolean;
}

/** The renewer's line for a job Redis no longer holds (packages/renewer/src/jobs/worker.ts). */
const LOST_JOB_LINE = /^Redis no longer holds this job/;

/** A log line's time in ms (eatr logs ISO times with milliseconds). */
export function logLineTime(line: Record<string, unknown>): number | undefined {
  const ms = typeof line.time === 'string' ? Date.parse(line.time) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/** Every sync run of `processes`, by namespace. */
export function syncRuns(processes: readonly LogSource[]): Map<string, SyncRun[]> {
  const byNamespace = new Map<string, SyncRun[]>();
  processes.forEach((p, index) => {
    const lost = new Set(
      p.logs
        .filter((l) => typeof l.msg === 'string' && LOST_JOB_LINE.test(l.msg))
        .map((l) => String(l.jobId)),
    );
    const open = new Map<string, { namespace: string; start: number }>();
    const add = (namespace: string, run: SyncRun) =>
      byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), run]);
    for (const line of p.logs) {
      const { namespace, jobId } = line;
      const time = logLineTime(line);
      if (typeof namespace !== 'string' || typeof jobId !== 'string' || time === undefined)
        continue;
      if (line.msg === LogMessage.syncStarted) open.set(jobId, { namespace, start: time });
      if (line.msg !== LogMessage.syncEnded) continue;
      const run = open.get(jobId);
      if (!run) continue;
      open.delete(jobId);
      add(namespace, {
        who: `${p.component}#${index}`,
        jobId,
        start: run.start,
        end: time,
        lost: lost.has(jobId),
      });
    }
    for (const [jobId, run] of open)
      add(run.namespace, {
        who: `${p.component}#${index}`,
        jobId,
        start: run.start,
        end: p.exitedAt,
        lost: lost.has(jobId),
      });
  });
  return byNamespace;
}

/** When a failover could drop Redis's latest writes (ms since the epoch, both ends included). */
export interface FailoverWindow {
  readonly from: number;
  readonly to: number;
}

/**
 * Pairs of runs of one namespace that ran at the same time. With `failover`, a pair is left out
 * when Redis may have dropped the writes that said its job was taken: Redis replicates
 * asynchronously, so a job taken just before or during a failover can vanish, or be handed out
 * again, while the first run finishes (harmless: every Kubernetes write is conditional). That is a
 * pair with a run of a job Redis said it lost, or whose earlier run started inside the window. Tests
 * that fail Redis over pass the window; all others expect no overlap at all.
 */
export function overlappingRuns(
  runs: ReadonlyMap<string, readonly SyncRun[]>,
  options: { failover?: FailoverWindow } = {},
): string[] {
  const found: string[] = [];
  const show = (r: SyncRun) =>
    `${r.who} ${r.jobId} [${r.start}, ${r.end ?? 'running'}]${r.lost ? ' (lost by Redis)' : ''}`;
  const { failover } = options;
  const mayBeDropped = (earlier: SyncRun, later: SyncRun) =>
    failover !== undefined &&
    (earlier.lost ||
      later.lost ||
      (earlier.start >= failover.from && earlier.start <= failover.to));
  for (const [namespace, list] of runs) {
    const sorted = [...list].sort((a, b) => a.start - b.start);
    for (const [i, earlier] of sorted.entries())
      for (const later of sorted.slice(i + 1)) {
        // Times are whole milliseconds: a run may start in the millisecond the previous one ended.
        if (earlier.end !== undefined && later.start >= earlier.end) continue;
        if (mayBeDropped(earlier, later)) continue;
        found.push(`${namespace}: ${show(earlier)} and ${show(later)}`);
      }
  }
  return found;
}

/** How many runs there are in all. */
export const runCount = (runs: ReadonlyMap<string, readonly SyncRun[]>) =>
  [...runs.values()].reduce((n, list) => n + list.length, 0);
