import { describe, expect, it } from 'vitest';
import { isBulkReason, mergeSyncData, sweepJobData, type SyncJobData } from './jobs.js';

const ns = (rv: string, resource: 'namespaces' | 'credentials' = 'namespaces') => ({
  resource,
  resourceVersion: rv,
});

describe('mergeSyncData', () => {
  it.each<[string, SyncJobData, SyncJobData, SyncJobData]>([
    [
      'the newer version of one resource wins (numerically)',
      { namespace: 'a', reason: 'namespace', waitFor: [ns('99')] },
      { namespace: 'a', reason: 'namespace', waitFor: [ns('100')] },
      { namespace: 'a', reason: 'namespace', waitFor: [ns('100')] },
    ],
    [
      'an older version does not roll back',
      { namespace: 'a', reason: 'namespace', waitFor: [ns('100')] },
      { namespace: 'a', reason: 'credentials', waitFor: [ns('90')] },
      { namespace: 'a', reason: 'credentials', waitFor: [ns('100')] },
    ],
    [
      'versions of different resources are all kept',
      { namespace: 'a', reason: 'namespace', waitFor: [ns('5')] },
      { namespace: 'a', reason: 'credentials', waitFor: [ns('7', 'credentials')] },
      {
        namespace: 'a',
        reason: 'credentials',
        waitFor: [ns('5'), ns('7', 'credentials')],
      },
    ],
    [
      'bulk work never downgrades an event',
      { namespace: 'a', reason: 'namespace', waitFor: [ns('5')] },
      { namespace: 'a', reason: 'sweep' },
      { namespace: 'a', reason: 'namespace', waitFor: [ns('5')] },
    ],
    [
      'an event upgrades bulk work',
      { namespace: 'a', reason: 'sweep' },
      { namespace: 'a', reason: 'serviceaccount', waitFor: [ns('8')] },
      { namespace: 'a', reason: 'serviceaccount', waitFor: [ns('8')] },
    ],
    [
      'nothing to wait for stays without waitFor',
      { namespace: 'a', reason: 'sweep' },
      { namespace: 'a', reason: 'startup' },
      { namespace: 'a', reason: 'startup' },
    ],
  ])('%s', (_name, waiting, incoming, expected) => {
    expect(mergeSyncData(waiting, incoming)).toEqual(expected);
  });
});

describe('isBulkReason', () => {
  it.each([
    ['sweep', true],
    ['startup', true],
    ['namespace', false],
    ['credentials', false],
    ['serviceaccount', false],
    ['follow-up', false],
  ] as const)('%s -> %s', (reason, bulk) => {
    expect(isBulkReason(reason)).toBe(bulk);
  });
});

describe('sweepJobData', () => {
  it.each<[string, unknown, boolean]>([
    ['a scheduled sweep', {}, true],
    [
      'a credential sweep with the version the watcher saw',
      { reason: 'credentials', waitFor: [{ resource: 'credentials', resourceVersion: '42' }] },
      true,
    ],
    ['another reason', { reason: 'namespace' }, false],
    ['a namespace (sweeps name none)', { namespace: 'a' }, false],
    ['Secret data', { data: { aws_secret_access_key: 'x' } }, false],
  ])('%s', (_, data, valid) => {
    expect(sweepJobData.safeParse(data).success).toBe(valid);
  });
});
