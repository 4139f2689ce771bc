import { EventReason } from '@eatr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAwsEndpoint } from '../harness/aws/index.js';
import { EatrProcess } from '../harness/eatr-process.js';
import {
  apiOutcome as outcome,
  harness,
  kubeClients,
  kubeconfigForServiceAccount,
  uniqueName,
  type KubeClients,
} from '../harness/index.js';
import { ChartRelease, expectAccess, type AccessExpectation } from './support/chart-release.js';

// The least-read mode (config.servedNamespaces): the chart grants the renewer Secrets only in the
// listed namespaces and the host namespace. Shown with the real authorizer (SubjectAccessReviews for
// the chart's own ServiceAccounts), then by running both components with exactly that RBAC.

const KEYS = {
  accessKeyId: 'AKIASERVEDNAMESPACES',
  secretAccessKey: 'served-namespaces-secret/abcdefghijklm',
  accountId: '555000333444',
};
const REGISTRY = `${KEYS.accountId}.dkr.ecr.eu-west-1.amazonaws.com`;

let admin: KubeClients;
let release: ChartRelease;
let installed: ChartRelease | undefined;
let teamA: string;
let teamB: string;
let outside: string;

async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await admin.core.createNamespace({ body: { metadata: { name, labels } } });
  // No controller-manager here: the default ServiceAccount is the test's to create.
  await admin.core.createNamespacedServiceAccount({
    namespace: name,
    body: { metadata: { name: 'default' } },
  });
}

const secretState = (namespace: string) =>
  admin.core.readNamespacedSecret({ namespace, name: REGISTRY }).then(
    () => 'exists',
    () => 'missing',
  );

beforeAll(async () => {
  admin = kubeClients(harness().kubeconfigPath);
  [teamA, teamB, outside] = [uniqueName('served-a'), uniqueName('served-b'), uniqueName('outside')];
  // The chart's Roles go into the served namespaces: they exist before the install.
  for (const ns of [teamA, teamB, outside]) await createNamespace(ns);
  release = installed = await ChartRelease.install('eatr-served', {
    config: { servedNamespaces: [teamA, teamB] },
  });
}, 120_000);

afterAll(async () => {
  await installed?.uninstall();
});

describe('config.servedNamespaces: what a leaked token could read', () => {
  const secrets = (namespace?: string) =>
    (['get', 'list', 'watch'] as const).map((verb) => ({
      verb,
      resource: 'secrets',
      ...(namespace ? { namespace } : {}),
    }));

  it('the renewer reads and writes Secrets in the served namespaces and the host namespace, and no other Secret', async () => {
    const kubeconfig = await kubeconfigForServiceAccount(release.namespace, 'eatr-served-renewer');
    const table: AccessExpectation[] = [
      ...[teamA, teamB, release.host].flatMap((ns) =>
        [...secrets(ns), { verb: 'create', resource: 'secrets', namespace: ns }].map(
          (a): AccessExpectation => [true, a],
        ),
      ),
      ...[undefined, outside, release.namespace, 'kube-system'].flatMap((ns) =>
        [...secrets(ns), { verb: 'create', resource: 'secrets', namespace: ns ?? outside }].map(
          (a): AccessExpectation => [false, a],
        ),
      ),
      // What it keeps cluster-wide: reading namespaces and ServiceAccounts (no secret in them),
      // Events; ServiceAccounts are patched only where it serves.
      [true, { verb: 'watch', resource: 'namespaces' }],
      [true, { verb: 'watch', resource: 'serviceaccounts' }],
      [true, { verb: 'patch', resource: 'serviceaccounts', namespace: teamA, name: 'default' }],
      [false, { verb: 'patch', resource: 'serviceaccounts', namespace: outside, name: 'default' }],
      [true, { verb: 'create', resource: 'events', namespace: outside }],
      [
        false,
        {
          verb: 'create',
          resource: 'serviceaccounts',
          subresource: 'token',
          namespace: outside,
          name: 'default',
        },
      ],
      [false, { verb: 'get', resource: 'configmaps', namespace: teamA }],
    ];
    await expectAccess(kubeconfig, table);

    // The same, by real calls with the renewer's token.
    const renewer = kubeClients(kubeconfig);
    await admin.core.createNamespacedSecret({
      namespace: outside,
      body: { metadata: { name: 'database' }, stringData: { password: 'not-for-eatr' } },
    });
    expect(
      await outcome(renewer.core.readNamespacedSecret({ namespace: outside, name: 'database' })),
    ).toBe(403);
    expect(await outcome(renewer.core.listSecretForAllNamespaces())).toBe(403);
    expect(await outcome(renewer.core.listNamespacedSecret({ namespace: teamA }))).toBe('allowed');
  });

  it('the watcher reads no Secret at all', async () => {
    const kubeconfig = await kubeconfigForServiceAccount(release.namespace, 'eatr-served-watcher');
    await expectAccess(kubeconfig, [
      ...[undefined, teamA, release.host, outside].flatMap((ns) =>
        secrets(ns).map((a): AccessExpectation => [false, a]),
      ),
      [true, { verb: 'watch', resource: 'namespaces' }],
    ]);
  });
});

