import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dashboardQueries } from '../chart/promql.js';
import { inject } from 'vitest';
import {
  addCredentials,
  issuedSessions,
  nodeMemoryMiB,
  registryAccesses,
  revokeToken,
  setTokenLifetime,
} from './harness/provided.js';
import {
  apply,
  chartPath,
  describeCluster,
  eventually,
  podRunning,
  helm,
  isReady,
  kubectl,
  kubectlJson,
  releaseValues,
  repoRoot,
} from './support/kube.js';
import type { PodList } from './support/kube.js';
import { startPrometheus, type PromSeries } from './support/prometheus.js';

// As docs/deploy.md installs it: the host namespace `ci-cd` holds the release and the credential
// Secret, and enforces Pod Security `restricted`, so every Pod of the chart must meet it.
const RELEASE_NAMESPACE = 'ci-cd';

async function chartPods(): Promise<PodList['items']> {
  const pods = await kubectlJson<PodList>([
    'get',
    'pods',
    '-n',
    RELEASE_NAMESPACE,
    '-l',
    'app.kubernetes.io/instance=eatr',
  ]);
  return pods.items;
}

const component = (pod: PodList['items'][number]) =>
  pod.metadata.labels?.['app.kubernetes.io/component'] ?? '?';

describe('helm install eatr on a real node', () => {
  const ecr = inject('e2eEcr');
  const images = inject('e2eImages');
  let installSeconds = 0;

  beforeAll(async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: RELEASE_NAMESPACE,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    });
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `eatr-aws-credentials-${ecr.registry}`, namespace: RELEASE_NAMESPACE },
      stringData: {
        aws_access_key_id: ecr.accessKeyId,
        aws_secret_access_key: ecr.secretAccessKey,
      },
    });
    const started = performance.now();
    try {
      // Defaults, except where the images are and where ECR and STS are, and Redis over TLS (the
      // chart's option, so every scenario below runs over it; upgrade.test.ts runs the default).
      await helm([
        'install',
        'eatr',
        chartPath,
        '--namespace',
        RELEASE_NAMESPACE,
        '--wait',
        '--timeout',
        '5m',
        ...releaseValues(images.eatr),
        '--set',
        'redis.tls.enabled=true',
        // Argo CD repository credentials for the ECR-named registry, in namespace `argocd`.
        '--set',
        `config.argoCd.registries[0]=${ecr.registry}`,
        // Pods stuck before their namespace's Secret existed are recreated.
        '--set',
        'renewer.recoverStuckPods=true',
      ]);
    } catch (error) {
      console.error(await describeCluster());
      throw error;
    }
    installSeconds = Math.round((performance.now() - started) / 1000);
    console.log(`[e2e] helm install --wait took ${installSeconds} s`);
  });

  it('becomes Ready: one leading watcher, two renewers and Redis, probes passing, no restarts', async () => {
    const pods = await eventually('every chart Pod Ready', async () => {
      const items = await chartPods();
      return items.length === 4 && items.every(isReady) ? items : undefined;
    });
    const counts = new Map<string, number>();
    for (const pod of pods) counts.set(component(pod), (counts.get(component(pod)) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ watcher: 1, renewer: 2, redis: 1 });
    for (const pod of pods) {
      for (const status of pod.status.containerStatuses ?? []) {
        expect({ pod: pod.metadata.name, restarts: status.restartCount }).toEqual({
          pod: pod.metadata.name,
          restarts: 0,
        });
      }
    }
    const watcher = pods.find((p) => component(p) === 'watcher');
    const lease = await eventually('the watcher holds the leader Lease', async () => {
      const l = await kubectlJson<{ spec: { holderIdentity?: string } }>([
        'get',
        'lease',
        'eatr-watcher',
        '-n',
        RELEASE_NAMESPACE,
      ]);
      return l.spec.holderIdentity;
    });
    // client-go style identity: `<pod name>_<random>`.
    expect(lease.split('_')[0]).toBe(watcher?.metadata.name);
    console.log(`[e2e] node resident memory with eatr installed: ${await nodeMemoryMiB()} MiB`);
  });

  it("runs Redis over TLS with the password it generated: a client without either is refused, eatr's pods use both", async () => {
    const redis = (await chartPods()).find((p) => component(p) === 'redis');
    // The exit status is not the point (a refused connection exits 1): what Redis answered is.
    const ping = (options: string, env = '') =>
      kubectl(
        [
          'exec',
          '-i',
          '-n',
          RELEASE_NAMESPACE,
          redis?.metadata.name ?? '',
          '-c',
          'redis',
          '--',
          'sh',
        ],
        `${env} redis-cli -p 6379 ${options} PING 2>&1; true\n`,
      ).then((out) => out.trim());
    const auth = 'REDISCLI_AUTH="$REDIS_PASSWORD"';
    const tls = '--tls --cacert /tls/ca.crt';
    // Plain TCP, even with the password, gets no Redis answer at all: the port speaks TLS only.
    for (const env of ['', auth]) expect(await ping('', env)).not.toMatch(/PONG|NOAUTH|WRONGPASS/);
    // TLS without the password: refused.
    expect(await ping(tls)).toMatch(/NOAUTH Authentication required/);
    expect(await ping(tls, auth)).toBe('PONG');
    const secret = await kubectlJson<{ data: { password: string } }>([
      'get',
      'secret',
      'eatr-redis-auth',
      '-n',
      RELEASE_NAMESPACE,
    ]);
    expect(Buffer.from(secret.data.password, 'base64').toString().length).toBe(40);
  });

  it('serves a labelled namespace: a Pod pulls from the ECR-named registry with the default ServiceAccount', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { [ecr.registry]: 'true' } },
    });
    const pullSecrets = await eventually(
      'team-a default ServiceAccount has eatr Secret',
      async () => {
        const sa = await kubectlJson<{ imagePullSecrets?: Array<{ name: string }> }>([
          'get',
          'serviceaccount',
          'default',
          '-n',
          'team-a',
        ]);
        return sa.imagePullSecrets?.length ? sa.imagePullSecrets : undefined;
      },
    );
    expect(pullSecrets).toEqual([{ name: ecr.registry }]);
    await apply(appPod('team-a'));
    const pod = await podRunning('team-a', 'app');
    expect(pod.spec.containers[0]?.image).toBe(ecr.image);
    const accesses = await registryAccesses();
    expect(accesses.some((a) => a.reason === 'accepted' && a.path.includes('/manifests/v1'))).toBe(
      true,
    );
  });

  it('does not serve an unlabelled namespace: the same Pod fails to pull, unauthorized', async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } });
    await eventually('team-b default ServiceAccount', () =>
      kubectl(['get', 'serviceaccount', 'default', '-n', 'team-b']).then(() => true),
    );
    await apply(appPod('team-b'));
    const waiting = await eventually('the team-b Pod fails to pull', async () => {
      const p = await kubectlJson<PodList['items'][number]>(['get', 'pod', 'app', '-n', 'team-b']);
      const w = p.status.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'ErrImagePull' || w?.reason === 'ImagePullBackOff' ? w : undefined;
    });
    const events = await kubectl([
      'get',
      'events',
      '-n',
      'team-b',
      '--field-selector',
      'involvedObject.name=app,reason=Failed',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    expect(`${waiting.message ?? ''} ${events}`).toMatch(/401 Unauthorized|unauthorized/i);
    const secrets = await kubectl(['get', 'secrets', '-n', 'team-b', '-o', 'name']);
    expect(secrets).not.toContain(ecr.registry);
  });
});

