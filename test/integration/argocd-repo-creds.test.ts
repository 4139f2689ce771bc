import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogMessage, QUEUE_NAME, enqueueSync } from '@eatr/core';
import type { V1Secret } from '@kubernetes/client-node';
import { FakeAwsEndpoint } from '../harness/aws/index.js';
import { authorizeEcrPull } from '../harness/aws/ecr-registry-auth.js';
import { EatrProcess } from '../harness/eatr-process.js';
import {
  apiOutcome as outcome,
  harness,
  kubeClients,
  kubeconfigForServiceAccount,
  uniqueName,
  type KubeClients,
} from '../harness/index.js';
import { ChartRelease } from './support/chart-release.js';

// Argo CD repository credentials (config.argoCd.registries): the chart installed into the real API
// server with its RBAC and admission policies, in the least-privilege mode (config.servedNamespaces,
// which Argo CD's namespace joins), both components running with the chart's tokens. eatr keeps one
// repo-creds Secret per configured registry in Argo CD's namespace, with the token its pull Secrets
// carry, renews both together, and never touches Argo CD's own Secrets.

const KEYS = {
  accessKeyId: 'AKIAARGOCDREPOCREDS1',
  secretAccessKey: 'argocd-repo-creds-secret/abcdefghijk',
  accountId: '555000444333',
};
const NEW_KEYS = { ...KEYS, accessKeyId: 'AKIAARGOCDREPOCREDS2', secretAccessKey: 'rotated/abc' };
const REGISTRY = `${KEYS.accountId}.dkr.ecr.eu-west-1.amazonaws.com`;
const REPO_CREDS = `eatr-repo-creds-${REGISTRY}`;

let admin: KubeClients;
let release: ChartRelease;
let installed: ChartRelease | undefined;
let aws: FakeAwsEndpoint;
let argocd: string;
let team: string;
const processes: EatrProcess[] = [];

const field = (secret: V1Secret | undefined, key: string) =>
  Buffer.from(secret?.data?.[key] ?? '', 'base64').toString('utf8');

/** The password in a namespace's pull Secret for REGISTRY. */
async function pullPassword(namespace: string): Promise<string> {
  const secret = await admin.core.readNamespacedSecret({ namespace, name: REGISTRY });
  const config = JSON.parse(field(secret, '.dockerconfigjson')) as {
    auths: Record<string, { password: string }>;
  };
  return config.auths[REGISTRY]?.password ?? '';
}

const repoCreds = () =>
  admin.core.readNamespacedSecret({ namespace: argocd, name: REPO_CREDS }).catch(() => undefined);

/** What ECR answers a client that logs in with the Secret's username and password. */
function ecrDecision(secret: V1Secret | undefined) {
  const basic = Buffer.from(`${field(secret, 'username')}:${field(secret, 'password')}`);
  return authorizeEcrPull(
    `Basic ${basic.toString('base64')}`,
    REGISTRY,
    aws.issuedTokens(),
    new Set(),
    Date.now(),
  ).reason;
}

async function start(component: 'watcher' | 'renewer'): Promise<EatrProcess> {
  const kubeconfig = await kubeconfigForServiceAccount(
    release.namespace,
    `${release.name}-${component}`,
  );
  const started = await EatrProcess.start(component, {
    env: {
      ...(await release.env(component)),
      ...aws.env(),
      KUBECONFIG: kubeconfig,
      POD_NAME: `${component}-argocd`,
      EATR_METRICS_PORT: '0',
      EATR_METRICS_HOST: '127.0.0.1',
      // Each sync's decisions ('sync done' with its actions) are debug lines.
      EATR_LOG_LEVEL: 'debug',
    },
  });
  processes.push(started);
  return started;
}

beforeAll(async () => {
  admin = kubeClients(harness().kubeconfigPath);
  aws = await FakeAwsEndpoint.start({ credentials: [KEYS] });
  [argocd, team] = [uniqueName('argocd'), uniqueName('argo-team')];
  for (const name of [argocd, team]) {
    await admin.core.createNamespace({ body: { metadata: { name } } });
    // No controller-manager here: the default ServiceAccount is the test's to create.
    await admin.core.createNamespacedServiceAccount({
      namespace: name,
      body: { metadata: { name: 'default' } },
    });
  }
  // Argo CD's own repository Secret: eatr must leave it exactly as it is.
  await admin.core.createNamespacedSecret({
    namespace: argocd,
    body: {
      metadata: {
        name: 'private-git',
        labels: { 'argocd.argoproj.io/secret-type': 'repository' },
      },
      stringData: { url: 'https://git.example.com/team.git', password: 'git-token' },
    },
  });
  release = installed = await ChartRelease.install('eatr-argocd', {
    config: { servedNamespaces: [team], argoCd: { registries: [REGISTRY], namespace: argocd } },
  });
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
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await installed?.uninstall();
  await aws.stop();
});