describe('config.servedNamespaces: eatr with that RBAC', () => {
  let aws: FakeAwsEndpoint;
  const processes: EatrProcess[] = [];

  beforeAll(async () => {
    aws = await FakeAwsEndpoint.start({ credentials: [KEYS] });
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await aws.stop();
  });

  async function start(component: 'watcher' | 'renewer'): Promise<EatrProcess> {
    const kubeconfig = await kubeconfigForServiceAccount(
      release.namespace,
      `eatr-served-${component}`,
    );
    const started = await EatrProcess.start(component, {
      env: {
        ...(await release.env(component)),
        ...aws.env(),
        KUBECONFIG: kubeconfig,
        POD_NAME: `${component}-served`,
        EATR_METRICS_PORT: '0',
        EATR_METRICS_HOST: '127.0.0.1',
      },
    });
    processes.push(started);
    return started;
  }

  it('serves a listed namespace, leaves one outside the list alone with one Event, and is refused nothing', async () => {
    await admin.core.createNamespacedSecret({
      namespace: release.host,
      body: {
        metadata: { name: `eatr-aws-credentials-${REGISTRY}` },
        stringData: {
          aws_access_key_id: KEYS.accessKeyId,
          aws_secret_access_key: KEYS.secretAccessKey,
        },
      },
    });
    const renewer = await start('renewer');
    const watcher = await start('watcher');
    await watcher.waitForLog((l) => l.msg === 'became leader', 30_000);

    // A user entry on the outside namespace's ServiceAccount, which eatr must not touch either.
    const sa = await admin.core.readNamespacedServiceAccount({
      namespace: outside,
      name: 'default',
    });
    await admin.core.replaceNamespacedServiceAccount({
      namespace: outside,
      name: 'default',
      body: { ...sa, imagePullSecrets: [{ name: 'their-own' }] },
    });
    for (const ns of [teamA, outside]) {
      const current = await admin.core.readNamespace({ name: ns });
      await admin.core.replaceNamespace({
        name: ns,
        body: { ...current, metadata: { ...current.metadata, labels: { [REGISTRY]: 'true' } } },
      });
    }

    await expect.poll(() => secretState(teamA), { timeout: 30_000, interval: 200 }).toBe('exists');
    await expect
      .poll(
        async () =>
          (await admin.core.readNamespacedServiceAccount({ namespace: teamA, name: 'default' }))
            .imagePullSecrets,
        { timeout: 15_000 },
      )
      .toEqual([{ name: REGISTRY }]);

    // Outside: one Warning Event saying why and what to change, nothing written.
    await expect
      .poll(
        async () =>
          (await admin.core.listNamespacedEvent({ namespace: outside })).items
            .filter((e) => e.reason === EventReason.NamespaceNotServed)
            .map((e) => e.type),
        { timeout: 30_000 },
      )
      .toEqual(['Warning']);
    const event = (await admin.core.listNamespacedEvent({ namespace: outside })).items.find(
      (e) => e.reason === EventReason.NamespaceNotServed,
    );
    expect(event?.message).toContain(REGISTRY);
    expect(event?.message).toContain('config.servedNamespaces');
    expect(await secretState(outside)).toBe('missing');
    expect(
      (await admin.core.readNamespacedServiceAccount({ namespace: outside, name: 'default' }))
        .imagePullSecrets,
    ).toEqual([{ name: 'their-own' }]);

    // The renewer's expiry metric covers the served namespace: its per-namespace watch works.
    await expect
      .poll(
        () => renewer.metricValue('eatr_secret_expiry_timestamp_seconds', { namespace: teamA }),
        { timeout: 30_000 },
      )
      .toBeGreaterThan(Date.now() / 1000);

    const refused = [...watcher.lines, ...renewer.lines].filter((l) => /forbidden/i.test(l));
    expect(refused).toEqual([]);
  }, 150_000);
});
