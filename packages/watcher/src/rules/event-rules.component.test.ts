import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  createLogger,
  createWatcherMetrics,
  type BlockedEntry,
  type CachedNamespace,
  type PlanSettings,
} from '@eatr/core';
import type { WatchedServiceAccount } from '../watched-objects.js';
import { EventRules } from './event-rules.js';

const EU = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const US = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

const settings: PlanSettings = {
  instance: 'eatr',
  maxRegistries: 20,
  global: { registries: [], include: [], exclude: [] },
  secretNameTemplate: '{{registry}}',
  serviceAccounts: ['default'],
  tenantRoles: [],
};

const ns = (
  name: string,
  labels: Record<string, string>,
  resourceVersion = '10',
): CachedNamespace =>
  ({ metadata: { name, labels, resourceVersion, terminating: false } }) as CachedNamespace;

const sa = (
  pullSecrets: string[],
  addedByEatr: string[] = [],
  resourceVersion = '20',
): WatchedServiceAccount => ({
  metadata: { name: 'default', namespace: 'team-a', resourceVersion },
  pullSecrets,
  addedByEatr,
});

/** The rules over in-memory namespaces and blocked records, recording the jobs they ask for. */
function rules(namespaces: CachedNamespace[], blocked = new Map<string, BlockedEntry>()) {
  const jobs: string[] = [];
  const byName = new Map(namespaces.map((n) => [n.metadata.name, n]));
  const r = new EventRules({
    settings,
    namespace: (name) => byName.get(name),
    blocked: (_namespace, subjects) =>
      Promise.resolve(
        new Map(
          subjects.flatMap((s) => {
            const entry = blocked.get(s);
            return entry ? [[s, entry] as const] : [];
          }),
        ),
      ),
    jobs: {
      syncNamespace: (namespace, reason, waitFor) =>
        jobs.push(
          `sync ${namespace} ${reason} ${waitFor.map((w) => `${w.resource}@${w.resourceVersion}`).join(',')}`,
        ),
    },
    metrics: createWatcherMetrics(new Registry()),
    log: createLogger('watcher', 'silent'),
  });
  return { r, jobs };
}

describe('EventRules: namespace events', () => {
  it.each<
    [
      string,
      'ADDED' | 'MODIFIED' | 'DELETED',
      Record<string, string>,
      Record<string, string> | undefined,
      string[],
    ]
  >([
    [
      'a new labelled namespace',
      'ADDED',
      { [EU]: 'true' },
      undefined,
      ['sync team-a namespace namespaces@10'],
    ],
    ['a new namespace without labels', 'ADDED', {}, undefined, []],
    [
      'a label added',
      'MODIFIED',
      { [EU]: 'true', [US]: 'true' },
      { [EU]: 'true' },
      ['sync team-a namespace namespaces@10'],
    ],
    [
      'a label removed (opt-out)',
      'MODIFIED',
      {},
      { [EU]: 'true' },
      ['sync team-a namespace namespaces@10'],
    ],
    [
      'another label edited where registries are asked for (access policies select on labels)',
      'MODIFIED',
      { [EU]: 'true', team: 'b' },
      { [EU]: 'true', team: 'a' },
      ['sync team-a namespace namespaces@10'],
    ],
    ['a label edited where no registry is asked for', 'MODIFIED', { team: 'b' }, { team: 'a' }, []],
    [
      'an update that kept every label',
      'MODIFIED',
      { [EU]: 'true', team: 'a' },
      { [EU]: 'true', team: 'a' },
      [],
    ],
    ['a registry label set to "false" from absent', 'MODIFIED', { [EU]: 'false' }, {}, []],
    ['deleted (Kubernetes removes its Secrets)', 'DELETED', {}, { [EU]: 'true' }, []],
  ])('%s', (_name, type, labels, previous, expected) => {
    const { r, jobs } = rules([]);
    r.onNamespace(type, ns('team-a', labels), previous && ns('team-a', previous, '9'));
    expect(jobs).toEqual(expected);
  });
});

