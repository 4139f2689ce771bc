import { describe, expect, it } from 'vitest';
import {
  blockedFingerprint,
  serviceAccountFingerprint,
  type BlockedEntry,
} from '../blocked/blocked-entry.js';
import { serviceAccountKey } from '../blocked/blocked-key.js';
import type { ObservedSecret } from '../decide/secret-decision.js';
import {
  CREDENTIALS_VERSION_ANNOTATION,
  DOCKER_CONFIG_JSON_TYPE,
  EXPIRES_AT_ANNOTATION,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REGISTRY_ANNOTATION,
  RENEW_AFTER_ANNOTATION,
  SECRET_NAME_ANNOTATION,
} from '../naming.js';
import { parseRegistryHost } from '../registry/registry-host.js';
import type { CredentialStatus } from './credential-status.js';
import {
  AWS_RECHECK_MS,
  planNamespace,
  planSecret,
  type NamespaceView,
  type PlanInput,
  type PlanSettings,
} from './namespace-plan.js';
import {
  ROLE_ARN_ANNOTATION,
  ROLE_SERVICE_ACCOUNT_ANNOTATION,
  parseTenantRoles,
} from '../access/tenant-role.js';

const EU = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const US = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const CN = '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn';
const NOW = Date.parse('2026-06-01T12:00:00Z');
const H = 3_600_000;

const settings: PlanSettings = {
  instance: 'eatr',
  maxRegistries: 20,
  global: { registries: [], include: [], exclude: [] },
  secretNameTemplate: '{{registry}}',
  serviceAccounts: ['default'],
  tenantRoles: [],
};
const ok = (version = 'v1'): CredentialStatus => ({
  ok: true,
  value: { version, acceptedVersions: [] },
  state: version,
});
const broken: CredentialStatus = { ok: false, state: 'missing' };

/** eatr's Secret for `registry`, written from credentials `version`, due in `renewIn`. */
const managed = (
  registry: string,
  { renewIn = 5 * H, version = 'v1', name = registry } = {},
): ObservedSecret => ({
  name,
  type: DOCKER_CONFIG_JSON_TYPE,
  labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: 'eatr' },
  annotations: {
    [REGISTRY_ANNOTATION]: registry,
    [EXPIRES_AT_ANNOTATION]: new Date(NOW + 11 * H).toISOString(),
    [RENEW_AFTER_ANNOTATION]: new Date(NOW + renewIn).toISOString(),
    [CREDENTIALS_VERSION_ANNOTATION]: version,
  },
});
const foreign = (name: string): ObservedSecret => ({
  name,
  type: 'Opaque',
  labels: {},
  annotations: {},
});
const account = (
  imagePullSecrets: string[],
  addedByEatr: string[] = [],
  resourceVersion = '7',
) => ({
  name: 'default',
  imagePullSecrets,
  addedByEatr,
  resourceVersion,
});

const view = (over: Partial<NamespaceView> = {}): NamespaceView => ({
  name: 'team-a',
  labels: { [EU]: 'true' },
  terminating: false,
  secrets: [],
  serviceAccounts: [],
  ...over,
});
const plan = (over: Partial<PlanInput<CredentialStatus>> = {}) =>
  planNamespace<CredentialStatus>({
    namespace: view(),
    settings,
    credentials: () => ok(),
    now: NOW,
    ...over,
  });
const kinds = (p: ReturnType<typeof plan>) => p.actions.map((a) => `${a.kind} ${a.secretName}`);