describe('config.argoCd.registries: Argo CD repository credentials for ECR', () => {
  it("keeps a repo-creds Secret in Argo CD's namespace with the pull Secrets' live token, renews them together, and touches nothing of Argo CD's", async () => {
    const renewer = await start('renewer');
    const watcher = await start('watcher');
    await watcher.waitForLog((l) => l.msg === 'became leader', 30_000);
    const labelled = await admin.core.readNamespace({ name: team });
    await admin.core.replaceNamespace({
      name: team,
      body: { ...labelled, metadata: { ...labelled.metadata, labels: { [REGISTRY]: 'true' } } },
    });

    await expect.poll(repoCreds, { timeout: 30_000, interval: 200 }).toBeDefined();
    const first = await repoCreds();
    expect(first?.type).toBe('Opaque');
    expect(first?.metadata?.labels).toMatchObject({
      'argocd.argoproj.io/secret-type': 'repo-creds',
      'app.kubernetes.io/managed-by': 'eatr',
      'eatr.io/instance': release.name,
    });
    // What Argo CD reads: a Helm OCI repository prefix, and credentials ECR accepts for it.
    expect(['url', 'type', 'enableOCI', 'username'].map((k) => field(first, k))).toEqual([
      REGISTRY,
      'helm',
      'true',
      'AWS',
    ]);
    expect(ecrDecision(first)).toBe('accepted');
    await expect
      .poll(() => pullPassword(team).catch(() => ''), { timeout: 30_000 })
      .toBe(field(first, 'password'));
    expect(aws.callCount({ action: 'GetAuthorizationToken' })).toBe(1);

    // A renewer that did not write it (a restart, another replica) sees it in its watch caches: a
    // sync with nothing due leaves it, with no write to try.
    await renewer.stop();
    const replica = await start('renewer');
    const queue = new Queue(QUEUE_NAME, {
      connection: { url: harness().redisUrl },
      prefix: release.prefix,
    });
    try {
      const syncsOfArgoCd = () =>
        replica.logs.filter((l) => l.msg === LogMessage.syncDone && l.namespace === argocd);
      const before = syncsOfArgoCd().length;
      await enqueueSync(queue, { namespace: argocd, reason: 'namespace', waitFor: [] });
      await expect.poll(() => syncsOfArgoCd().length, { timeout: 30_000 }).toBeGreaterThan(before);
      const done = syncsOfArgoCd().at(-1);
      expect(done?.actions).toEqual({ leave: 1 });
    } finally {
      await queue.close();
    }

    // New keys: both Secrets are renewed with one token, issued to the new key.
    aws.addCredentials(NEW_KEYS);
    const credentials = await admin.core.readNamespacedSecret({
      namespace: release.host,
      name: `eatr-aws-credentials-${REGISTRY}`,
    });
    await admin.core.replaceNamespacedSecret({
      namespace: release.host,
      name: `eatr-aws-credentials-${REGISTRY}`,
      body: {
        ...credentials,
        data: undefined,
        stringData: {
          aws_access_key_id: NEW_KEYS.accessKeyId,
          aws_secret_access_key: NEW_KEYS.secretAccessKey,
        },
      },
    });
    aws.removeCredentials(KEYS.accessKeyId);
    await expect
      .poll(async () => field(await repoCreds(), 'password'), { timeout: 30_000, interval: 200 })
      .not.toBe(field(first, 'password'));
    const renewed = await repoCreds();
    expect(renewed?.metadata?.uid).toBe(first?.metadata?.uid);
    const issuer = aws.issuedTokens().find((t) => t.password === field(renewed, 'password'));
    expect(issuer?.accessKeyId).toBe(NEW_KEYS.accessKeyId);
    await expect
      .poll(() => pullPassword(team), { timeout: 30_000 })
      .toBe(field(renewed, 'password'));

    // Argo CD's own Secret and its namespace's ServiceAccount are as they were.
    const own = await admin.core.readNamespacedSecret({ namespace: argocd, name: 'private-git' });
    expect(field(own, 'password')).toBe('git-token');
    expect(own.metadata?.labels).toEqual({ 'argocd.argoproj.io/secret-type': 'repository' });
    const sa = await admin.core.readNamespacedServiceAccount({
      namespace: argocd,
      name: 'default',
    });
    expect(sa.imagePullSecrets ?? []).toEqual([]);

    // The chart's admission policy lets the renewer write repo-creds only in Argo CD's namespace.
    const token = kubeClients(
      await kubeconfigForServiceAccount(release.namespace, `${release.name}-renewer`),
    );
    expect(
      await outcome(
        token.core.createNamespacedSecret({
          namespace: team,
          dryRun: 'All',
          body: {
            metadata: {
              name: 'repo-creds-elsewhere',
              labels: {
                'argocd.argoproj.io/secret-type': 'repo-creds',
                'app.kubernetes.io/managed-by': 'eatr',
                'eatr.io/instance': release.name,
              },
            },
            type: 'Opaque',
          },
        }),
      ),
    ).toBe(403);

    const refused = [...watcher.lines, ...renewer.lines, ...replica.lines].filter((l) =>
      /forbidden/i.test(l),
    );
    expect(refused).toEqual([]);
  }, 150_000);
});