describe('EventRules: namespace role annotations (eatr.io/role-arn)', () => {
  const ROLE = 'arn:aws:iam::111122223333:role/team-a-pull';
  const annotated = (annotations: Record<string, string> | undefined, rv = '10') =>
    ({
      metadata: {
        name: 'team-a',
        labels: { [EU]: 'true' },
        namespace: '',
        resourceVersion: rv,
        createdAt: 0,
        terminating: false,
        ...(annotations ? { annotations } : {}),
      },
    }) as CachedNamespace;

  it.each<[string, Record<string, string> | undefined, Record<string, string> | undefined, number]>(
    [
      ['a role named', { 'eatr.io/role-arn': ROLE }, undefined, 1],
      ['the role removed', undefined, { 'eatr.io/role-arn': ROLE }, 1],
      ['another role', { 'eatr.io/role-arn': `${ROLE}-2` }, { 'eatr.io/role-arn': ROLE }, 1],
      ['the same role', { 'eatr.io/role-arn': ROLE }, { 'eatr.io/role-arn': ROLE }, 0],
    ],
  )('%s: %s sync(s)', (_name, now, before, syncs) => {
    const { r, jobs } = rules([]);
    r.onNamespace('MODIFIED', annotated(now), annotated(before, '9'));
    expect(jobs).toHaveLength(syncs);
  });

  it('a new namespace whose role is refused is synced too (the renewer reports the refusal)', () => {
    const { r, jobs } = rules([]);
    r.onNamespace('ADDED', annotated({ 'eatr.io/role-arn': 'not-an-arn' }), undefined);
    expect(jobs).toEqual(['sync team-a namespace namespaces@10']);
  });
});

describe('EventRules: ServiceAccount events (what the renewer would change)', () => {
  const blockedAbsent: BlockedEntry = {
    fingerprint: '',
    reason: 'missing-credentials',
    registry: EU,
    since: 0,
    present: false,
  };

  it.each<
    [
      string,
      WatchedServiceAccount,
      WatchedServiceAccount | undefined,
      Map<string, BlockedEntry>,
      string[],
    ]
  >([
    [
      'a new default ServiceAccount without the entry',
      sa([]),
      undefined,
      new Map(),
      ['sync team-a serviceaccount serviceaccounts@20'],
    ],
    [
      'an entry a GitOps tool removed',
      sa([], [EU]),
      sa([EU], [EU], '19'),
      new Map(),
      ['sync team-a serviceaccount serviceaccounts@20'],
    ],
    ['already wired', sa([EU], [EU]), undefined, new Map(), []],
    [
      'an edit that kept the entries (eatr patch echoes, token edits)',
      sa([], []),
      sa([], [], '19'),
      new Map(),
      [],
    ],
    // The drift the plan ended: the watcher compared against every wanted Secret, the renewer patches
    // only the Secrets the namespace has, so each such event enqueued a sync that changed nothing.
    [
      'a namespace whose Secret is blocked and absent',
      sa([]),
      undefined,
      new Map([[EU, blockedAbsent]]),
      [],
    ],
    [
      'blocked but present (credentials broke after it was written)',
      sa([]),
      undefined,
      new Map([[EU, { ...blockedAbsent, present: true }]]),
      ['sync team-a serviceaccount serviceaccounts@20'],
    ],
    [
      'a record written before `present` existed is read as present',
      sa([]),
      undefined,
      new Map([[EU, { fingerprint: '', reason: 'missing-credentials', registry: EU, since: 0 }]]),
      ['sync team-a serviceaccount serviceaccounts@20'],
    ],
  ])('%s', async (_name, account, previous, blocked, expected) => {
    const { r, jobs } = rules([ns('team-a', { [EU]: 'true' })], blocked);
    await r.onServiceAccount(previous ? 'MODIFIED' : 'ADDED', account, previous);
    expect(jobs).toEqual(expected);
  });

  it('a stale entry eatr added is removed even in a namespace that no longer asks for anything', async () => {
    const { r, jobs } = rules([ns('team-a', {})]);
    await r.onServiceAccount('ADDED', sa([EU, 'mine'], [EU]), undefined);
    expect(jobs).toEqual(['sync team-a serviceaccount serviceaccounts@20']);
  });

  it('ServiceAccounts of a namespace the watch does not know yet wait for its own event', async () => {
    const { r, jobs } = rules([]);
    await r.onServiceAccount('ADDED', sa([]), undefined);
    expect(jobs).toEqual([]);
  });
});
