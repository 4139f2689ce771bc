import { describe, expect, it } from 'vitest';
import {
  JOB_FORMAT,
  jobFormatOf,
  readProbeJob,
  readSweepJob,
  readSyncJob,
  syncJobData,
  versioned,
  type JobRead,
  type SyncJobData,
  type WaitForVersion,
} from './job-data.js';

/** A waitFor entry; `resource` may be one this release does not know (as a newer one writes it). */
const rv = (resourceVersion: string, resource = 'namespaces') =>
  ({ resource, resourceVersion }) as WaitForVersion;

describe('readSyncJob: every format, older and newer', () => {
  it.each<[string, unknown, JobRead<SyncJobData>]>([
    [
      'a format-1 payload (eatr 0.1.x, no v)',
      { namespace: 'a', reason: 'manual', force: 'renew', requestedAt: 5 },
      {
        kind: 'ok',
        format: 1,
        data: { namespace: 'a', reason: 'manual', force: 'renew', requestedAt: 5 },
      },
    ],
    [
      'a payload of this release',
      versioned({ namespace: 'a', reason: 'namespace', waitFor: [rv('7')] }),
      {
        kind: 'ok',
        format: JOB_FORMAT,
        data: { namespace: 'a', reason: 'namespace', waitFor: [rv('7')] },
      },
    ],
    [
      'a newer payload: unknown fields are ignored',
      { v: JOB_FORMAT + 1, namespace: 'a', reason: 'sweep', tenantRole: 'x', priorityHint: 3 },
      { kind: 'ok', format: JOB_FORMAT + 1, data: { namespace: 'a', reason: 'sweep' } },
    ],
    [
      'an unknown reason reads as an event (namespace)',
      { v: JOB_FORMAT + 1, namespace: 'a', reason: 'argo-cd' },
      { kind: 'ok', format: JOB_FORMAT + 1, data: { namespace: 'a', reason: 'namespace' } },
    ],
    [
      'an unknown force reads as retry',
      { v: JOB_FORMAT + 1, namespace: 'a', reason: 'manual', force: 'rotate-keys' },
      {
        kind: 'ok',
        format: JOB_FORMAT + 1,
        data: { namespace: 'a', reason: 'manual', force: 'retry' },
      },
    ],
    [
      'a waitFor entry for a resource this release does not watch is dropped',
      {
        v: JOB_FORMAT + 1,
        namespace: 'a',
        reason: 'namespace',
        waitFor: [rv('3', 'applications'), rv('4')],
      },
      {
        kind: 'ok',
        format: JOB_FORMAT + 1,
        data: { namespace: 'a', reason: 'namespace', waitFor: [rv('4')] },
      },
    ],
    [
      'a newer payload without the namespace is handed back',
      { v: JOB_FORMAT + 1, namespaces: ['a', 'b'], reason: 'manual' },
      {
        kind: 'newer',
        format: JOB_FORMAT + 1,
        problem: 'namespace: Invalid input: expected string, received undefined',
      },
    ],
    [
      'a payload of this format without the namespace is malformed',
      versioned({ reason: 'manual' }),
      {
        kind: 'malformed',
        format: JOB_FORMAT,
        problem: 'namespace: Invalid input: expected string, received undefined',
      },
    ],
    [
      'a format-1 payload without the namespace is malformed',
      { reason: 'manual' },
      {
        kind: 'malformed',
        format: 1,
        problem: 'namespace: Invalid input: expected string, received undefined',
      },
    ],
  ])('%s', (_name, payload, expected) => {
    expect(readSyncJob(payload)).toEqual(expected);
  });

  it('reads back exactly what this release writes', () => {
    const data: SyncJobData = {
      namespace: 'team-a',
      reason: 'manual',
      waitFor: [{ resource: 'credentials', resourceVersion: '12' }],
      force: 'renew',
      requestedAt: 1_700_000_000_000,
    };
    const written = versioned(syncJobData.parse(data));
    expect(written.v).toBe(JOB_FORMAT);
    expect(readSyncJob(JSON.parse(JSON.stringify(written)))).toEqual({
      kind: 'ok',
      format: JOB_FORMAT,
      data,
    });
  });
});

describe('readSweepJob and readProbeJob', () => {
  it.each<[string, JobRead<unknown>, JobRead<unknown>]>([
    ['a format-1 sweep', readSweepJob({}), { kind: 'ok', format: 1, data: {} }],
    [
      'a newer sweep with an unknown reason reads as a plain sweep',
      readSweepJob({ v: 9, reason: 'tenant-policy' }),
      { kind: 'ok', format: 9, data: {} },
    ],
    [
      'a credential sweep keeps its version',
      readSweepJob(versioned({ reason: 'credentials', waitFor: [rv('8', 'credentials')] })),
      {
        kind: 'ok',
        format: JOB_FORMAT,
        data: { reason: 'credentials', waitFor: [rv('8', 'credentials')] },
      },
    ],
    [
      'a format-1 probe',
      readProbeJob({ registry: '1.dkr.ecr.eu-west-1.amazonaws.com' }),
      { kind: 'ok', format: 1, data: { registry: '1.dkr.ecr.eu-west-1.amazonaws.com' } },
    ],
    [
      'a newer probe naming something else is handed back',
      readProbeJob({ v: 9, publicRegistry: 'public.ecr.aws' }),
      {
        kind: 'newer',
        format: 9,
        problem: 'registry: Invalid input: expected string, received undefined',
      },
    ],
  ])('%s', (_name, read, expected) => {
    expect(read).toEqual(expected);
  });
});

describe('jobFormatOf', () => {
  it.each<[unknown, number]>([
    [{}, 1],
    [{ v: 2 }, 2],
    [{ v: 7 }, 7],
    [{ v: '3' }, 1],
    [{ v: 0 }, 1],
    [null, 1],
  ])('%j is format %i', (payload, format) => {
    expect(jobFormatOf(payload)).toBe(format);
  });
});
