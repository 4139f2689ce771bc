import {
  KubernetesObjectApi,
  type CoreV1Api,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, kubeClients, kubeconfigForServiceAccount, uniqueName } from '../harness/index.js';
import { helm, parseRendered, CHART, KUBE_VERSION, type Rendered } from '../chart/support.js';
import { attempt } from './support/api-attempt.js';

// With config.tenantRoles, the renewer may request ServiceAccount tokens (RBAC cannot narrow that):
// the chart's admission policy, installed into the real kube-apiserver with the renewer's identity
// and RBAC, lets it mint only what AssumeRoleWithWebIdentity needs.

const VAP = 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';

let admin: ReturnType<typeof kubeClients>;
let objects: KubernetesObjectApi;
let release: string;
let installed: KubernetesObject[] = [];
let renewer: CoreV1Api;
let team: string;

const token = (name: string, spec: Record<string, unknown>) =>
  attempt(renewer.createNamespacedServiceAccountToken({ namespace: team, name, body: { spec } }));

async function install(
  namespace: string,
  extra: string[],
  wanted: (o: Rendered) => boolean,
): Promise<Rendered[]> {
  const rendered = await helm([
    'template',
    release,
    CHART,
    '--namespace',
    namespace,
    '--kube-version',
    KUBE_VERSION,
    '--api-versions',
    VAP,
    ...extra,
  ]);
  if (rendered.code !== 0) throw new Error(`helm template failed:\n${rendered.stderr}`);
  return parseRendered(rendered.stdout).filter(wanted);
}

beforeAll(async () => {
  admin = kubeClients(harness().kubeconfigPath);
  objects = KubernetesObjectApi.makeApiClient(admin.kubeConfig);
  release = uniqueName('roles');
  const namespace = uniqueName('eatr-roles');
  team = uniqueName('roles-team');
  for (const name of [namespace, team])
    await admin.core.createNamespace({ body: { metadata: { name } } });
  for (const name of ['default', 'puller', 'builder'])
    await admin.core.createNamespacedServiceAccount({
      namespace: team,
      body: { metadata: { name } },
    });
  const picked = await install(
    namespace,
    [
      '--set-json',
      `config.tenantRoles=${JSON.stringify([
        { namespaces: 'team', roleArns: ['arn:aws:iam::111122223333:role/*'] },
        {
          namespaces: 'team=b',
          roleArns: ['arn:aws:iam::111122223333:role/b'],
          serviceAccounts: ['puller'],
        },
      ])}`,
    ],
    (o) =>
      o.metadata.name.endsWith('-renewer-tokenrequests') ||
      (o.metadata.name === `${release}-eatr-renewer` &&
        ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)),
  );
  expect(picked.map((o) => o.kind).sort()).toEqual([
    'ClusterRole',
    'ClusterRoleBinding',
    'ServiceAccount',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
  ]);
  for (const { source: _source, ...object } of picked) installed.push(await objects.create(object));
  renewer = kubeClients(
    await kubeconfigForServiceAccount(namespace, `${release}-eatr-renewer`),
  ).core;
  // The API server loads a new policy within a moment: wait until it refuses a wrong audience.
  const deadline = Date.now() + 30_000;
  while (!(await token('default', { audiences: ['api'] })).includes('ValidatingAdmissionPolicy')) {
    if (Date.now() > deadline)
      throw new Error('the token request policy is not in force after 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

afterAll(async () => {
  for (const object of installed.reverse()) await objects.delete(object).catch(() => undefined);
  installed = [];
});

describe("the renewer's ServiceAccount tokens (config.tenantRoles)", () => {
  const policy = () => `ValidatingAdmissionPolicy '${release}-eatr-renewer-tokenrequests'`;

  it('may request an STS-audience token of a ServiceAccount the allowlist names', async () => {
    for (const name of ['default', 'puller'])
      expect(await token(name, { audiences: ['sts.amazonaws.com'], expirationSeconds: 600 })).toBe(
        'allowed',
      );
  });

  it.each<[string, string, Record<string, unknown>, string]>([
    [
      'a token the API server accepts',
      'default',
      { audiences: ['https://kubernetes.default.svc'] },
      'only for audience sts.amazonaws.com',
    ],
    ['the default audience (the API server)', 'default', {}, 'only for audience sts.amazonaws.com'],
    [
      'a second audience beside STS',
      'default',
      { audiences: ['sts.amazonaws.com', 'vault'] },
      'only for audience sts.amazonaws.com',
    ],
    [
      'a ServiceAccount no rule names',
      'builder',
      { audiences: ['sts.amazonaws.com'] },
      'only for the ServiceAccounts config.tenantRoles names (default, puller)',
    ],
    [
      'a token of more than an hour',
      'default',
      { audiences: ['sts.amazonaws.com'], expirationSeconds: 7200 },
      'at most an hour',
    ],
  ])('refuses %s, by the policy', async (_name, account, spec, message) => {
    const answer = await token(account, spec);
    expect(answer).toMatch(/^403 /);
    expect(answer).toContain(policy());
    expect(answer).toContain(message);
  });
});