describe('ECR Public', () => {
  it("serves public.ecr.aws from the ecr-public API: a Pod pulls from the registry answering as public.ecr.aws with eatr's Secret", async () => {
    const ecr = inject('e2eEcr');
    const PUBLIC = 'public.ecr.aws';
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `eatr-aws-credentials-${PUBLIC}`, namespace: RELEASE_NAMESPACE },
      stringData: {
        aws_access_key_id: ecr.accessKeyId,
        aws_secret_access_key: ecr.secretAccessKey,
      },
    });
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-p', labels: { [PUBLIC]: 'true' } },
    });
    const password = await eventually('team-p gets its public.ecr.aws Secret', async () => {
      const p = await pullPassword('team-p', PUBLIC).catch(() => '');
      return p === '' ? undefined : p;
    });
    await eventually('team-p default ServiceAccount has the Secret', async () => {
      const sa = await kubectlJson<{ imagePullSecrets?: Array<{ name: string }> }>([
        'get',
        'serviceaccount',
        'default',
        '-n',
        'team-p',
      ]);
      return sa.imagePullSecrets?.some((r) => r.name === PUBLIC) ? true : undefined;
    });
    const since = new Date().toISOString();
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app', namespace: 'team-p' },
      spec: {
        containers: [
          {
            name: 'app',
            image: `${PUBLIC}/${ecr.image.split('/').slice(1).join('/')}`,
            imagePullPolicy: 'Always',
          },
        ],
        terminationGracePeriodSeconds: 1,
      },
    });
    await podRunning('team-p', 'app', 'the team-p Pod Running (pulled from public.ecr.aws)');
    // The front let the pull through with that token, an ECR Public one (a private registry's
    // token is refused there: authorizeEcrPull checks the token's registry).
    const accepted = (await registryAccesses()).filter(
      (a) => a.at >= since && a.reason === 'accepted' && a.path.includes('/manifests/'),
    );
    expect(accepted.length).toBeGreaterThan(0);
    expect(password).not.toBe(await pullPassword('team-a', ecr.registry).catch(() => ''));
  });
});

