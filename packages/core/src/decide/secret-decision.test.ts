import { describe, expect, it } from 'vitest';
import {
  decideSecrets,
  forceRenewal,
  needsSync,
  renewAfter,
  renewalSpread,
  spreadRenewAfter,
  type DesiredSecret,
  type ObservedSecret,
} from './secret-decision.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const H = 3_600_000;
const REG = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const INSTANCE = 'eatr-a';
const want: DesiredSecret = { registry: REG, secretName: REG, credentialsVersion: 'uid-1/10' };

function managed(
  overrides: Partial<ObservedSecret> & { annotations?: Record<string, string> } = {},
): ObservedSecret {
  return {
    name: REG,
    type: 'kubernetes.io/dockerconfigjson',
    labels: { 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': INSTANCE },
    ...overrides,
    annotations: {
      'eatr.io/registry': REG,
      'eatr.io/expires-at': new Date(NOW + 10 * H).toISOString(),
      'eatr.io/renew-after': new Date(NOW + 4 * H).toISOString(),
      'eatr.io/credentials-version': 'uid-1/10',
      ...overrides.annotations,
    },
  };
}

describe('decideSecrets', () => {
  it.each<[string, ObservedSecret[], string, string?]>([
    ['missing -> create', [], 'create'],
    ['fresh -> leave', [managed()], 'leave'],
    [
      'renew-after passed -> renew',
      [managed({ annotations: { 'eatr.io/renew-after': new Date(NOW - 1).toISOString() } })],
      'renew',
      'due',
    ],
    [
      'expired -> renew',
      [managed({ annotations: { 'eatr.io/expires-at': new Date(NOW - H).toISOString() } })],
      'renew',
      'expired',
    ],
    [
      'no annotations -> renew',
      [managed({ annotations: { 'eatr.io/expires-at': 'garbage' } })],
      'renew',
      'no-expiry',
    ],
    [
      'credentials rotated -> renew',
      [managed({ annotations: { 'eatr.io/credentials-version': 'uid-1/11' } })],
      'renew',
      'credentials-changed',
    ],
    ['unmanaged same name -> conflict', [managed({ labels: {} })], 'conflict'],
    [
      'unmanaged Opaque same name -> conflict',
      [managed({ labels: {}, type: 'Opaque' })],
      'conflict',
    ],
    [
      'unmanaged but marked for adoption -> renew',
      [managed({ labels: {}, annotations: { 'eatr.io/adopt': 'true' } })],
      'renew',
      'adopted',
    ],
    [
      'adoptable Opaque -> replace',
      [managed({ labels: {}, type: 'Opaque', annotations: { 'eatr.io/adopt': 'true' } })],
      'replace',
    ],
    [
      'fresh but written by 0.1.x (no instance) -> renew to stamp it',
      [managed({ labels: { 'app.kubernetes.io/managed-by': 'eatr' } })],
      'renew',
      'unstamped',
    ],
    [
      'due and unstamped -> renew, due first',
      [
        managed({
          labels: { 'app.kubernetes.io/managed-by': 'eatr' },
          annotations: { 'eatr.io/renew-after': new Date(NOW - 1).toISOString() },
        }),
      ],
      'renew',
      'due',
    ],
    [
      "another eatr instance's Secret -> conflict",
      [
        managed({
          labels: { 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': 'eatr-b' },
        }),
      ],
      'conflict',
      'a Secret with this name is managed by eatr instance "eatr-b"',
    ],
    [
      "another instance's Secret marked for adoption -> still conflict (never taken back and forth)",
      [
        managed({
          labels: { 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': 'eatr-b' },
          annotations: { 'eatr.io/adopt': 'true' },
        }),
      ],
      'conflict',
    ],
    [
      "another instance's expired Secret -> conflict, not renewed",
      [
        managed({
          labels: { 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': 'eatr-b' },
          annotations: { 'eatr.io/expires-at': new Date(NOW - H).toISOString() },
        }),
      ],
      'conflict',
    ],
  ])('%s', (_name, observed, kind, reason) => {
    const [action] = decideSecrets(observed, [want], NOW, INSTANCE);
    expect(action?.kind).toBe(kind);
    if (reason) expect(action).toMatchObject({ reason });
  });

  it('deletes eatr Secrets the namespace no longer asks for, and only those', () => {
    const old = managed({ name: 'old-registry' });
    const foreign: ObservedSecret = { name: 'other', type: 'Opaque', labels: {}, annotations: {} };
    const actions = decideSecrets([old, foreign], [], NOW, INSTANCE);
    expect(actions).toEqual([{ kind: 'delete', secretName: 'old-registry', registry: REG }]);
  });

  it("deletes an unstamped eatr Secret no longer asked for, never another instance's", () => {
    const unstamped = managed({
      name: 'from-0.1',
      labels: { 'app.kubernetes.io/managed-by': 'eatr' },
    });
    const theirs = managed({
      name: 'theirs',
      labels: { 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': 'eatr-b' },
    });
    expect(decideSecrets([unstamped, theirs], [], NOW, INSTANCE)).toEqual([
      { kind: 'delete', secretName: 'from-0.1', registry: REG },
    ]);
  });

  it('is stable: deciding twice over a fresh Secret never asks for a write', () => {
    expect(needsSync([managed()], [want], NOW, INSTANCE)).toBe(false);
    expect(needsSync([managed()], [want], NOW + 3 * H, INSTANCE)).toBe(false);
    expect(needsSync([managed()], [want], NOW + 4 * H, INSTANCE)).toBe(true);
  });

  it('accepts a recorded version that means the same credentials (older eatr wrote uid/resourceVersion)', () => {
    const legacy = managed({
      annotations: { ...managed().annotations, 'eatr.io/credentials-version': 'uid/7' },
    });
    expect(needsSync([legacy], [{ ...want, acceptedVersions: ['uid/7'] }], NOW, INSTANCE)).toBe(
      false,
    );
    expect(needsSync([legacy], [want], NOW, INSTANCE)).toBe(true);
  });

  it('does not count a conflict as work for the sweep', () => {
    expect(needsSync([managed({ labels: {} })], [want], NOW, INSTANCE)).toBe(false);
  });
});

describe('forceRenewal', () => {
  it('renews fresh Secrets and leaves every other decision as it was', () => {
    const foreign = { name: 'other', type: 'Opaque', labels: {}, annotations: {} };
    const decided = decideSecrets(
      [managed(), managed({ name: 'gone' }), { ...foreign, name: 'taken' }],
      [want, { ...want, secretName: 'taken' }, { ...want, secretName: 'new' }],
      NOW,
      INSTANCE,
    );
    expect(forceRenewal(decided).map((a) => [a.kind, a.secretName])).toEqual([
      ['renew', REG],
      ['conflict', 'taken'],
      ['create', 'new'],
      ['delete', 'gone'],
    ]);
    expect(forceRenewal(decided)[0]).toMatchObject({ reason: 'forced' });
  });
});

describe('renewAfter', () => {
  it.each([
    ['12h token, 6h interval', 12 * H, 6 * H, 6 * H],
    ['12h token, 1h interval', 12 * H, 1 * H, 1 * H],
    ['2h token, 6h interval: half its life', 2 * H, 6 * H, 1 * H],
    ['already expired', -H, 6 * H, 0],
  ])('%s', (_name, lifetime, interval, expected) => {
    expect(renewAfter(NOW, NOW + lifetime, interval) - NOW).toBe(expected);
  });
});

describe('spreadRenewAfter', () => {
  it.each([
    ['first in the window', 12 * H, 6 * H, 0, 6 * H],
    ['last in the window: 10 % of the interval later', 12 * H, 6 * H, 0.999999, 6.6 * H],
    ['half way', 12 * H, 6 * H, 0.5, 6.3 * H],
    ['1h interval spreads over 6 minutes', 12 * H, 1 * H, 0.5, 1.05 * H],
    ['never beyond 55 % of a short token', 2 * H, 6 * H, 0.999999, 1.1 * H],
  ])('%s', (_name, lifetime, interval, spread, expected) => {
    expect(spreadRenewAfter(NOW, NOW + lifetime, interval, spread) - NOW).toBeCloseTo(expected, -3);
  });
});

describe('renewalSpread', () => {
  it('is stable per Secret and spreads many Secrets over the whole window', () => {
    expect(renewalSpread('team-a', REG)).toBe(renewalSpread('team-a', REG));
    const values = Array.from({ length: 2000 }, (_, i) => renewalSpread(`ns-${i}`, REG));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    // Ten equal buckets each get between 5 % and 15 % of the Secrets.
    const buckets = Array.from({ length: 10 }, () => 0);
    for (const v of values) buckets[Math.floor(v * 10)] = (buckets[Math.floor(v * 10)] ?? 0) + 1;
    for (const count of buckets) expect(count).toBeGreaterThan(100);
    for (const count of buckets) expect(count).toBeLessThan(300);
  });
});