describe('planNamespace: which Secrets a namespace needs', () => {
  it.each<[string, Partial<PlanInput<CredentialStatus>>, boolean]>([
    ['a namespace that does not exist', { namespace: undefined }, true],
    ['a terminating namespace', { namespace: view({ terminating: true }) }, true],
    ['a labelled namespace', {}, false],
  ])('%s: gone=%s', (_name, over, gone) => {
    const p = plan(over);
    expect(p.gone).toBe(gone);
    expect(p.secrets.length).toBe(gone ? 0 : 1);
  });

  it('serves every registry label set to "true", in host order, and reports near misses', () => {
    const p = plan({
      namespace: view({
        labels: {
          [US]: 'true',
          [EU]: 'true',
          [CN]: 'false',
          '123456789012.dkr.ecr.eu-west-1.amazonaws.co': 'true',
        },
      }),
    });
    expect(p.secrets.map((s) => s.registry.host)).toEqual([EU, US]);
    expect(p.ignoredLabels).toEqual(['123456789012.dkr.ecr.eu-west-1.amazonaws.co']);
  });

  it.each<[string, PlanSettings['global'], string, string[]]>([
    [
      'global registries reach every namespace',
      { registries: [US], include: [], exclude: [] },
      'x',
      [EU, US],
    ],
    [
      'include globs limit them',
      { registries: [US], include: ['team-*'], exclude: [] },
      'ops',
      [EU],
    ],
    ['exclude wins over include', { registries: [US], include: ['*'], exclude: ['x'] }, 'x', [EU]],
  ])('%s', (_name, global, name, hosts) => {
    const p = plan({ namespace: view({ name }), settings: { ...settings, global } });
    expect(p.secrets.map((s) => s.registry.host)).toEqual(hosts);
  });

  it('a constant name template serves the first registry and reports the others as collisions', () => {
    const p = plan({
      namespace: view({ labels: { [EU]: 'true', [US]: 'true' } }),
      settings: { ...settings, secretNameTemplate: 'ecr-pull' },
    });
    expect(p.secrets.map((s) => [s.secretName, s.registry.host])).toEqual([['ecr-pull', EU]]);
    expect(p.collisions.map((c) => [c.registry.host, c.heldBy])).toEqual([[US, EU]]);
  });
});

describe('planNamespace: what to do with each Secret', () => {
  it.each<[string, Partial<PlanInput<CredentialStatus>>, string[], string[]]>([
    ['missing: create', {}, [`create ${EU}`], [`create ${EU}`]],
    ['fresh: leave', { namespace: view({ secrets: [managed(EU)] }) }, [`leave ${EU}`], []],
    [
      'due: renew',
      { namespace: view({ secrets: [managed(EU, { renewIn: -1 })] }) },
      [`renew ${EU}`],
      [`renew ${EU}`],
    ],
    [
      'new credentials: renew',
      { namespace: view({ secrets: [managed(EU)] }), credentials: () => ok('v2') },
      [`renew ${EU}`],
      [`renew ${EU}`],
    ],
    [
      'unusable credentials keep a fresh Secret (no renewal that can only fail)',
      { namespace: view({ secrets: [managed(EU)] }), credentials: () => broken },
      [`leave ${EU}`],
      [],
    ],
    [
      'unknown credentials (the CLI): only time decides',
      { namespace: view({ secrets: [managed(EU, { version: 'old' })] }), credentials: undefined },
      [`leave ${EU}`],
      [],
    ],
    [
      'no longer asked for: delete',
      { namespace: view({ labels: {}, secrets: [managed(EU)] }) },
      [`delete ${EU}`],
      [`delete ${EU}`],
    ],
    [
      "someone else's Secret: conflict, no write",
      { namespace: view({ secrets: [foreign(EU)] }) },
      [`conflict ${EU}`],
      [],
    ],
    [
      'forced renewal renews fresh Secrets too',
      { namespace: view({ secrets: [managed(EU)] }), force: 'renew' },
      [`renew ${EU}`],
      [`renew ${EU}`],
    ],
    [
      'the watcher sees no Secrets: no Secret actions',
      { namespace: view({ secrets: undefined }) },
      [],
      [],
    ],
  ])('%s', (_name, over, actions, work) => {
    const p = plan(over);
    expect(kinds(p)).toEqual(actions);
    expect(p.work.map((a) => `${a.kind} ${a.secretName}`)).toEqual(work);
  });
});