describe('Argo CD repository credentials', () => {
  it("helm pull oci:// with the username and password of eatr's repo-creds Secret works against the ECR-named registry; an expired token is refused", async () => {
    const ecr = inject('e2eEcr');
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } });
    const name = `eatr-repo-creds-${ecr.registry}`;
    const secret = await eventually('argocd gets its repo-creds Secret', () =>
      kubectlJson<{
        type: string;
        data: Record<string, string>;
        metadata: { labels: Record<string, string> };
      }>(['get', 'secret', name, '-n', 'argocd']).catch(() => undefined),
    );
    const field = (key: string) => Buffer.from(secret.data[key] ?? '', 'base64').toString('utf8');
    expect(secret.type).toBe('Opaque');
    expect(secret.metadata.labels['argocd.argoproj.io/secret-type']).toBe('repo-creds');
    expect([field('url'), field('type'), field('enableOCI')]).toEqual([
      ecr.registry,
      'helm',
      'true',
    ]);

    // As Argo CD does for an OCI Helm repository: log in with the Secret's credentials, pull.
    const work = await mkdtemp(join(tmpdir(), 'eatr-e2e-helm-'));
    const registryConfig = ['--registry-config', join(work, 'registry.json')];
    const tls = ['--ca-file', ecr.caCertPath];
    const login = (password: string) =>
      helm(
        [
          'registry',
          'login',
          field('url'),
          '--username',
          field('username'),
          '--password-stdin',
          ...tls,
          ...registryConfig,
        ],
        password,
      );
    try {
      await helm(['create', join(work, 'hello')]);
      await helm(['package', join(work, 'hello'), '--version', '0.1.0', '--destination', work]);
      await login(field('password'));
      await helm([
        'push',
        join(work, 'hello-0.1.0.tgz'),
        `oci://${field('url')}/charts`,
        ...tls,
        ...registryConfig,
      ]);
      await rm(join(work, 'registry.json'));

      const since = new Date().toISOString();
      await mkdir(join(work, 'pulled'));
      await login(field('password'));
      await helm([
        'pull',
        `oci://${field('url')}/charts/hello`,
        '--version',
        '0.1.0',
        '--destination',
        join(work, 'pulled'),
        ...tls,
        ...registryConfig,
      ]);
      expect(await readdir(join(work, 'pulled'))).toEqual(['hello-0.1.0.tgz']);
      const accepted = (await registryAccesses()).filter(
        (a) => a.at >= since && a.reason === 'accepted' && a.path.includes('/charts/hello/'),
      );
      expect(accepted.length).toBeGreaterThan(0);

      // A token of the same account and region that has expired: the registry refuses it.
      const expired = await expiredEcrPassword();
      await rm(join(work, 'registry.json'), { force: true });
      await expect(login(expired)).rejects.toThrow(/401|unauthorized/i);
      const refused = (await registryAccesses()).filter((a) => a.reason === 'expired-token');
      expect(refused.length).toBeGreaterThan(0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('Pods created before the label', () => {
  it("a Deployment's stuck Pod is recreated and runs seconds after the label; a bare one is left alone, reported, and eatr why tells its fix", async () => {
    const ecr = inject('e2eEcr');
    const NS = 'team-stuck';
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await eventually('the default ServiceAccount of team-stuck', () =>
      kubectlJson(['get', 'serviceaccount', 'default', '-n', NS]).catch(() => undefined),
    );
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'app' } },
        template: {
          metadata: { labels: { app: 'app' } },
          spec: {
            containers: [{ name: 'app', image: ecr.image, imagePullPolicy: 'Always' }],
            terminationGracePeriodSeconds: 1,
          },
        },
      },
    });
    await apply(appPod(NS, 'bare'));
    // The kubelet tries, is refused (no credentials) and backs off: both Pods are stuck.
    const stuck = () =>
      kubectlJson<PodList>(['get', 'pods', '-n', NS]).then((l) =>
        l.items.filter((p) =>
          ['ErrImagePull', 'ImagePullBackOff'].includes(
            p.status.containerStatuses?.[0]?.state?.waiting?.reason ?? '',
          ),
        ),
      );
    await eventually('both Pods stuck pulling', async () =>
      (await stuck()).length === 2 ? true : undefined,
    );

    const labelled = performance.now();
    await kubectl(['label', 'namespace', NS, `${ecr.registry}=true`]);
    const running = await eventually('the Deployment runs a Pod', async () => {
      const pods = await kubectlJson<PodList>(['get', 'pods', '-n', NS, '-l', 'app=app']);
      return pods.items.find((p) => p.status.phase === 'Running');
    });
    const seconds = ((performance.now() - labelled) / 1000).toFixed(1);
    console.log(`[figure] stuck Deployment: label -> Running ${seconds} s (recovery on)`);
    const recreated = await kubectl([
      'get',
      'events',
      '-n',
      NS,
      '--field-selector',
      'reason=StuckPodRecreated',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    expect(recreated).toContain('could not pull its image');
    expect(running.metadata.name).not.toBe('bare');

    // The bare Pod: left alone (still stuck: a Pod takes its ServiceAccount's entries only when
    // created), one Warning Event, and eatr why names the fix.
    const left = await eventually('a StuckPodLeft Event', async () => {
      const text = await kubectl([
        'get',
        'events',
        '-n',
        NS,
        '--field-selector',
        'reason=StuckPodLeft',
        '-o',
        'jsonpath={.items[*].message}',
      ]);
      return text.trim() === '' ? undefined : text;
    });
    expect(left).toContain('Pod bare');
    expect((await stuck()).map((p) => p.metadata.name)).toEqual(['bare']);
    console.log(
      `[figure] the bare Pod (not recreated): still stuck ${((performance.now() - labelled) / 1000).toFixed(1)} s after the label`,
    );
    console.log(`[figure] eatr why bare -n ${NS}:\n${await eatrCli(['why', 'bare', '-n', NS])}`);
    const { checks } = JSON.parse(await eatrCli(['why', 'bare', '-n', NS, '-o', 'json'])) as {
      checks: { id: string; ok: boolean; message: string; fix?: string }[];
    };
    // The registry's check says why (and the kubelet's own ErrImagePull or back-off follows it).
    const registryCheck = checks.find((c) => c.id === `image:${ecr.image}`);
    expect(registryCheck?.message).toContain(
      'it was created before ServiceAccount default got the entry',
    );
    expect(registryCheck?.fix).toContain('delete the Pod');
    expect(
      checks.some(
        (c) => c.id.startsWith('kubelet:') && /ErrImagePull|ImagePullBackOff/.test(c.message),
      ),
    ).toBe(true);
  });
});

