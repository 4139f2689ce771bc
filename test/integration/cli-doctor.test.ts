import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CHART, KUBE_VERSION, helm, parseRendered } from '../chart/support.js';
import { RedisServer, harness, kubeClients, uniqueName } from '../harness/index.js';
import { eatrCli } from './support/eatr-cli.js';
import { Scenario, leaseEnv, registry } from './support/scenario.js';

// `eatr doctor` run as a user runs it (the built CLI) against the real kube-apiserver (its
// authorizer answers the access reviews), Redis, the ECR endpoint and eatr processes.

const EU = registry('eu-west-1');
const US = registry('us-east-1');
const AP = registry('ap-southeast-2');

interface Check {
  id: string;
  ok: boolean;
  message: string;
  fix?: string;
}

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.create();
});
afterEach(async () => {
  await s.close();
});

/**
 * The chart's admission policies for release `release` (its instance), created in the API server as
 * `helm install` would; returns a function that deletes them.
 */
async function installAdmissionPolicies(release: string): Promise<() => Promise<void>> {
  const rendered = await helm([
    'template',
    release,
    CHART,
    '--kube-version',
    KUBE_VERSION,
    '--api-versions',
    'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy',
    '--show-only',
    'templates/renewer-secrets-admissionpolicy.yaml',
    '--show-only',
    'templates/renewer-secrets-admissionpolicybinding.yaml',
    '--show-only',
    'templates/renewer-serviceaccounts-admissionpolicy.yaml',
    '--show-only',
    'templates/renewer-serviceaccounts-admissionpolicybinding.yaml',
  ]);
  if (rendered.code !== 0) throw new Error(rendered.stderr);
  const objects = KubernetesObjectApi.makeApiClient(
    kubeClients(harness().kubeconfigPath).kubeConfig,
  );
  const created: KubernetesObject[] = [];
  for (const { source: _source, ...object } of parseRendered(rendered.stdout))
    created.push(await objects.create(object));
  return async () => {
    for (const object of created.reverse()) await objects.delete(object).catch(() => undefined);
  };
}

async function doctor(args: string[] = [], env: Record<string, string> = {}) {
  const result = await eatrCli(['doctor', '-o', 'json', ...args], s.env(env));
  expect(result.stderr).toBe('');
  const report = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
  return { code: result.code, report, byId: new Map(report.checks.map((c) => [c.id, c])) };
}