describe('planNamespace: blocked work', () => {
  const entry = (over: Partial<BlockedEntry> = {}): BlockedEntry => ({
    fingerprint: blockedFingerprint(EU, 'missing'),
    reason: 'missing-credentials',
    registry: EU,
    since: NOW - H,
    checkedAt: NOW - H,
    present: false,
    ...over,
  });

  it.each<
    [
      string,
      Partial<PlanInput<CredentialStatus>>,
      { work: number; held: number; recheck?: boolean },
    ]
  >([
    [
      'an unchanged cause holds the write',
      { credentials: () => broken, blocked: new Map([[EU, entry()]]) },
      { work: 0, held: 1, recheck: false },
    ],
    [
      'credentials that changed release it',
      { credentials: () => ok(), blocked: new Map([[EU, entry()]]) },
      { work: 1, held: 0 },
    ],
    [
      'an AWS refusal is asked again after AWS_RECHECK_MS',
      {
        credentials: () => ok(),
        blocked: new Map([
          [
            EU,
            entry({
              reason: 'access-denied',
              fingerprint: blockedFingerprint(EU, 'v1'),
              checkedAt: NOW - AWS_RECHECK_MS,
            }),
          ],
        ]),
      },
      { work: 0, held: 1, recheck: true },
    ],
    [
      'a conflict holds while the foreign Secret is unchanged',
      {
        blocked: new Map([
          [EU, entry({ reason: 'conflict', fingerprint: blockedFingerprint(EU, 'v1', '42') })],
        ]),
        foreignVersions: new Map([[EU, '42']]),
      },
      { work: 0, held: 1, recheck: false },
    ],
    [
      'a conflict ends when the foreign Secret is gone',
      {
        blocked: new Map([
          [EU, entry({ reason: 'conflict', fingerprint: blockedFingerprint(EU, 'v1', '42') })],
        ]),
      },
      { work: 1, held: 0 },
    ],
  ])('%s', (_name, over, expected) => {
    const p = plan(over);
    expect(p.work.length).toBe(expected.work);
    expect(p.held.length).toBe(expected.held);
    if (expected.recheck !== undefined) expect(p.held[0]?.awsRecheckDue).toBe(expected.recheck);
  });
});

describe('planNamespace: ServiceAccounts', () => {
  it.each<[string, Partial<PlanInput<CredentialStatus>>, string[][]]>([
    [
      'an existing Secret is added to the default ServiceAccount',
      { namespace: view({ secrets: [managed(EU)], serviceAccounts: [account([])] }) },
      [[EU]],
    ],
    [
      'a Secret not created yet is not referenced',
      { namespace: view({ serviceAccounts: [account([])] }) },
      [],
    ],
    [
      "someone else's Secret is not referenced",
      { namespace: view({ secrets: [foreign(EU)], serviceAccounts: [account([])] }) },
      [],
    ],
    [
      'an entry eatr added for a registry no longer asked for is removed; a user entry stays',
      { namespace: view({ labels: {}, serviceAccounts: [account(['mine', EU], [EU])] }) },
      [['mine']],
    ],
    [
      'ServiceAccounts are left alone when none are configured',
      {
        namespace: view({ secrets: [managed(EU)], serviceAccounts: [account([])] }),
        settings: { ...settings, serviceAccounts: [] },
      },
      [],
    ],
    [
      'a change the API server refused is not planned again while nothing changed',
      {
        namespace: view({ secrets: [managed(EU)], serviceAccounts: [account([])] }),
        blocked: new Map([
          [
            serviceAccountKey('default'),
            {
              fingerprint: serviceAccountFingerprint('7', [EU]),
              reason: 'http-403',
              registry: '',
              since: NOW,
            },
          ],
        ]),
      },
      [],
    ],
    // The watcher sees no Secrets: it relies on the renewers' records of what is blocked.
    [
      'watcher: a wanted Secret is expected unless recorded as blocked and absent',
      { namespace: view({ secrets: undefined, serviceAccounts: [account([])] }) },
      [[EU]],
    ],
    [
      'watcher: blocked and absent (a namespace without credentials) needs no change',
      {
        namespace: view({ secrets: undefined, serviceAccounts: [account([])] }),
        blocked: new Map([
          [
            EU,
            {
              fingerprint: '',
              reason: 'missing-credentials',
              registry: EU,
              since: NOW,
              present: false,
            },
          ],
        ]),
      },
      [],
    ],
    [
      'watcher: blocked but present (credentials broke after it was written) is still referenced',
      {
        namespace: view({ secrets: undefined, serviceAccounts: [account([])] }),
        blocked: new Map([
          [
            EU,
            {
              fingerprint: '',
              reason: 'missing-credentials',
              registry: EU,
              since: NOW,
              present: true,
            },
          ],
        ]),
      },
      [[EU]],
    ],
  ])('%s', (_name, over, expected) => {
    expect(plan(over).serviceAccounts.map((c) => c.imagePullSecrets)).toEqual(expected);
  });
});