describe('token rotation', () => {
  it('after eatr renews and the registry revokes the old token, a new Pod still pulls', async () => {
    const ecr = inject('e2eEcr');
    const initial = await pullPassword('team-a', ecr.registry);
    // Short-lived tokens from now on, and sweeps often enough to renew them at half their life
    // (the chart's watcher.sweepInterval; renewals happen on sweeps).
    await setTokenLifetime(90_000);
    await helm([
      'upgrade',
      'eatr',
      chartPath,
      '--namespace',
      RELEASE_NAMESPACE,
      '--reuse-values',
      '--set',
      'watcher.sweepInterval=10s',
      '--wait',
      '--timeout',
      '5m',
    ]);
    // The user rotates the access key: eatr fetches a token with the new key at once.
    await addCredentials('AKIAE2ETESTKEY000002', 'e2e-rotated-secret-access-key-000000000000');
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `eatr-aws-credentials-${ecr.registry}`, namespace: RELEASE_NAMESPACE },
      stringData: {
        aws_access_key_id: 'AKIAE2ETESTKEY000002',
        aws_secret_access_key: 'e2e-rotated-secret-access-key-000000000000',
      },
    });
    const rotated = await eventually('team-a Secret holds a token of the new key', async () => {
      const password = await pullPassword('team-a', ecr.registry);
      return password !== initial ? password : undefined;
    });
    // Nobody touches anything now: eatr renews the 90-second token on its own before it expires.
    const renewed = await eventually(
      'eatr renews the short-lived token',
      async () => {
        const password = await pullPassword('team-a', ecr.registry);
        return password !== rotated && password !== initial ? password : undefined;
      },
      150_000,
    );
    await revokeToken(initial);
    await revokeToken(rotated);
    const revokedAt = new Date().toISOString();
    await apply(appPod('team-a', 'app-after-rotation'));
    await podRunning('team-a', 'app-after-rotation', 'the new Pod Running');
    const after = (await registryAccesses()).filter((a) => a.at >= revokedAt);
    expect(after.some((a) => a.reason === 'accepted')).toBe(true);
    expect(renewed).not.toBe(rotated);
  });
});

describe('scaling and faults on real Pods', () => {
  it('4 renewers and 2 watchers; the leading watcher and a renewer Pod are deleted during a 200-namespace burst; every namespace converges', async () => {
    const ecr = inject('e2eEcr');
    await helm([
      'upgrade',
      'eatr',
      chartPath,
      '--namespace',
      RELEASE_NAMESPACE,
      '--reuse-values',
      '--set',
      'renewer.replicas=4',
      '--set',
      'watcher.replicas=2',
      '--wait',
      '--timeout',
      '5m',
    ]);
    await eventually('4 renewers and 2 watchers Ready', async () => {
      const pods = (await chartPods()).filter(isReady);
      const renewers = pods.filter((p) => component(p) === 'renewer').length;
      const watchers = pods.filter((p) => component(p) === 'watcher').length;
      return renewers === 4 && watchers === 2 ? true : undefined;
    });
    const leaseHolder = async () =>
      (
        await kubectlJson<{ spec: { holderIdentity?: string } }>([
          'get',
          'lease',
          'eatr-watcher',
          '-n',
          RELEASE_NAMESPACE,
        ])
      ).spec.holderIdentity?.split('_')[0] ?? '';
    const leader = await leaseHolder();
    const names = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
    await apply({
      apiVersion: 'v1',
      kind: 'List',
      items: names.map((name) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { [ecr.registry]: 'true' } },
      })),
    });
    const renewer = (await chartPods()).find((p) => component(p) === 'renewer');
    await kubectl(['delete', 'pod', '-n', RELEASE_NAMESPACE, leader, '--wait=false']);
    await kubectl([
      'delete',
      'pod',
      '-n',
      RELEASE_NAMESPACE,
      renewer?.metadata.name ?? '',
      '--wait=false',
    ]);
    const started = performance.now();
    await eventually(
      'every burst namespace has its Secret',
      async () => {
        const secrets = await kubectl([
          'get',
          'secrets',
          '-A',
          '-l',
          'app.kubernetes.io/managed-by=eatr',
          '-o',
          'jsonpath={range .items[*]}{.metadata.namespace}{"\\n"}{end}',
        ]);
        const served = new Set(secrets.split('\n'));
        const missing = names.filter((n) => !served.has(n));
        if (missing.length > 0) throw new Error(`${missing.length} namespaces without a Secret`);
        return true;
      },
      300_000,
    );
    console.log(
      `[e2e] 200 namespaces served in ${Math.round((performance.now() - started) / 1000)} s with the leader and a renewer deleted`,
    );
    const newLeader = await eventually('a new watcher leads', async () => {
      const holder = await leaseHolder();
      return holder !== '' && holder !== leader ? holder : undefined;
    });
    expect(newLeader).not.toBe(leader);
    // After the fail-over a newly labelled namespace is served as fast as ever.
    const labelled = performance.now();
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'after-failover', labels: { [ecr.registry]: 'true' } },
    });
    await eventually(
      'after-failover gets its Secret',
      async () =>
        (await pullPassword('after-failover', ecr.registry).catch(() => '')) !== ''
          ? true
          : undefined,
      15_000,
    );
    console.log(
      `[e2e] a namespace labelled after the fail-over was served in ${((performance.now() - labelled) / 1000).toFixed(1)} s`,
    );
  });
});

