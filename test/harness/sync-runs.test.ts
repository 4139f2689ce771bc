import { LogMessage } from '@eatr/core';
import { describe, expect, it } from 'vitest';
import { overlappingRuns, runCount, syncRuns, type LogSource } from './sync-runs.js';

const line = (msg: string, namespace: string, jobId: string, ms: number) => ({
  msg,
  namespace,
  jobId,
  time: new Date(ms).toISOString(),
});
const renewer = (logs: Record<string, unknown>[], exitedAt?: number): LogSource => ({
  component: 'renewer',
  logs,
  exitedAt,
});
const namespacesOf = (found: string[]) => found.map((f) => f.split(':')[0]);

describe('the overlap check the concurrency tests rely on', () => {
  it('finds two runs of one namespace at once, also across renewers, and a run that never ended', () => {
    const a = renewer([
      line(LogMessage.syncStarted, 'ns-1', 'j1', 1000),
      line(LogMessage.syncEnded, 'ns-1', 'j1', 1100),
      line(LogMessage.syncStarted, 'ns-2', 'j3', 1000),
      line(LogMessage.syncStarted, 'ns-3', 'j5', 1000),
      line(LogMessage.syncEnded, 'ns-3', 'j5', 1010),
    ]);
    const b = renewer([
      line(LogMessage.syncStarted, 'ns-1', 'j2', 1050),
      line(LogMessage.syncEnded, 'ns-1', 'j2', 1200),
      line(LogMessage.syncStarted, 'ns-2', 'j4', 2000),
      line(LogMessage.syncEnded, 'ns-2', 'j4', 2100),
      line(LogMessage.syncStarted, 'ns-3', 'j6', 1010), // in the millisecond j5 ended: not at once
      line(LogMessage.syncEnded, 'ns-3', 'j6', 1020),
    ]);
    const runs = syncRuns([a, b]);
    expect(runCount(runs)).toBe(6);
    expect(namespacesOf(overlappingRuns(runs))).toEqual(['ns-1', 'ns-2']);
  });

  it("ends a killed renewer's open run when it exited, so a later run elsewhere is not an overlap", () => {
    const killed = renewer([line(LogMessage.syncStarted, 'ns-1', 'j1', 1000)], 1500);
    const other = renewer([
      line(LogMessage.syncStarted, 'ns-1', 'j1', 9000), // the same job, taken after its lock expired
      line(LogMessage.syncEnded, 'ns-1', 'j1', 9100),
    ]);
    expect(overlappingRuns(syncRuns([killed, other]))).toEqual([]);
    const early = renewer([line(LogMessage.syncStarted, 'ns-1', 'j2', 1200)]);
    expect(namespacesOf(overlappingRuns(syncRuns([killed, early])))).toEqual(['ns-1']);
  });

  it('leaves out, only for a failover, pairs whose job Redis may have dropped', () => {
    const a = renewer([
      line(LogMessage.syncStarted, 'ns-1', 'lost', 1000),
      line(LogMessage.syncEnded, 'ns-1', 'lost', 1070),
      {
        msg: 'Redis no longer holds this job or its lock (lost in a failover, or the lock expired); its outcome was not recorded',
        jobId: 'lost',
        time: new Date(1071).toISOString(),
      },
      line(LogMessage.syncStarted, 'ns-2', 'taken-in-window', 5000),
      line(LogMessage.syncEnded, 'ns-2', 'taken-in-window', 5100),
      line(LogMessage.syncStarted, 'ns-3', 'taken-after', 9000),
      line(LogMessage.syncEnded, 'ns-3', 'taken-after', 9100),
    ]);
    const b = renewer([
      line(LogMessage.syncStarted, 'ns-1', 'new', 1066),
      line(LogMessage.syncEnded, 'ns-1', 'new', 1078),
      line(LogMessage.syncStarted, 'ns-2', 'again', 5050),
      line(LogMessage.syncEnded, 'ns-2', 'again', 5060),
      line(LogMessage.syncStarted, 'ns-3', 'again-2', 9050),
      line(LogMessage.syncEnded, 'ns-3', 'again-2', 9060),
    ]);
    const runs = syncRuns([a, b]);
    expect(overlappingRuns(runs)).toEqual([
      expect.stringContaining('renewer#0 lost [1000, 1070] (lost by Redis) and renewer#1 new'),
      expect.stringContaining('ns-2: renewer#0 taken-in-window'),
      expect.stringContaining('ns-3: renewer#0 taken-after'),
    ]);
    // Writes could be lost from 4000 to 6000: the ns-2 pair is forgiven, the ns-3 one is not.
    expect(namespacesOf(overlappingRuns(runs, { failover: { from: 4000, to: 6000 } }))).toEqual([
      'ns-3',
    ]);
  });
});