describe('planNamespace: two eatr releases in one namespace', () => {
  /** Release `eatr-b`'s Secret for `registry`. */
  const theirs = (registry: string): ObservedSecret => {
    const s = managed(registry);
    return { ...s, labels: { ...s.labels, [INSTANCE_LABEL]: 'eatr-b' } };
  };

  it("reports the other release's Secret of a wanted name as a conflict and never writes it", () => {
    const p = plan({ namespace: view({ secrets: [theirs(EU)] }) });
    expect(kinds(p)).toEqual([`conflict ${EU}`]);
    expect(p.work).toEqual([]);
    expect(p.pullSecrets).toEqual([]);
  });

  it("neither deletes the other release's Secrets nor removes their ServiceAccount entries", () => {
    const p = plan({
      namespace: view({
        labels: {},
        secrets: [theirs(US), managed(EU)],
        serviceAccounts: [account([EU, US], [EU, US])],
      }),
    });
    expect(kinds(p)).toEqual([`delete ${EU}`]);
    expect(p.otherInstances).toEqual(new Set([US]));
    expect(p.serviceAccounts).toEqual([
      { name: 'default', imagePullSecrets: [US], addedByEatr: [US] },
    ]);
  });

  it('takes over a Secret written by 0.1.x (no instance label): renewed once to stamp it', () => {
    const s = managed(EU);
    const unstamped = { ...s, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } };
    const p = plan({ namespace: view({ secrets: [unstamped] }) });
    expect(p.work).toEqual([{ kind: 'renew', registry: EU, secretName: EU, reason: 'unstamped' }]);
  });
});

describe('planSecret: one Secret decided again after a write lost a race', () => {
  const registry = parseRegistryHost(EU);
  if (!registry) throw new Error('EU is a registry host');
  const planned = (credentials: CredentialStatus | undefined) => ({
    registry,
    secretName: EU,
    credentials,
    format: 'pull' as const,
  });

  it.each<[string, ObservedSecret | undefined, CredentialStatus | undefined, string | undefined]>([
    ['created by another renewer meanwhile: fresh, leave it', managed(EU), ok(), 'leave'],
    // The drift this function ends: the race path used to forget the recorded version, so a fresh
    // Secret with unusable credentials looked due and the sync tried (and failed) to renew it.
    [
      'fresh, credentials unusable now: leave it, as the whole plan does',
      managed(EU),
      broken,
      'leave',
    ],
    ['deleted meanwhile: create', undefined, ok(), 'create'],
    ["someone else's now: conflict", foreign(EU), ok(), 'conflict'],
    ['not wanted any more and gone: nothing', undefined, undefined, undefined],
  ])('%s', (_name, observed, credentials, kind) => {
    const wanted = kind === undefined ? undefined : planned(credentials);
    expect(planSecret(observed, wanted, EU, NOW, 'eatr')?.kind).toBe(kind);
  });

  it('agrees with planNamespace for every observed state', () => {
    for (const observed of [managed(EU), managed(EU, { renewIn: -1 }), foreign(EU), undefined])
      for (const credentials of [ok(), ok('v2'), broken]) {
        const whole = plan({
          namespace: view({ secrets: observed ? [observed] : [] }),
          credentials: () => credentials,
        });
        const one = planSecret(observed, whole.secrets[0], EU, NOW, 'eatr');
        expect(one).toEqual(whole.actions[0]);
      }
  });
});