describe('web identity off EKS', () => {
  it('exchanges the projected ServiceAccount token at STS (checked against the cluster OIDC keys); a wrong audience fails clearly', async () => {
    const ecr = inject('e2eEcr');
    // No credential Secret any more: the registry is served with the renewer's own identity.
    await kubectl([
      'delete',
      'secret',
      `eatr-aws-credentials-${ecr.registry}`,
      '-n',
      RELEASE_NAMESPACE,
    ]);
    const upgrade = (...set: string[]) =>
      helm([
        'upgrade',
        'eatr',
        chartPath,
        '--namespace',
        RELEASE_NAMESPACE,
        '--reuse-values',
        ...set.flatMap((value) => ['--set', value]),
        '--wait',
        '--timeout',
        '5m',
      ]);
    await upgrade(
      'aws.usePodIdentity=true',
      `aws.webIdentity.roleArn=${ecr.webIdentityRoleArn}`,
      `aws.region=${ecr.region}`,
    );
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-w', labels: { [ecr.registry]: 'true' } },
    });
    try {
      await eventually(
        'team-w gets its Secret',
        async () =>
          (await pullPassword('team-w', ecr.registry).catch(() => '')) !== '' ? true : undefined,
        120_000,
      );
    } catch (error) {
      console.error(await describeCluster(RELEASE_NAMESPACE));
      console.error(
        await kubectl([
          'logs',
          '-n',
          RELEASE_NAMESPACE,
          '-l',
          'app.kubernetes.io/component=renewer',
          '--tail=60',
        ]),
      );
      throw error;
    }
    expect((await issuedSessions()).some((s) => s.roleArn === ecr.webIdentityRoleArn)).toBe(true);
    await eventually('team-w default ServiceAccount has the Secret', async () => {
      const sa = await kubectlJson<{ imagePullSecrets?: unknown[] }>([
        'get',
        'serviceaccount',
        'default',
        '-n',
        'team-w',
      ]);
      return sa.imagePullSecrets?.length ? true : undefined;
    });
    await apply(appPod('team-w'));
    await podRunning('team-w', 'app');

    // A token for another audience: STS refuses it, and eatr says so.
    await upgrade('aws.webIdentity.audience=not-sts.example.com');
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-x', labels: { [ecr.registry]: 'true' } },
    });
    const message = await eventually('a Warning Event on team-x', async () => {
      const text = await kubectl([
        'get',
        'events',
        '-A',
        '--field-selector',
        'involvedObject.kind=Namespace,involvedObject.name=team-x,type=Warning',
        '-o',
        'jsonpath={.items[*].message}',
      ]);
      return text.trim() === '' ? undefined : text;
    });
    expect(message).toMatch(/audience|InvalidIdentityToken/i);
    const logs = await kubectl([
      'logs',
      '-n',
      RELEASE_NAMESPACE,
      '-l',
      'app.kubernetes.io/component=renewer',
      '--tail=500',
    ]);
    expect(logs).toMatch(/Incorrect token audience|InvalidIdentityToken/);
  });
});

