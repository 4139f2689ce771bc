import { describe, expect, it } from 'vitest';
import {
  ALLOWED_NAMESPACES_ANNOTATION,
  EXPIRES_AT_ANNOTATION,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REGISTRY_ANNOTATION,
  RENEW_AFTER_ANNOTATION,
  accessRuleOf,
  parseDefaultAccess,
} from '@eatr/core';
import { statusRows, summarize, type StatusInput } from './status-model.js';

const EU = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const US = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const NOW = Date.parse('2026-01-01T12:00:00Z');
const H = 3_600_000;

const managed = (namespace: string, expiresIn: number, renewIn: number) => ({
  namespace,
  name: EU,
  type: 'kubernetes.io/dockerconfigjson',
  labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: 'eatr' },
  annotations: {
    [REGISTRY_ANNOTATION]: EU,
    [EXPIRES_AT_ANNOTATION]: new Date(NOW + expiresIn).toISOString(),
    [RENEW_AFTER_ANNOTATION]: new Date(NOW + renewIn).toISOString(),
  },
  writtenAt: NOW - H,
});

const input = (over: Partial<StatusInput>): StatusInput => ({
  namespaces: [{ name: 'a', labels: { [EU]: 'true' } }],
  secrets: [],
  serviceAccounts: [],
  blocked: new Map(),
  global: { registries: [], include: ['*'], exclude: [] },
  secretNameTemplate: '{{registry}}',
  instance: 'eatr',
  maxRegistries: 20,
  wantedServiceAccounts: ['default'],
  now: NOW,
  ...over,
});

describe('statusRows', () => {
  it("shows a namespace outside the credentials' access policy as refused, naming the rule", () => {
    const rule = accessRuleOf(
      { [ALLOWED_NAMESPACES_ANNOTATION]: 'team=b' },
      parseDefaultAccess('*'),
    );
    const rows = statusRows(
      input({ access: () => rule, credentialSource: () => 'ci-cd/eatr-aws-credentials-x' }),
    );
    expect(rows).toEqual([
      expect.objectContaining({
        namespace: 'a',
        registry: EU,
        state: 'refused',
        reason: `not allowed by eatr.io/allowed-namespaces="team=b" on Secret eatr-aws-credentials-${EU}`,
        credentials: 'ci-cd/eatr-aws-credentials-x',
      }),
    ]);
    // Refused is a decision, not a failure: the exit code stays 0.
    expect(summarize(rows)).toMatchObject({ byState: { refused: 1 }, unhealthy: false });
    // Allowed: planned as before.
    const open = statusRows(input({ access: () => parseDefaultAccess('*') }));
    expect(open.map((r) => r.state)).toEqual(['missing']);
  });

  it('shows a registry label set to True as ignored, with the command that fixes it', () => {
    const rows = statusRows(input({ namespaces: [{ name: 'a', labels: { [EU]: 'True' } }] }));
    expect(rows).toEqual([
      expect.objectContaining({
        namespace: 'a',
        registry: EU,
        state: 'ignored',
        reason: `label value "True" is not "true", so eatr ignores it: kubectl label namespace a ${EU}=true --overwrite`,
      }),
    ]);
    expect(summarize(rows)).toMatchObject({ byState: { ignored: 1 }, unhealthy: false });
  });

  it('shows a labelled namespace outside the served namespaces as refused, saying so', () => {
    const rows = statusRows(input({ servedNamespaces: new Set(['b']) }));
    expect(rows).toEqual([
      expect.objectContaining({
        namespace: 'a',
        registry: EU,
        state: 'refused',
        reason: 'not among the served namespaces (config.servedNamespaces)',
      }),
    ]);
    expect(statusRows(input({ servedNamespaces: new Set(['a']) })).map((r) => r.state)).toEqual([
      'missing',
    ]);
  });

  it.each([
    ['fresh', [managed('a', 11 * H, 5 * H)], 'fresh', false],
    ['due', [managed('a', 5 * H, -H)], 'due', false],
    [
      'expiring (renewal late: under an hour left)',
      [managed('a', 0.5 * H, -5 * H)],
      'expiring',
      false,
    ],
    ['expired', [managed('a', -H, -6 * H)], 'expired', true],
    ['missing', [], 'missing', true],
    [
      "conflict (same name, not eatr's)",
      [{ ...managed('a', H, H), labels: {} }],
      'conflict',
      false,
    ],
  ] as const)('%s', (_name, secrets, state, unhealthy) => {
    const rows = statusRows(input({ secrets }));
    expect(rows.map((r) => r.state)).toEqual([state]);
    expect(summarize(rows).unhealthy).toBe(unhealthy);
  });

  it('shows a blocked pair with its reason and keeps the Secret state for the exit code', () => {
    const rows = statusRows(
      input({ blocked: new Map([[`a/${EU}`, { reason: 'access-denied', since: NOW - H }]]) }),
    );
    expect(rows).toMatchObject([
      { state: 'blocked', secretState: 'missing', reason: 'access-denied' },
    ]);
    expect(summarize(rows)).toMatchObject({ unhealthy: true, byState: { blocked: 1 } });
  });

  it('lists only opted-in namespaces, global registries included, and counts wired ServiceAccounts', () => {
    const rows = statusRows(
      input({
        namespaces: [
          { name: 'a', labels: { [EU]: 'true' } },
          { name: 'off', labels: { [EU]: 'false' } },
          { name: 'kube-system', labels: {} },
        ],
        global: { registries: [US], include: ['*'], exclude: ['kube-*'] },
        secrets: [managed('a', 11 * H, 5 * H)],
        serviceAccounts: [
          { namespace: 'a', name: 'default', imagePullSecrets: [EU] },
          { namespace: 'a', name: 'builder', imagePullSecrets: [] },
        ],
        wantedServiceAccounts: '*',
      }),
    );
    expect(rows.map((r) => [r.namespace, r.registry, r.state, r.serviceAccounts])).toEqual([
      ['a', EU, 'fresh', { wired: 1, wanted: 2 }],
      ['a', US, 'missing', { wired: 0, wanted: 2 }],
      ['off', US, 'missing', { wired: 0, wanted: 0 }],
    ]);
  });

  it('reports a registry whose Secret name another registry holds as a conflict', () => {
    const rows = statusRows(
      input({
        namespaces: [{ name: 'a', labels: { [EU]: 'true', [US]: 'true' } }],
        secretNameTemplate: 'ecr-{{account}}',
      }),
    );
    expect(rows.map((r) => [r.registry, r.state])).toEqual([
      [EU, 'missing'],
      [US, 'conflict'],
    ]);
    expect(rows[1]?.reason).toContain(`already used for ${EU}`);
  });
});