describe('planNamespace: a namespace that names its own IAM role (eatr.io/role-arn)', () => {
  const ROLE = 'arn:aws:iam::111122223333:role/team-a-pull';
  const allowlist = parseTenantRoles(
    JSON.stringify([
      { namespaces: 'team=a', roleArns: ['arn:aws:iam::111122223333:role/team-a-*'] },
    ]),
  );
  const roleCreds = (version = 'role-v1'): CredentialStatus => ({
    ok: true,
    value: { version, acceptedVersions: [] },
    state: version,
  });
  const withRole = (annotations: Record<string, string>, labels: Record<string, string> = {}) =>
    view({ labels: { [EU]: 'true', team: 'a', ...labels }, annotations });
  const denyAll = () => ({ selector: undefined, source: 'default' as const });

  it.each<[string, NamespaceView, string, string[], string[]]>([
    [
      'no annotation: the credential Secrets',
      view({ labels: { [EU]: 'true', team: 'a' } }),
      'none',
      ['v1'],
      [],
    ],
    [
      'an allowed role: its credentials, whatever the access rules say',
      withRole({ [ROLE_ARN_ANNOTATION]: ROLE }),
      'allowed',
      ['role-v1'],
      [],
    ],
    [
      'a role the allowlist does not name',
      withRole({ [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::111122223333:role/team-b-pull' }),
      'refused',
      [],
      [EU],
    ],
    [
      'a namespace the allowlist does not select',
      withRole({ [ROLE_ARN_ANNOTATION]: ROLE }, { team: 'b' }),
      'refused',
      [],
      [EU],
    ],
    [
      'a ServiceAccount the allowlist does not name',
      withRole({ [ROLE_ARN_ANNOTATION]: ROLE, [ROLE_SERVICE_ACCOUNT_ANNOTATION]: 'builder' }),
      'refused',
      [],
      [EU],
    ],
    ['a malformed ARN', withRole({ [ROLE_ARN_ANNOTATION]: 'team-a-pull' }), 'refused', [], [EU]],
  ])('%s', (_name, namespace, kind, versions, refusedHosts) => {
    const p = plan({
      namespace,
      settings: { ...settings, tenantRoles: allowlist },
      access: denyAll,
      credentials: () => ok(),
      roleCredentials: () => roleCreds(),
    });
    expect(p.role.kind).toBe(kind);
    // An allowed role is not subject to the credential Secrets' access rules (here: deny all).
    expect(p.secrets.map((s) => (s.credentials?.ok ? s.credentials.value.version : ''))).toEqual(
      kind === 'none' ? [] : versions,
    );
    expect(p.roleRefused.map((r) => r.host)).toEqual(refusedHosts);
    if (kind === 'none') expect(p.refused.map((r) => r.registry.host)).toEqual([EU]);
  });

  it('a refused role revokes the Secret the role issued before', () => {
    const p = plan({
      namespace: view({
        labels: { [EU]: 'true', team: 'b' },
        annotations: { [ROLE_ARN_ANNOTATION]: ROLE },
        secrets: [managed(EU, { version: 'role-v1' })],
      }),
      settings: { ...settings, tenantRoles: allowlist },
      roleCredentials: () => roleCreds(),
    });
    expect(kinds(p)).toEqual([`delete ${EU}`]);
    expect(p.role).toMatchObject({ kind: 'refused', reason: 'not-allowed' });
  });

  it('a Secret issued from the credential Secret is renewed when the namespace names an allowed role', () => {
    const p = plan({
      namespace: view({
        labels: { [EU]: 'true', team: 'a' },
        annotations: { [ROLE_ARN_ANNOTATION]: ROLE },
        secrets: [managed(EU, { version: 'v1' })],
      }),
      settings: { ...settings, tenantRoles: allowlist },
      roleCredentials: () => roleCreds(),
    });
    expect(kinds(p)).toEqual([`renew ${EU}`]);
  });

  it('with tenant roles off, a role annotation is refused with a message saying so', () => {
    const p = plan({ namespace: withRole({ [ROLE_ARN_ANNOTATION]: ROLE }) });
    expect(p.role).toMatchObject({ kind: 'refused', reason: 'not-allowed' });
    expect(p.role.kind === 'refused' && p.role.message).toContain('--tenant-roles is empty');
    expect(p.secrets).toEqual([]);
  });
});

describe('planNamespace: an install that serves a list of namespaces (--served-namespaces)', () => {
  const served = { ...settings, servedNamespaces: new Set(['team-a']) };
  const outside = view({
    name: 'team-b',
    secrets: [managed(EU)],
    serviceAccounts: [account([EU], [EU])],
  });
  it.each<[string, Partial<PlanInput<CredentialStatus>>, string[], string[]]>([
    ['a listed namespace is served as usual', { settings: served }, ['create ' + EU], []],
    ['every namespace is served without a list', { namespace: outside }, ['leave ' + EU], []],
    [
      'a namespace outside the list is left alone: its Secret and ServiceAccount entry stay',
      { settings: served, namespace: outside },
      [],
      [EU],
    ],
    [
      'global registries do not reach outside the list either',
      {
        settings: { ...served, global: { registries: [US], include: ['*'], exclude: [] } },
        namespace: view({ name: 'team-b', labels: {} }),
      },
      [],
      [US],
    ],
  ])('%s', (_name, over, actions, notServed) => {
    const p = plan(over);
    expect(kinds(p)).toEqual(actions);
    expect(p.notServed.map((r) => r.host)).toEqual(notServed);
    expect(p.gone).toBe(false);
    if (notServed.length > 0) {
      expect(p.serviceAccounts).toEqual([]);
      expect(p.secrets).toEqual([]);
      expect(p.pullSecrets).toEqual([]);
    }
  });
});

describe("planNamespace: Argo CD repository credentials (--argocd-registries) in Argo CD's namespace", () => {
  const REPO = `eatr-repo-creds-${EU}`;
  const withArgoCd = {
    ...settings,
    argoCd: { namespace: 'argocd', registries: [parseRegistryHost(EU)].flatMap((r) => r ?? []) },
  };
  const repoCreds = (over: Partial<ObservedSecret> = {}): ObservedSecret => ({
    ...managed(EU, { name: REPO }),
    type: 'Opaque',
    ...over,
  });
  const argocd = (over: Partial<NamespaceView> = {}) =>
    view({ name: 'argocd', labels: {}, serviceAccounts: [account([])], ...over });

  it.each<[string, Partial<PlanInput<CredentialStatus>>, string[], string[]]>([
    [
      'creates it without any label; no ServiceAccount references it',
      { settings: withArgoCd, namespace: argocd() },
      ['create ' + REPO],
      [],
    ],
    [
      'leaves a fresh one',
      { settings: withArgoCd, namespace: argocd({ secrets: [repoCreds()] }) },
      ['leave ' + REPO],
      [],
    ],
    [
      'renews it when due, with the pull Secrets it shares a token with',
      {
        settings: withArgoCd,
        namespace: argocd({
          secrets: [repoCreds({ ...managed(EU, { name: REPO, renewIn: -1 }), type: 'Opaque' })],
        }),
      },
      ['renew ' + REPO],
      [],
    ],
    [
      'a pull Secret of its name (eatr wrote the wrong type) is replaced',
      { settings: withArgoCd, namespace: argocd({ secrets: [managed(EU, { name: REPO })] }) },
      ['replace ' + REPO],
      [],
    ],
    [
      'an Argo CD Secret eatr did not write is never touched',
      { settings: withArgoCd, namespace: argocd({ secrets: [foreign(REPO)] }) },
      ['conflict ' + REPO],
      [],
    ],
    [
      'a labelled Argo CD namespace gets its pull Secret as well; only that one is referenced',
      {
        settings: withArgoCd,
        namespace: argocd({ labels: { [EU]: 'true' }, secrets: [managed(EU), repoCreds()] }),
      },
      ['leave ' + EU, 'leave ' + REPO],
      [EU],
    ],
    [
      'with the registry no longer configured, the one eatr wrote goes',
      { settings, namespace: argocd({ secrets: [repoCreds()] }) },
      ['delete ' + REPO],
      [],
    ],
    [
      'other namespaces get none',
      { settings: withArgoCd, namespace: view({ labels: {} }) },
      [],
      [],
    ],
  ])('%s', (_name, over, actions, pullSecrets) => {
    const p = plan(over);
    expect(kinds(p)).toEqual(actions);
    expect(p.pullSecrets).toEqual(pullSecrets);
    expect(p.serviceAccounts.flatMap((c) => c.imagePullSecrets)).toEqual(pullSecrets);
  });

  it("is served from the registry's shared credentials, whatever the namespace's access rules or role say", () => {
    const p = plan({
      settings: withArgoCd,
      namespace: argocd(),
      access: () => ({ selector: undefined, source: 'default' as const }),
    });
    expect(p.secrets.map((s) => [s.secretName, s.format, s.credentials?.ok])).toEqual([
      [REPO, 'argocd-repo-creds', true],
    ]);
  });
});

describe('planNamespace: the namespace names its Secrets (eatr.io/secret-name)', () => {
  const named = (value: string, over: Partial<NamespaceView> = {}) =>
    view({ annotations: { [SECRET_NAME_ANNOTATION]: value }, ...over });
  it.each<[string, Partial<PlanInput<CredentialStatus>>, string[], string | undefined]>([
    [
      'a fixed name replaces the template',
      { namespace: named('ecr-pull') },
      ['create ecr-pull'],
      undefined,
    ],
    [
      'placeholders work as in the template',
      { namespace: named('ecr-{{region}}') },
      ['create ecr-eu-west-1'],
      undefined,
    ],
    [
      'renamed: the new name is created and the Secret of the old name goes',
      { namespace: named('ecr-pull', { secrets: [managed(EU)] }) },
      ['create ecr-pull', 'delete ' + EU],
      undefined,
    ],
    [
      "a Secret of that name that is not eatr's is a conflict, never overwritten",
      { namespace: named('ecr-pull', { secrets: [foreign('ecr-pull')] }) },
      ['conflict ecr-pull'],
      undefined,
    ],
    [
      'a value that is no Secret name changes nothing: the template names it, and the plan says why',
      { namespace: named('Ecr_Pull', { secrets: [managed(EU)] }) },
      ['leave ' + EU],
      'Ecr_Pull',
    ],
    [
      'an unknown placeholder is no Secret name either',
      { namespace: named('ecr-{{cluster}}') },
      ['create ' + EU],
      '{{cluster}}',
    ],
  ])('%s', (_name, over, actions, problem) => {
    const p = plan(over);
    expect(kinds(p)).toEqual(actions);
    if (problem === undefined) expect(p.secretNameProblem).toBeUndefined();
    else expect(p.secretNameProblem).toContain(problem);
  });

  it('a fixed name with two registries serves the first and reports the other as a collision', () => {
    const p = plan({ namespace: named('ecr-pull', { labels: { [EU]: 'true', [US]: 'true' } }) });
    expect(kinds(p)).toEqual(['create ecr-pull']);
    expect(p.collisions.map((c) => [c.registry.host, c.heldBy])).toEqual([[US, EU]]);
  });
});