describe('observability: Prometheus scrapes eatr, the dashboard and the alerts work on live data', () => {
  it('scrapes every eatr Pod; every dashboard query and alert expression evaluates; the expiry alert fires for a Secret that expired', async () => {
    const ecr = inject('e2eEcr');
    const config = scrapeConfig();
    const rendered = await chartAlertRules();
    const rules = rendered.spec.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(0);

    const prometheus = await startPrometheus({
      config: JSON.stringify(config),
      targets: JSON.stringify(await podTargets()),
      rules: JSON.stringify({ groups: rendered.spec.groups }),
      port: 19090,
    });
    try {
      // (1) Every watcher and renewer Pod is a target, and up.
      const pods = (await chartPods()).filter((p) => ['watcher', 'renewer'].includes(component(p)));
      await eventually('every eatr Pod scraped and up', async () => {
        const targets = await prometheus.get<{
          data: { activeTargets: { labels: Record<string, string>; health: string }[] };
        }>('/api/v1/targets?state=active');
        const up = new Set(
          targets.data.activeTargets
            .filter((t) => t.health === 'up')
            .map((t) => t.labels.pod ?? ''),
        );
        return pods.every((p) => up.has(p.metadata.name)) ? true : undefined;
      });
      // rate() and increase() need two samples in their window: wait until every target has them.
      await eventually('two samples of every target in the rate window', async () => {
        const result = await prometheus.query('min(count_over_time(up[1m]))');
        const [sample] = result.status === 'success' ? (result.data.result as PromSeries[]) : [];
        return sample !== undefined && Number(sample.value[1]) >= 2 ? true : undefined;
      });

      // (2) Every query of the shipped dashboard: $registry as "All", $__rate_interval as Grafana
      // would make it for a 2 s scrape interval on a short time range.
      const dashboard = JSON.parse(
        await readFile(join(chartPath, 'dashboards/eatr.json'), 'utf8'),
      ) as unknown;
      const queries = dashboardQueries(dashboard).map(({ where, expr }) => ({
        where,
        expr: expr
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('$registry', '.*')
          .replaceAll('${registry}', '.*'),
      }));
      const empty: string[] = [];
      for (const { where, expr } of queries) {
        const result = await prometheus.query(expr);
        expect(result, `${where}: ${expr}`).toMatchObject({ status: 'success' });
        if (result.status === 'success' && Array.isArray(result.data.result))
          if (result.data.result.length === 0) empty.push(`${where}: ${expr}`);
      }
      console.log(
        `[e2e] ${queries.length} dashboard queries evaluated; without series:\n  ${empty.join('\n  ')}`,
      );

      // (3) Every alert expression evaluates.
      for (const rule of rules) {
        const result = await prometheus.query(rule.expr);
        expect(result, `${rule.alert}: ${rule.expr}`).toMatchObject({ status: 'success' });
      }

      // (4) Since the previous scenario the renewer's identity is refused at STS, so eatr cannot
      // renew, and tokens last 90 s (token rotation): the Secrets expire for real. The expiry
      // alerts' expressions return those Secrets, and the alerts are pending (their `for: 5m` is
      // files/alerts.yaml's, which the chart does not let users change).
      const expiredAlert = await eventually(
        'EatrImagePullSecretExpired pending for team-a',
        async () => {
          return (await prometheus.alerts()).find(
            (a) =>
              a.labels.alertname === 'EatrImagePullSecretExpired' &&
              a.labels.namespace === 'team-a' &&
              a.labels.registry === ecr.registry,
          );
        },
        180_000,
      );
      expect(['pending', 'firing']).toContain(expiredAlert.state);
      const expiredRule = rules.find((r) => r.alert === 'EatrImagePullSecretExpired');
      const expired = await prometheus.query(expiredRule?.expr ?? '');
      expect(
        expired.status === 'success' && Array.isArray(expired.data.result)
          ? (expired.data.result as PromSeries[]).map((s) => s.metric.namespace)
          : [],
      ).toContain('team-a');
      const alerts = await prometheus.alerts();
      const raised = [...new Set(alerts.map((a) => a.labels.alertname))].sort();
      console.log(`[e2e] alerts pending or firing: ${raised.join(', ')}`);
      expect(raised).toEqual(
        expect.arrayContaining([
          'EatrImagePullSecretExpiringSoon',
          'EatrImagePullSecretExpired',
          'EatrCredentialErrors',
        ]),
      );
      // Checked last, so that one run shows every part.
      // Every other query returns series: only these may be empty here.
      expect(empty.filter((q) => !DASHBOARD_QUERIES_WITHOUT_SERIES.includes(q))).toEqual([]);

      // (5) Then it fires, once its `for: 5m` has passed (counted from this Prometheus's first
      // evaluation): the page an on-call engineer would get.
      const started = Date.now();
      await eventually(
        'EatrImagePullSecretExpired firing for team-a',
        async () => {
          return (await prometheus.alerts()).find(
            (a) =>
              a.labels.alertname === 'EatrImagePullSecretExpired' &&
              a.labels.namespace === 'team-a' &&
              a.state === 'firing',
          );
        },
        420_000,
      );
      console.log(
        `[e2e] EatrImagePullSecretExpired firing for team-a, ${Math.round((Date.now() - started) / 1000)} s after the checks above`,
      );
    } finally {
      await prometheus.stop();
    }
  });
});

/** The chart's ServiceMonitor (metrics.serviceMonitor), as a Prometheus config. */
function scrapeConfig() {
  // The scrape config the Prometheus Operator would generate from the ServiceMonitor: Pods of this release, component watcher or
  // renewer, port `metrics`, path /metrics. The chart puts no prometheus.io/* annotations on its
  // Pods (only metrics.service.annotations / *.podAnnotations, empty by default), so selecting by
  // the ServiceMonitor's labels is what a user of the defaults gets. A short interval keeps the
  // test short.
  return {
    global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '2s' },
    rule_files: ['rules.yml'],
    scrape_configs: [
      {
        job_name: 'eatr',
        metrics_path: '/metrics',
        // Debian's Prometheus is built without Kubernetes service discovery ("field
        // kubernetes_sd_configs not found"), so the test does what `role: pod` would: it lists
        // the release namespace's Pods and hands them over with the same __meta_kubernetes_*
        // labels, which the relabelling below then selects as the Operator's config would.
        file_sd_configs: [{ files: ['targets.json'] }],
        relabel_configs: [
          {
            source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'],
            regex: 'eatr',
            action: 'keep',
          },
          {
            source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_instance'],
            regex: 'eatr',
            action: 'keep',
          },
          {
            source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'],
            regex: 'watcher|renewer',
            action: 'keep',
          },
          {
            source_labels: ['__meta_kubernetes_pod_container_port_name'],
            regex: 'metrics',
            action: 'keep',
          },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
          {
            source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'],
            target_label: 'component',
          },
        ],
      },
    ],
  };
}

/**
 * The alert rules as the chart ships them: the PrometheusRule's spec (files/alerts.yaml verbatim),
 * as rendered by helm.
 */
async function chartAlertRules() {
  return parseYaml(
    await helm([
      'template',
      'eatr',
      chartPath,
      '--namespace',
      RELEASE_NAMESPACE,
      // helm template assumes Kubernetes 1.20 unless told; the chart needs 1.25 or later.
      '--kube-version',
      (await kubectlJson<{ serverVersion: { gitVersion: string } }>(['version'])).serverVersion
        .gitVersion,
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--show-only',
      'templates/prometheusrule.yaml',
    ]),
  ) as { spec: { groups: { name: string; rules: { alert: string; expr: string }[] }[] } };
}