describe('eatr doctor', () => {
  it('passes every check on a working installation, and gets a real token per credential Secret', async () => {
    // A release of its own: its instance, and the chart's admission policies for it.
    const release = uniqueName('doctor');
    const removePolicies = await installAdmissionPolicies(release);
    const lease = { ...leaseEnv('doctor-ok'), EATR_INSTANCE: release };
    try {
      await s.createCredentialSecret(EU);
      await s.start('renewer', { EATR_INSTANCE: release });
      await s.start('watcher', lease);
      const ns = await s.createNamespace('doc', [EU]);
      await s.waitForSecret(ns, EU);
      const secretsBefore = await s.core.listNamespacedSecret({ namespace: ns });
      const calls = s.aws.callCount({ action: 'GetAuthorizationToken' });

      // -n: this namespace's registries only (other tests' namespaces share the cluster).
      const { code, report, byId } = await doctor(['-n', ns], lease);
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(code).toBe(0);
      expect([...byId.keys()]).toEqual([
        'api-server',
        'kubernetes-version',
        'clock-skew',
        'rbac-watcher',
        'rbac-renewer',
        'admission-policy',
        'redis',
        'redis-eviction',
        'redis-memory',
        'queue-failed',
        'queue-stalled',
        'renewers',
        'sweep-scheduler',
        'watcher-lease',
        `credentials:${EU}`,
        `access:${EU}`,
      ]);
      // The release's default (every namespace) lets this one use EU's credentials.
      // The run's API server is the tested 1.34.
      expect(byId.get('kubernetes-version')?.message).toMatch(
        /^Kubernetes v1\.34\.\d+ is supported \(1\.25\+; tested on 1\.34\)$/,
      );
      expect(byId.get(`access:${EU}`)?.message).toBe(
        `namespace ${ns} may use the credentials of ${EU} (the release's default --default-allowed-namespaces=* (every namespace))`,
      );
      expect(byId.get('admission-policy')?.message).toBe(
        `admission policies ${release}-eatr-renewer-secrets and ${release}-eatr-renewer-serviceaccounts are bound (Deny) for instance ${release}`,
      );
      // The test's redis-server has no maxmemory: the figure, without a share.
      expect(byId.get('redis-memory')?.message).toMatch(
        /^Redis uses \d+\.\d MiB \(no maxmemory\)$/,
      );
      expect(byId.get(`credentials:${EU}`)?.message).toMatch(
        /ECR token for account 123456789012 in eu-west-1, expires in 1[12]h\d+m \(direct\)$/,
      );
      // It asked ECR, and wrote nothing.
      expect(s.aws.callCount({ action: 'GetAuthorizationToken' })).toBe(calls + 1);
      const secretsAfter = await s.core.listNamespacedSecret({ namespace: ns });
      expect(secretsAfter.items.map((x) => x.metadata?.resourceVersion)).toEqual(
        secretsBefore.items.map((x) => x.metadata?.resourceVersion),
      );

      const text = await eatrCli(['doctor', '-n', ns], s.env(lease));
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(
        /^\u2714 API server https:\/\/127\.0\.0\.1:\d+ reachable \(Kubernetes v1\.\d+/,
      );
      expect(text.stdout).toContain('\u2714 Redis maxmemory-policy is noeviction');
      expect(text.stdout.trimEnd().split('\n').at(-1)).toBe('All 16 checks passed.');
    } finally {
      await removePolicies();
    }
  });

  it('finds each broken input and says how to fix it: no RBAC, a bad Redis policy, bad and missing credentials, a stopped watcher', async () => {
    const lease = leaseEnv('doctor-broken');
    // Keys the ECR endpoint does not know, a Secret without its secret key, a registry with none.
    await s.createCredentialSecret(EU, {
      accessKeyId: 'AKIAEATRUNKNOWNKEY01',
      secretAccessKey: 'not-a-key-aws-knows/0123456789abcdef',
    });
    await s.core.createNamespacedSecret({
      namespace: s.hostNamespace,
      body: {
        metadata: { name: `eatr-aws-credentials-${US}` },
        stringData: { aws_access_key_id: 'AKIAEATRTESTKEY00001' },
      },
    });
    await s.createNamespace('needs-ap', [AP]);
    await s.core.createNamespacedServiceAccount({
      namespace: s.hostNamespace,
      body: { metadata: { name: 'nobody' } },
    });
    const watcher = await s.start('watcher', lease);
    await s.waitFor('the watcher to lead', async () => {
      const { byId } = await doctor([], lease);
      return byId.get('watcher-lease')?.ok === true || undefined;
    });
    await watcher.stop();

    const evicting = await RedisServer.start();
    const admin = new Redis(evicting.url);
    try {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const nobody = `${s.hostNamespace}/nobody`;
      const { code, byId } = await doctor(
        ['--watcher-service-account', nobody, '--renewer-service-account', nobody],
        { ...lease, EATR_REDIS_URL: evicting.url },
      );
      expect(code).toBe(1);
      expect(byId.get('api-server')?.ok).toBe(true);
      expect(byId.get('rbac-watcher')).toMatchObject({ ok: false });
      expect(byId.get('rbac-watcher')?.message).toContain(
        `ServiceAccount ${nobody} may not list namespaces, watch namespaces`,
      );
      expect(byId.get('rbac-renewer')?.message).toContain('create secrets');
      // No policy guards this instance's renewer: RBAC alone.
      expect(byId.get('admission-policy')).toMatchObject({ ok: false });
      expect(byId.get('admission-policy')?.message).toContain(
        "no ValidatingAdmissionPolicy guards the renewer's Secret writes for instance eatr",
      );
      expect(byId.get('redis-eviction')).toMatchObject({
        ok: false,
        message: 'Redis maxmemory-policy is allkeys-lru: Redis may evict queued jobs',
      });
      expect(byId.get('redis-eviction')?.fix).toContain('noeviction');
      expect(byId.get('renewers')).toMatchObject({ ok: false });
      expect(byId.get('watcher-lease')).toMatchObject({ ok: false });
      expect(byId.get('watcher-lease')?.message).toContain('no watcher holds the Lease');
      expect(byId.get(`credentials:${EU}`)).toMatchObject({ ok: false });
      expect(byId.get(`credentials:${EU}`)?.message).toContain('ECR refused (invalid-credentials');
      expect(byId.get(`credentials:${US}`)?.message).toContain('aws_secret_access_key');
      expect(byId.get(`credentials:${AP}`)).toMatchObject({
        ok: false,
        message: `no credential Secret ${s.hostNamespace}/eatr-aws-credentials-${AP} for ${AP}, which 1 namespace asks for`,
      });
      // Each failure comes with a fix.
      for (const check of byId.values()) if (!check.ok) expect(check.fix, check.id).toBeTruthy();
    } finally {
      admin.disconnect();
      await evicting.stop();
    }
  });
});
