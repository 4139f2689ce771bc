import { describe, expect, it } from 'vitest';
import {
  CAPPED_BACKOFF,
  PROBE_BACKOFF,
  backoffStrategy,
  isBulkReason,
  mergeSyncData,
  retryDelayMs,
  sweepJobData,
  type SyncJobData,
} from './jobs.js';

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

describe('forced syncs', () => {
  it.each<[SyncJobData['force'], SyncJobData['force'], SyncJobData['force']]>([
    [undefined, 'retry', 'retry'],
    ['retry', undefined, 'retry'],
    ['retry', 'renew', 'renew'],
    ['renew', 'retry', 'renew'],
    [undefined, undefined, undefined],
  ])('waiting %s + incoming %s -> %s: the stronger force is kept', (a, b, expected) => {
    const merged = mergeSyncData(
      { namespace: 'a', reason: 'manual', ...(a ? { force: a } : {}) },
      { namespace: 'a', reason: 'sweep', ...(b ? { force: b } : {}) },
    );
    expect(merged.force).toBe(expected);
  });
});

describe('retryDelayMs', () => {
  it.each([
    [1, 2000, 2000],
    [2, 2000, 4000],
    [5, 2000, 32_000],
    [6, 2000, 60_000],
    [10, 2000, 60_000],
    [1000, 2000, 60_000],
  ])(
    'retry %i from %i ms waits at most %i ms (cap 1 minute), at least half of it',
    (n, first, full) => {
      expect(retryDelayMs(n, first, 60_000, () => 0)).toBe(full);
      expect(retryDelayMs(n, first, 60_000, () => 0.999_999)).toBe(Math.round(full * 0.5));
    },
  );
});

describe('backoffStrategy', () => {
  const strategy = backoffStrategy(60_000);
  it('probes after 5 s, 10 s, 20 s, 40 s, then every minute', () => {
    const delays = [1, 2, 3, 4, 5, 6, 100].map((n) => strategy(n, PROBE_BACKOFF));
    expect(delays).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  });
  it("retries a sync from the job's own first delay, capped", () => {
    const job = { opts: { backoff: { type: CAPPED_BACKOFF, delay: 30_000 } } };
    const delay = strategy(3, CAPPED_BACKOFF, undefined, job);
    expect(delay).toBeGreaterThanOrEqual(30_000);
    expect(delay).toBeLessThanOrEqual(60_000);
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
