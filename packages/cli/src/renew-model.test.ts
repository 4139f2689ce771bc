import { describe, expect, it } from 'vitest';
import { allRenewed, renewRows } from './renew-model.js';

const T = { namespace: 'a', registry: 'r', secret: 's' };
const snap = (resourceVersion: string, expiresAt = '2026-01-01T12:00:00Z') =>
  new Map([['a/s', { resourceVersion, expiresAt }]]);
const none = new Map<string, never>();

describe('renewRows', () => {
  it.each([
    ['a new version is a renewal', snap('1'), snap('2'), none, [], 'renewed', undefined],
    ['a Secret that was not there was created', none, snap('2'), none, [], 'created', undefined],
    [
      'no new version: the recorded reason says why',
      snap('1'),
      snap('1'),
      new Map([['a/s', { reason: 'denied' }]]),
      [],
      'unchanged',
      'denied',
    ],
    [
      'a sync still running is pending',
      snap('1'),
      snap('1'),
      none,
      ['a'],
      'pending',
      'the sync has not finished',
    ],
  ] as const)('%s', (_name, before, after, blocked, unfinished, result, reason) => {
    const rows = renewRows([T], before, after, blocked, new Set(unfinished));
    expect(rows).toMatchObject([{ result, reason }]);
    expect(allRenewed(rows)).toBe(result === 'renewed' || result === 'created');
  });
});