/** The release namespace's Pods as Prometheus' `role: pod` discovery labels them, one target per container port. */
async function podTargets(): Promise<{ targets: string[]; labels: Record<string, string> }[]> {
  const pods = await kubectlJson<{
    items: {
      metadata: { name: string; namespace: string; labels?: Record<string, string> };
      spec: { containers: { name: string; ports?: { name?: string; containerPort: number }[] }[] };
      status: { podIP?: string; phase?: string };
    }[];
  }>(['get', 'pods', '-n', RELEASE_NAMESPACE]);
  return pods.items.flatMap((pod) =>
    pod.status.podIP && pod.status.phase === 'Running'
      ? pod.spec.containers.flatMap((container) =>
          (container.ports ?? []).map((port) => ({
            targets: [`${pod.status.podIP}:${port.containerPort}`],
            labels: {
              __meta_kubernetes_namespace: pod.metadata.namespace,
              __meta_kubernetes_pod_name: pod.metadata.name,
              __meta_kubernetes_pod_container_name: container.name,
              __meta_kubernetes_pod_container_port_name: port.name ?? '',
              ...Object.fromEntries(
                Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => [
                  `__meta_kubernetes_pod_label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`,
                  v,
                ]),
              ),
            },
          })),
        )
      : [],
  );
}

/**
 * Dashboard queries that rightly return no series here (prom-client has no series of a labelled
 * counter before its first increment): the renewer Pods started with the refused identity, so none
 * has written a Secret yet; no ownership conflict and no watch restart happened.
 */
const DASHBOARD_QUERIES_WITHOUT_SERIES: readonly string[] = [
  'Secret actions: sum by (action) (increase(eatr_secret_actions_total[1m]))',
  'Secrets written (seed counters): sum(increase(secrets_created_total[1m]))',
  'Ownership conflicts and ignored labels: sum by (namespace) (increase(eatr_ownership_conflicts_total[1m]))',
  'Watch restarts: sum by (resource) (increase(eatr_watch_restarts_total[1m]))',
];

const scaleRenewers = (replicas: number) =>
  kubectl([
    'scale',
    'deployment',
    'eatr-renewer',
    '-n',
    RELEASE_NAMESPACE,
    `--replicas=${replicas}`,
  ]);

describe('observability: renewals stopping raise EatrNoRenewer', () => {
  it('stays quiet while renewers run; fires once none has been up for its `for`; the renewers come back', async () => {
    const rendered = await chartAlertRules();
    const prometheus = await startPrometheus({
      config: JSON.stringify(scrapeConfig()),
      targets: JSON.stringify(await podTargets()),
      rules: JSON.stringify({ groups: rendered.spec.groups }),
      port: 19091,
    });
    const noRenewer = async () =>
      (await prometheus.alerts()).find((a) => a.labels.alertname === 'EatrNoRenewer');
    try {
      await eventually('a renewer scraped', async () => {
        const up = await prometheus.query('eatr_build_info{component="renewer"}');
        return up.status === 'success' && (up.data.result as PromSeries[]).length > 0
          ? true
          : undefined;
      });
      // Evaluated at least once with renewers up (after the scrape that saw one): not even pending.
      const scraped = Date.now();
      await eventually('the alert rules evaluated after a renewer was scraped', async () => {
        const rules = await prometheus.get<{
          data: { groups: { lastEvaluation: string }[] };
        }>('/api/v1/rules');
        return rules.data.groups.length > 0 &&
          rules.data.groups.every((g) => Date.parse(g.lastEvaluation) > scraped)
          ? true
          : undefined;
      });
      expect(await noRenewer()).toBeUndefined();

      // Every renewer gone (what a crash loop or an OOM at every start looks like to Prometheus),
      // and service discovery sees it.
      await scaleRenewers(0);
      await eventually('no renewer Pod', async () =>
        (await chartPods()).some((p) => component(p) === 'renewer') ? undefined : true,
      );
      await prometheus.setTargets(JSON.stringify(await podTargets()));
      const gone = Date.now();
      const pending = await eventually('EatrNoRenewer pending', noRenewer, 60_000);
      expect(pending.labels.severity).toBe('critical');
      const firing = await eventually(
        'EatrNoRenewer firing',
        async () => ((await noRenewer())?.state === 'firing' ? true : undefined),
        420_000,
      );
      expect(firing).toBe(true);
      console.log(
        `[e2e] EatrNoRenewer firing ${Math.round((Date.now() - gone) / 1000)} s after the last renewer went (for: 5m)`,
      );
    } finally {
      await prometheus.stop();
      await scaleRenewers(2);
    }
    await eventually('two renewers Ready again', async () => {
      const renewers = (await chartPods()).filter((p) => component(p) === 'renewer');
      return renewers.length === 2 && renewers.every(isReady) ? true : undefined;
    });
  });
});

// After the observability scenarios: its helm upgrade restarts the eatr Pods (their counters).
describe('tenant roles', () => {
  it("serves a namespace from its own IAM role (the renewer's token request passes the admission policy); another namespace naming that role is refused by the role's trust policy", async () => {
    const ecr = inject('e2eEcr');
    const role = ecr.tenantRoleArn;
    await helm([
      'upgrade',
      'eatr',
      chartPath,
      '--namespace',
      RELEASE_NAMESPACE,
      '--reuse-values',
      '--set-json',
      `config.tenantRoles=${JSON.stringify([
        { namespaces: 'team in (r,s)', roleArns: [`arn:aws:iam::*:role/eatr-e2e-team-*`] },
      ])}`,
      '--wait',
      '--timeout',
      '5m',
    ]);
    const tenant = (name: string, team: string) =>
      apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name,
          labels: { [ecr.registry]: 'true', team },
          annotations: { 'eatr.io/role-arn': role },
        },
      });
    await tenant('team-r', 'r');
    try {
      await eventually(
        'team-r gets its Secret',
        async () =>
          (await pullPassword('team-r', ecr.registry).catch(() => '')) !== '' ? true : undefined,
        120_000,
      );
    } catch (error) {
      console.error(await describeCluster(RELEASE_NAMESPACE));
      throw error;
    }
    expect((await issuedSessions()).map((s) => s.assumedRoleArn)).toContain(
      `${role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/eatr-team-r`,
    );
    await apply(appPod('team-r'));
    await podRunning(
      'team-r',
      'app',
      'the team-r Pod Running (pulled with the role-issued Secret)',
    );

    // Allowed by the (too wide) allowlist; the role trusts only team-r's ServiceAccount.
    await tenant('team-s', 's');
    const message = await eventually('a Warning Event on team-s', async () => {
      const text = await kubectl([
        'get',
        'events',
        '-n',
        'team-s',
        '--field-selector',
        'involvedObject.kind=Namespace,type=Warning,reason=TokenFailed',
        '-o',
        'jsonpath={.items[*].message}',
      ]);
      return text.trim() === '' ? undefined : text;
    });
    expect(message).toContain(`AWS refused role ${role} for ServiceAccount team-s/default`);
    expect(await pullPassword('team-s', ecr.registry).catch(() => '')).toBe('');
  });
});

describe('helm uninstall', () => {
  it('removes every eatr workload; the Secrets eatr wrote stay, as docs/deploy.md says', async () => {
    const ecr = inject('e2eEcr');
    await helm([
      'uninstall',
      'eatr',
      '--namespace',
      RELEASE_NAMESPACE,
      '--wait',
      '--timeout',
      '3m',
    ]);
    await eventually('no eatr Pod left', async () =>
      (await chartPods()).length === 0 ? true : undefined,
    );
    const selector = 'app.kubernetes.io/instance=eatr';
    const namespaced = await kubectl([
      'get',
      'deployments,statefulsets,replicasets,services,serviceaccounts,roles,rolebindings,poddisruptionbudgets,networkpolicies,configmaps,secrets',
      '-n',
      RELEASE_NAMESPACE,
      '-l',
      selector,
      '-o',
      'name',
    ]);
    expect(namespaced.trim()).toBe('');
    const clusterWide = await kubectl([
      'get',
      'clusterroles,clusterrolebindings',
      '-l',
      selector,
      '-o',
      'name',
    ]);
    expect(clusterWide.trim()).toBe('');
    // What eatr wrote is left as it is: the Secret and the ServiceAccount entry keep working until
    // the token expires (docs/deploy.md, "Uninstall").
    expect(await pullPassword('team-a', ecr.registry)).not.toBe('');
    const sa = await kubectlJson<{ imagePullSecrets?: Array<{ name: string }> }>([
      'get',
      'serviceaccount',
      'default',
      '-n',
      'team-a',
    ]);
    expect(sa.imagePullSecrets).toEqual([{ name: ecr.registry }]);
  });
});

/** The registry password in the namespace's eatr Secret for `registry`. */
/**
 * The password of an ECR token of the e2e account and region that has already expired: issued by the
 * ECR stand-in through the SDK while its token lifetime is 1 ms (then 12 hours again).
 */
async function expiredEcrPassword(): Promise<string> {
  const ecr = inject('e2eEcr');
  const client = new ECRClient({
    region: ecr.region,
    endpoint: ecr.endpointUrl,
    credentials: { accessKeyId: ecr.accessKeyId, secretAccessKey: ecr.secretAccessKey },
  });
  await setTokenLifetime(1);
  try {
    const answer = await client.send(new GetAuthorizationTokenCommand({}));
    const token = answer.authorizationData?.[0]?.authorizationToken ?? '';
    return Buffer.from(token, 'base64').toString('utf8').split(':')[1] ?? '';
  } finally {
    await setTokenLifetime(12 * 3_600_000);
    client.destroy();
  }
}

/** The eatr CLI (this checkout's build) against the e2e cluster, as an admin runs it. */
async function eatrCli(args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(repoRoot, 'packages/cli/dist/main.js'), ...args],
    {
      env: {
        ...process.env,
        KUBECONFIG: inject('e2eKubeconfigPath'),
        EATR_HOST_NAMESPACE: RELEASE_NAMESPACE,
        NO_COLOR: '1',
      },
      timeout: 60_000,
    },
  ).catch((error: unknown) => {
    // why exits 1 when a registry is not served: its report is still on stdout.
    const { stdout: out } = error as { stdout?: string };
    if (out) return { stdout: out };
    throw error;
  });
  return stdout;
}

async function pullPassword(namespace: string, registry: string): Promise<string> {
  const secret = await kubectlJson<{ data: Record<string, string> }>([
    'get',
    'secret',
    registry,
    '-n',
    namespace,
  ]);
  const config = JSON.parse(
    Buffer.from(secret.data['.dockerconfigjson'] ?? '', 'base64').toString('utf8'),
  ) as { auths: Record<string, { password?: string }> };
  return config.auths[registry]?.password ?? '';
}

/** A Pod of the image in the ECR-named registry, with no imagePullSecrets of its own. */
function appPod(namespace: string, name = 'app'): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      // A cached image would hide a missing Secret: always ask the registry.
      containers: [{ name: 'app', image: inject('e2eEcr').image, imagePullPolicy: 'Always' }],
      terminationGracePeriodSeconds: 1,
    },
  };
}
