import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { QUEUE_NAME, SWEEP_SCHEDULER_ID, parseGoDuration } from '@eatr/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dashboardQueries } from '../chart/promql.js';
import { inject } from 'vitest';
import {
  addCredentials,
  issuedSessions,
  issuedTokens,
  removeCredentials,
  restartNodePart,
  nodeMemoryMiB,
  registryAccesses,
  revokeToken,
  setTokenLifetime,
} from './harness/provided.js';
import {
  apply,
  prepareHostNamespace,
  chartPath,
  describeCluster,
  StopWaiting,
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

/**
 * The observability scenarios wait for alerts' `for: 5m` (files/alerts.yaml) on top of up to 3 and
 * 7 minutes of bounded waits for pending and firing: longer than the config's 600 s per test.
 */
const OBSERVABILITY_TIMEOUT_MS = 15 * 60_000;

const component = (pod: PodList['items'][number]) =>
  pod.metadata.labels?.['app.kubernetes.io/component'] ?? '?';

/**
 * Scenarios that passed in this run (by their describe's name). A scenario that builds on others
 * checks them first (needs), so that one run alone with -t says it cannot instead of failing on
 * something it did not set up; the others set up what they use and run alone.
 */
const passed = new Set<string>();
afterEach((context) => {
  if (context.task.result?.state === 'pass' && context.task.suite !== undefined)
    passed.add(context.task.suite.name);
});
function needs(...scenarios: string[]): void {
  beforeAll(() => {
    const missing = scenarios.filter((name) => !passed.has(name));
    if (missing.length > 0)
      throw new Error(
        `this scenario builds on ${missing.map((m) => `"${m}"`).join(', ')}, which did not pass earlier in this run: run the whole file, or a -t pattern that matches those too`,
      );
  });
}

// The release every scenario uses, installed once for the file (whatever -t selects).
let installSeconds = 0;
beforeAll(async () => {
  const ecr = inject('e2eEcr');
  const images = inject('e2eImages');
  await prepareHostNamespace(RELEASE_NAMESPACE, ecr.registry, ecr);
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

describe('helm install eatr on a real node', () => {
  const ecr = inject('e2eEcr');

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
        const names = await pullSecretsOf('team-a');
        return names.length > 0 ? names : undefined;
      },
    );
    expect(pullSecrets).toEqual([ecr.registry]);
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
    expect(await pullRefusal('team-b', 'app')).toMatch(/401 Unauthorized|unauthorized/i);
    const secrets = await kubectl(['get', 'secrets', '-n', 'team-b', '-o', 'name']);
    expect(secrets).not.toContain(ecr.registry);
  });

  it("the registry refuses what ECR refuses: Pods naming a Secret with a revoked, an expired or another account's token fail with 401; a live one pulls", async () => {
    // Negative controls for every pull the tier counts as a success: a front that accepted any
    // password, or tokens of any account, would let the three refused Pods run.
    const namespace = 'team-refused';
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const since = new Date().toISOString();
    const revoked = await ecrPassword();
    await revokeToken(revoked);
    await addCredentials(OTHER_ACCOUNT_KEY.id, OTHER_ACCOUNT_KEY.secret, OTHER_ACCOUNT_KEY.account);
    const passwords = {
      live: await ecrPassword(),
      revoked,
      expired: await expiredEcrPassword(),
      'other-account': await ecrPassword({
        accessKeyId: OTHER_ACCOUNT_KEY.id,
        secretAccessKey: OTHER_ACCOUNT_KEY.secret,
      }),
    };
    for (const [name, password] of Object.entries(passwords)) {
      await apply(handMadePullSecret(namespace, `by-hand-${name}`, password));
      await apply(appPod(namespace, name, `by-hand-${name}`));
    }
    await podRunning(namespace, 'live');
    for (const name of ['revoked', 'expired', 'other-account']) {
      expect(await pullRefusal(namespace, name), name).toMatch(/401 Unauthorized|unauthorized/i);
    }
    const reasons = new Set(
      (await registryAccesses()).filter((a) => a.at >= since).map((a) => a.reason),
    );
    expect([...reasons]).toEqual(
      expect.arrayContaining(['accepted', 'revoked-token', 'expired-token', 'other-registry']),
    );
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
    await eventually('team-p default ServiceAccount has the Secret', async () =>
      (await pullSecretsOf('team-p')).includes(PUBLIC) ? true : undefined,
    );
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

describe('Pods as people write them', () => {
  // What eatr does for each is in docs/deploy.md, "Pods as people write them".
  it('created in the same apply as the label: a Deployment ends up Running; a bare Pod runs if it was admitted after the entry, or is left and reported', async () => {
    const ecr = inject('e2eEcr');
    const namespace = 'team-same-apply';
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: (appPod(namespace) as { spec: unknown }).spec,
        },
      },
    };
    // The namespace exists first (a Pod is refused until its `default` ServiceAccount exists);
    // then one kubectl apply, as a GitOps tool applies a folder: the label and the workloads.
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await eventually(`${namespace} default ServiceAccount`, () =>
      kubectl(['get', 'serviceaccount', 'default', '-n', namespace]).then(() => true),
    );
    await apply({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespace, labels: { [ecr.registry]: 'true' } },
        },
        appPod(namespace, 'bare'),
        deployment,
      ],
    });
    await eventually('the Deployment of team-same-apply has a Running Pod', async () => {
      const pods = await kubectlJson<PodList>(['get', 'pods', '-n', namespace, '-l', 'app=web']);
      return pods.items.some((p) => p.status.phase === 'Running') ? true : undefined;
    });
    // Admission decided it: the Pod has the entry if the API server admitted it after eatr's patch.
    const bare = await kubectlJson<{ spec: { imagePullSecrets?: Array<{ name: string }> } }>([
      'get',
      'pod',
      'bare',
      '-n',
      namespace,
    ]);
    const admittedAfter = (bare.spec.imagePullSecrets ?? []).some((e) => e.name === ecr.registry);
    if (admittedAfter) {
      await podRunning(namespace, 'bare');
    } else {
      // No controller to recreate it: eatr leaves it, and says so.
      await eventually('a StuckPodLeft Event for the bare Pod', async () =>
        (
          await kubectl([
            'get',
            'events',
            '-n',
            namespace,
            '--field-selector',
            'reason=StuckPodLeft',
            '-o',
            'jsonpath={.items[*].message}',
          ])
        ).includes('Pod bare')
          ? true
          : undefined,
      );
    }
    console.log(
      `[e2e] a bare Pod created in the same apply as the label ${admittedAfter ? 'was admitted after the entry and runs' : 'was admitted before the entry: left, StuckPodLeft'}`,
    );
  });

  it("naming eatr's Secret in imagePullSecrets: the Pod pulls once the Secret exists (the kubelet reads it at each attempt)", async () => {
    const ecr = inject('e2eEcr');
    const namespace = 'team-names-it';
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await eventually(`${namespace} default ServiceAccount`, () =>
      kubectl(['get', 'serviceaccount', 'default', '-n', namespace]).then(() => true),
    );
    // The Pod first: it names a Secret that does not exist yet, and cannot pull.
    await apply(appPod(namespace, 'app', ecr.registry));
    expect(await pullRefusal(namespace, 'app')).toMatch(/401 Unauthorized|unauthorized|secret/i);
    await kubectl(['label', 'namespace', namespace, `${ecr.registry}=true`]);
    // The kubelet retries with its back-off (10 s, then doubling): no restart needed.
    const pod = await eventually(
      'the Pod naming the Secret runs after its retry',
      async () => {
        const p = await kubectlJson<PodList['items'][number]>([
          'get',
          'pod',
          'app',
          '-n',
          namespace,
        ]);
        return p.status.phase === 'Running' ? p : undefined;
      },
      120_000,
    );
    expect(pod.status.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('a non-default ServiceAccount: not wired by default (the pull is refused); labelled eatr.io/pull-secrets=true it gets the entry and a new Pod pulls', async () => {
    const ecr = inject('e2eEcr');
    const namespace = 'team-builder';
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { [ecr.registry]: 'true' } },
    });
    await apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'builder', namespace },
    });
    await eventually(`${namespace} has eatr's Secret`, async () =>
      (await pullPassword(namespace, ecr.registry).catch(() => '')) !== '' ? true : undefined,
    );
    await apply(appPod(namespace, 'before-label', undefined, 'builder'));
    expect(await pullRefusal(namespace, 'before-label')).toMatch(/401 Unauthorized|unauthorized/i);
    await kubectl([
      'label',
      'serviceaccount',
      'builder',
      '-n',
      namespace,
      'eatr.io/pull-secrets=true',
    ]);
    await eventually('builder gets the entry', async () =>
      (await pullSecretsOf(namespace, 'builder')).includes(ecr.registry) ? true : undefined,
    );
    await apply(appPod(namespace, 'after-label', undefined, 'builder'));
    await podRunning(namespace, 'after-label');
  });
});

describe("faults as production has them (the chart's default sweep interval)", () => {
  // Every wait below is shorter than half the sweep interval: work lost in a fault cannot be
  // repaired by a sweep in time, so it must not be lost.
  let bound = 0;
  let queuePrefix = '';
  beforeAll(async () => {
    const values = parseYaml(await readFile(join(chartPath, 'values.yaml'), 'utf8')) as {
      config: { queuePrefix: string };
      watcher: { sweepInterval: string };
    };
    bound = (parseGoDuration(values.watcher.sweepInterval) ?? 0) / 2;
    queuePrefix = values.config.queuePrefix;
    expect(bound).toBeGreaterThan(60_000);
  });
  const failedJobs = async () =>
    Number(await redisCli([`ZCARD ${queuePrefix}:${QUEUE_NAME}:failed`]));

  it('4 renewers and 2 watchers; the leading watcher and a renewer are force-killed during a 200-namespace burst; every namespace gets a live token and its ServiceAccount entry', async () => {
    const failedBefore = await failedJobs();
    await upgradeRelease(['--set', 'renewer.replicas=4', '--set', 'watcher.replicas=2']);
    await eventually('4 renewers and 2 watchers Ready', async () => {
      const pods = (await chartPods()).filter(isReady);
      const renewers = pods.filter((p) => component(p) === 'renewer').length;
      const watchers = pods.filter((p) => component(p) === 'watcher').length;
      return renewers === 4 && watchers === 2 ? true : undefined;
    });
    const leader = await leaseHolder();
    const names = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
    await labelNew(names);
    const renewer = (await chartPods()).find((p) => component(p) === 'renewer');
    // As a node failure or the OOM killer ends them: no graceful shutdown, no lease release.
    await forceDelete([leader, renewer?.metadata.name ?? '']);
    const started = performance.now();
    await eventually('every burst namespace is served', () => servedProblems(names), bound);
    console.log(
      `[e2e] 200 namespaces served (live tokens, ServiceAccount entries) in ${Math.round((performance.now() - started) / 1000)} s with the leader and a renewer force-killed`,
    );
    const newLeader = await eventually('a new watcher leads', async () => {
      const holder = await leaseHolder();
      return holder !== '' && holder !== leader ? holder : undefined;
    });
    expect(newLeader).not.toBe(leader);
    // After the fail-over a newly labelled namespace is served as fast as ever.
    const labelled = performance.now();
    await labelNew(['after-failover']);
    await eventually('after-failover is served', () => servedProblems(['after-failover']), 15_000);
    console.log(
      `[e2e] a namespace labelled after the fail-over was served in ${((performance.now() - labelled) / 1000).toFixed(1)} s`,
    );
    expect(await failedJobs()).toBe(failedBefore);
  });

  it('the Redis Pod is force-deleted (no persistence): namespaces labelled while it is gone are served once it is back, and the sweep scheduler is back', async () => {
    const redis = (await chartPods()).find((p) => component(p) === 'redis');
    await forceDelete([redis?.metadata.name ?? '']);
    const names = Array.from({ length: 5 }, (_, i) => `redis-lost-${i}`);
    await labelNew(names);
    const started = performance.now();
    await eventually(
      'namespaces labelled while Redis was gone are served',
      () => servedProblems(names),
      bound,
    );
    console.log(
      `[e2e] 5 namespaces labelled while Redis was gone served ${Math.round((performance.now() - started) / 1000)} s later`,
    );
    await eventually(
      'the sweep scheduler is back in the new Redis',
      async () =>
        (await redisCli([`ZSCORE ${queuePrefix}:${QUEUE_NAME}:repeat ${SWEEP_SCHEDULER_ID}`])) !==
        ''
          ? true
          : undefined,
      60_000,
    );
    expect(await failedJobs()).toBe(0);
  });

  it("a drain of eatr's Pods stops at their PodDisruptionBudgets: a renewer and a watcher stay up and serve a namespace labelled meanwhile; after uncordon all come back", async () => {
    const failedBefore = await failedJobs();
    const node = (
      await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])
    ).trim();
    // Redis is left out: on a single node its one replica would have nowhere to go.
    const drain = kubectl([
      'drain',
      node,
      '--pod-selector=app.kubernetes.io/instance=eatr,app.kubernetes.io/component in (watcher,renewer)',
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--timeout=60s',
    ]).then(
      () => 'drained',
      (error: unknown) => (error as Error).message,
    );
    try {
      await labelNew(['during-drain']);
      await eventually('during-drain is served', () => servedProblems(['during-drain']), bound);
      const outcome = await drain;
      // The budgets held: the drain could not evict the last Pods it would need to.
      expect(outcome).toMatch(/disruption budget/i);
      const ready = (await chartPods()).filter(isReady);
      expect(ready.filter((p) => component(p) === 'renewer').length).toBeGreaterThanOrEqual(3);
      expect(ready.filter((p) => component(p) === 'watcher').length).toBeGreaterThanOrEqual(1);
    } finally {
      await drain;
      await kubectl(['uncordon', node]);
    }
    await eventually('4 renewers and 2 watchers Ready after uncordon', async () => {
      const pods = (await chartPods()).filter(isReady);
      return pods.filter((p) => component(p) === 'renewer').length === 4 &&
        pods.filter((p) => component(p) === 'watcher').length === 2
        ? true
        : undefined;
    });
    expect(await failedJobs()).toBe(failedBefore);
  });

  it("the kubelet, then containerd, restart: eatr's Pods keep running without a restart; a namespace labelled after each is served and its Pod pulls", async () => {
    const restarts = async () =>
      (await chartPods())
        .map(
          (p) =>
            `${p.metadata.name}=${p.status.containerStatuses?.map((c) => c.restartCount).join(',') ?? ''}`,
        )
        .sort();
    const before = await restarts();
    const failedBefore = await failedJobs();
    for (const part of ['kubelet', 'containerd'] as const) {
      const seconds = await restartNodePart(part);
      const namespace = `after-${part}-restart`;
      await labelNew([namespace]);
      await eventually(`${namespace} is served`, () => servedProblems([namespace]), bound);
      await apply(appPod(namespace));
      await podRunning(namespace, 'app');
      console.log(
        `[e2e] ${part} restarted in ${seconds} s; a namespace labelled after it was served and its Pod pulled`,
      );
    }
    expect(await restarts()).toEqual(before);
    expect(await failedJobs()).toBe(failedBefore);
  });
});

describe('token rotation', () => {
  it('a rotated key issues the next token (the old key deleted from AWS); the short-lived token is renewed before it expires; a new Pod pulls once the old tokens are revoked', async () => {
    const ecr = inject('e2eEcr');
    const NEW_KEY = 'AKIAE2ETESTKEY000002';
    const keyOf = async (password: string) =>
      (await issuedTokens()).find((t) => t.password === password);
    // team-a exists already in a whole run; alone (-t) it is made here.
    await labelNew(['team-a']);
    await eventually('team-a is served', () => servedProblems(['team-a']));
    const initial = await pullPassword('team-a', ecr.registry);
    // Short-lived tokens from now on, and sweeps often enough to renew them at half their life
    // (the chart's watcher.sweepInterval; renewals happen on sweeps).
    await setTokenLifetime(90_000);
    await upgradeRelease(['--set', 'watcher.sweepInterval=10s']);
    // The user rotates the access key: eatr fetches a token with the new key at once.
    await addCredentials(NEW_KEY, 'e2e-rotated-secret-access-key-000000000000');
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `eatr-aws-credentials-${ecr.registry}`, namespace: RELEASE_NAMESPACE },
      stringData: {
        aws_access_key_id: NEW_KEY,
        aws_secret_access_key: 'e2e-rotated-secret-access-key-000000000000',
      },
    });
    // The same key served ECR Public (scenario 3a): a user rotating it updates both Secrets.
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'eatr-aws-credentials-public.ecr.aws', namespace: RELEASE_NAMESPACE },
      stringData: {
        aws_access_key_id: NEW_KEY,
        aws_secret_access_key: 'e2e-rotated-secret-access-key-000000000000',
      },
    });
    const rotated = await eventually('team-a Secret holds a token of the new key', async () => {
      const password = await pullPassword('team-a', ecr.registry);
      return password !== initial ? password : undefined;
    });
    // As a user finishes a rotation: the old key is deleted in IAM. An eatr that kept a cached
    // client of the old key fails from now on; the token above must come from the new key.
    await removeCredentials(ecr.accessKeyId);
    expect((await keyOf(rotated))?.accessKeyId).toBe(NEW_KEY);
    const rotatedExpiry = Date.parse((await keyOf(rotated))?.expiresAt ?? '');
    // Nobody touches anything now: eatr renews the 90-second token on its own before it expires.
    const renewed = await eventually(
      'eatr renews the short-lived token',
      async () => {
        const password = await pullPassword('team-a', ecr.registry);
        return password !== rotated && password !== initial ? password : undefined;
      },
      150_000,
    );
    // Seen in the Secret before the token it replaced expired (seeing it is later than writing it).
    const renewedSeen = Date.now();
    expect(renewedSeen).toBeLessThan(rotatedExpiry);
    expect((await keyOf(renewed))?.accessKeyId).toBe(NEW_KEY);
    console.log(
      `[e2e] the 90 s token was renewed ${Math.round((rotatedExpiry - renewedSeen) / 1000)} s before it expired`,
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
      upgradeRelease([...set.flatMap((value) => ['--set', value])]);
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
    await eventually('team-w default ServiceAccount has the Secret', async () =>
      (await pullSecretsOf('team-w')).includes(ecr.registry) ? true : undefined,
    );
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
  // Expiring Secrets need the rotation's 90 s tokens and web identity's refused identity; the
  // healthy control is ECR Public's namespace.
  needs('ECR Public', 'token rotation', 'web identity off EKS');
  it(
    'scrapes every eatr Pod; every dashboard query and alert expression evaluates; the expiry alert fires for a Secret that expired',
    async () => {
      const ecr = inject('e2eEcr');
      const monitor = await chartServiceMonitor();
      const config = scrapeConfig(monitor);
      const rendered = await chartAlertRules();
      const rules = rendered.spec.groups.flatMap((g) => g.rules);
      expect(rules.length).toBeGreaterThan(0);

      const prometheus = await startPrometheus({
        config: JSON.stringify(config),
        targets: JSON.stringify(await serviceMonitorTargets(monitor)),
        rules: JSON.stringify({ groups: rendered.spec.groups }),
        port: 19090,
      });
      try {
        // (1) Every watcher and renewer Pod is a target, and up.
        const pods = (await chartPods()).filter((p) =>
          ['watcher', 'renewer'].includes(component(p)),
        );
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
        const expiredAlert = async (namespace: string, state?: 'firing') =>
          (await prometheus.alerts()).find(
            (a) =>
              a.labels.alertname === 'EatrImagePullSecretExpired' &&
              a.labels.namespace === namespace &&
              a.labels.registry === (namespace === 'team-p' ? 'public.ecr.aws' : ecr.registry) &&
              (state === undefined || a.state === state),
          );
        const teamAExpired = await eventually(
          'EatrImagePullSecretExpired pending for team-a',
          () => expiredAlert('team-a'),
          180_000,
        );
        expect(['pending', 'firing']).toContain(teamAExpired.state);
        const expiredRule = rules.find((r) => r.alert === 'EatrImagePullSecretExpired');
        const expired = await prometheus.query(expiredRule?.expr ?? '');
        expect(
          expired.status === 'success' && Array.isArray(expired.data.result)
            ? (expired.data.result as PromSeries[]).map((s) => s.metric.namespace)
            : [],
        ).toContain('team-a');
        // eatr counts a credential failure once per namespace and cause (a repeat is not news),
        // so increase() sees one only if a namespace meets it while Prometheus scrapes: label one.
        await labelNew(['team-o']);
        await eventually(
          'EatrCredentialErrors pending after team-o met the refused identity',
          async () =>
            (await prometheus.alerts()).find((a) => a.labels.alertname === 'EatrCredentialErrors'),
          60_000,
        );
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
          () => expiredAlert('team-a', 'firing'),
          420_000,
        );
        console.log(
          `[e2e] EatrImagePullSecretExpired firing for team-a, ${Math.round((Date.now() - started) / 1000)} s after the checks above`,
        );
        // The negative control: team-p (ECR Public, its own credential Secret, rotated with the
        // key) is renewed all along, so it must not be among the expired, while team-a fires. (Every
        // namespace is "expiring soon" here: tokens last 90 s since the rotation scenario.)
        const expiredNow = await prometheus.query(expiredRule?.expr ?? '');
        const expiredNamespaces =
          expiredNow.status === 'success' && Array.isArray(expiredNow.data.result)
            ? (expiredNow.data.result as PromSeries[]).map((x) => x.metric.namespace)
            : [];
        expect(expiredNamespaces).toContain('team-a');
        expect(expiredNamespaces).not.toContain('team-p');
        const healthy = await prometheus.query(
          'max by (namespace) (eatr_secret_expiry_timestamp_seconds{namespace="team-p"}) - time()',
        );
        const left =
          healthy.status === 'success' && Array.isArray(healthy.data.result)
            ? (healthy.data.result as PromSeries[]).map((x) => Number(x.value[1]))
            : [];
        expect(left.length).toBe(1);
        expect(left[0]).toBeGreaterThan(0);
        expect(await expiredAlert('team-p')).toBeUndefined();
      } finally {
        await prometheus.stop();
      }
    },
    OBSERVABILITY_TIMEOUT_MS,
  );
});

/** The chart's ServiceMonitor (`metrics.serviceMonitor.enabled=true`), as helm renders it. */
interface ServiceMonitor {
  spec: {
    namespaceSelector: { matchNames: string[] };
    selector: {
      matchLabels?: Record<string, string>;
      matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
    };
    endpoints: Array<{ port: string; path?: string; honorLabels?: boolean }>;
  };
}

async function chartServiceMonitor(): Promise<ServiceMonitor> {
  const monitor = parseYaml(
    await renderChart([
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--show-only',
      'templates/servicemonitor.yaml',
    ]),
  ) as ServiceMonitor;
  expect(monitor.spec.endpoints.length).toBeGreaterThan(0);
  return monitor;
}

/**
 * The scrape config the Prometheus Operator generates from the chart's ServiceMonitor: one job per
 * endpoint, over the Endpoints of the Services its selector matches in its namespaces, the port by
 * name, its path, its honorLabels, and the Operator's target labels (namespace, service, pod,
 * endpoint). Only the intervals are the test's own (2 s, to keep it short). Debian's Prometheus is
 * built without Kubernetes service discovery ("field kubernetes_sd_configs not found"), so
 * serviceMonitorTargets does what `role: endpoints` would, with the same __meta_kubernetes_* labels.
 */
function scrapeConfig(monitor: ServiceMonitor) {
  const label = (key: string) =>
    `__meta_kubernetes_service_label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  const { selector } = monitor.spec;
  const selecting = [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
      source_labels: [label(key)],
      regex: value,
      action: 'keep',
    })),
    ...(selector.matchExpressions ?? []).map((e) => {
      if (e.operator !== 'In') throw new Error(`the test translates only In, not ${e.operator}`);
      return { source_labels: [label(e.key)], regex: (e.values ?? []).join('|'), action: 'keep' };
    }),
  ];
  return {
    global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '2s' },
    rule_files: ['rules.yml'],
    scrape_configs: monitor.spec.endpoints.map((endpoint, index) => ({
      job_name: `serviceMonitor/${RELEASE_NAMESPACE}/eatr/${index}`,
      honor_labels: endpoint.honorLabels ?? false,
      metrics_path: endpoint.path ?? '/metrics',
      file_sd_configs: [{ files: ['targets.json'] }],
      relabel_configs: [
        {
          source_labels: ['__meta_kubernetes_namespace'],
          regex: monitor.spec.namespaceSelector.matchNames.join('|'),
          action: 'keep',
        },
        ...selecting,
        {
          source_labels: ['__meta_kubernetes_endpoint_port_name'],
          regex: endpoint.port,
          action: 'keep',
        },
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job' },
        { target_label: 'endpoint', replacement: endpoint.port },
      ],
    })),
  };
}

/**
 * What Prometheus' `role: endpoints` discovery gives for the monitor's namespaces: one target per
 * ready address and port of each Service's Endpoints, with the Service's labels.
 */
async function serviceMonitorTargets(
  monitor: ServiceMonitor,
): Promise<{ targets: string[]; labels: Record<string, string> }[]> {
  const groups: { targets: string[]; labels: Record<string, string> }[] = [];
  for (const namespace of monitor.spec.namespaceSelector.matchNames) {
    const services = await kubectlJson<{
      items: { metadata: { name: string; labels?: Record<string, string> } }[];
    }>(['get', 'services', '-n', namespace]);
    const endpoints = await kubectlJson<{
      items: {
        metadata: { name: string };
        subsets?: {
          addresses?: { ip: string; targetRef?: { name: string } }[];
          ports?: { name?: string; port: number }[];
        }[];
      }[];
    }>(['get', 'endpoints', '-n', namespace]);
    for (const service of services.items) {
      const serviceLabels = Object.fromEntries(
        Object.entries(service.metadata.labels ?? {}).map(([k, v]) => [
          `__meta_kubernetes_service_label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`,
          v,
        ]),
      );
      const subsets =
        endpoints.items.find((e) => e.metadata.name === service.metadata.name)?.subsets ?? [];
      for (const subset of subsets)
        for (const address of subset.addresses ?? [])
          for (const port of subset.ports ?? [])
            groups.push({
              targets: [`${address.ip}:${port.port}`],
              labels: {
                __meta_kubernetes_namespace: namespace,
                __meta_kubernetes_service_name: service.metadata.name,
                __meta_kubernetes_endpoint_port_name: port.name ?? '',
                __meta_kubernetes_pod_name: address.targetRef?.name ?? '',
                ...serviceLabels,
              },
            });
    }
  }
  return groups;
}

/**
 * The alert rules as the chart ships them: the PrometheusRule's spec (files/alerts.yaml verbatim),
 * as rendered by helm.
 */
async function chartAlertRules() {
  return parseYaml(
    await renderChart([
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--show-only',
      'templates/prometheusrule.yaml',
    ]),
  ) as { spec: { groups: { name: string; rules: { alert: string; expr: string }[] }[] } };
}

/** `helm template` of this chart as release `eatr` in the release namespace, for this cluster's version. */
async function renderChart(args: readonly string[]): Promise<string> {
  return helm([
    'template',
    'eatr',
    chartPath,
    '--namespace',
    RELEASE_NAMESPACE,
    // helm template assumes Kubernetes 1.20 unless told; the chart needs 1.25 or later.
    '--kube-version',
    (await kubectlJson<{ serverVersion: { gitVersion: string } }>(['version'])).serverVersion
      .gitVersion,
    ...args,
  ]);
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
  it(
    'stays quiet while renewers run; fires once none has been up for its `for`; the renewers come back',
    async () => {
      const rendered = await chartAlertRules();
      const monitor = await chartServiceMonitor();
      const prometheus = await startPrometheus({
        config: JSON.stringify(scrapeConfig(monitor)),
        targets: JSON.stringify(await serviceMonitorTargets(monitor)),
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
        await prometheus.setTargets(JSON.stringify(await serviceMonitorTargets(monitor)));
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
    },
    OBSERVABILITY_TIMEOUT_MS,
  );
});

// After the observability scenarios: its helm upgrade restarts the eatr Pods (their counters).
describe('tenant roles', () => {
  it("serves a namespace from its own IAM role (the renewer's token request passes the admission policy); another namespace naming that role is refused by the role's trust policy", async () => {
    const ecr = inject('e2eEcr');
    const role = ecr.tenantRoleArn;
    await upgradeRelease([
      '--set-json',
      `config.tenantRoles=${JSON.stringify([
        { namespaces: 'team in (r,s)', roleArns: [`arn:aws:iam::*:role/eatr-e2e-team-*`] },
      ])}`,
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
  // What eatr wrote and leaves behind: team-a's Secret and ServiceAccount entry.
  needs('helm install eatr on a real node');
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
    // Cluster-scoped: by the release's label, and by name (an object that lost its labels).
    const clusterKinds =
      'clusterroles,clusterrolebindings,validatingadmissionpolicies,validatingadmissionpolicybindings';
    const rendered = await renderChart([
      '--api-versions',
      'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy',
    ]);
    const clusterScoped = rendered
      .split(/^---$/m)
      .map(
        (doc) =>
          parseYaml(doc) as {
            kind?: string;
            metadata?: { name: string; namespace?: string };
          } | null,
      )
      .filter(
        (doc) =>
          doc?.kind !== undefined &&
          /^(ClusterRole|ClusterRoleBinding|ValidatingAdmissionPolicy|ValidatingAdmissionPolicyBinding)$/.test(
            doc.kind,
          ),
      );
    // The check must look at what the chart really creates: these kinds exist in its render.
    expect(new Set(clusterScoped.map((doc) => doc?.kind)).size).toBe(4);
    expect((await kubectl(['get', clusterKinds, '-l', selector, '-o', 'name'])).trim()).toBe('');
    const left = (
      await kubectl([
        'get',
        clusterKinds,
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}',
      ])
    )
      .split('\n')
      .filter((name) => clusterScoped.some((doc) => doc?.metadata?.name === name));
    expect(left).toEqual([]);
    // What eatr wrote is left as it is: the Secret and the ServiceAccount entry keep working until
    // the token expires (docs/deploy.md, "Uninstall").
    expect(await pullPassword('team-a', ecr.registry)).not.toBe('');
    expect(await pullSecretsOf('team-a')).toEqual([ecr.registry]);
  });
});

/** The registry password in the namespace's eatr Secret for `registry`. */
/**
 * The password of an ECR token of the e2e account and region that has already expired: issued by the
 * ECR stand-in through the SDK while its token lifetime is 1 ms (then 12 hours again).
 */
async function expiredEcrPassword(): Promise<string> {
  await setTokenLifetime(1);
  try {
    return await ecrPassword();
  } finally {
    await setTokenLifetime(12 * 3_600_000);
  }
}

/** A key of another AWS account, which the stand-in accepts (its tokens are for that account). */
const OTHER_ACCOUNT_KEY = {
  id: 'AKIAE2EOTHERACCOUNT1',
  secret: 'e2e-other-account-secret-access-key-00000',
  account: '222222222222',
};

/**
 * The password of a fresh ECR token from the stand-in, through the SDK as any client would get
 * one: with the e2e key unless another is given.
 */
async function ecrPassword(
  key: { accessKeyId: string; secretAccessKey: string } = inject('e2eEcr'),
): Promise<string> {
  const ecr = inject('e2eEcr');
  const client = new ECRClient({
    region: ecr.region,
    endpoint: ecr.endpointUrl,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
  });
  try {
    const answer = await client.send(new GetAuthorizationTokenCommand({}));
    const token = answer.authorizationData?.[0]?.authorizationToken ?? '';
    return Buffer.from(token, 'base64').toString('utf8').split(':')[1] ?? '';
  } finally {
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
  return passwordIn(secret.data, registry);
}

/** The registry password in a pull Secret's data. */
function passwordIn(data: Record<string, string> | undefined, registry: string): string {
  const config = JSON.parse(
    Buffer.from(data?.['.dockerconfigjson'] ?? 'e30=', 'base64').toString('utf8'),
  ) as { auths?: Record<string, { password?: string }> };
  return config.auths?.[registry]?.password ?? '';
}

/**
 * Resolves when every namespace in `names` is served for the ECR-named registry: its Secret holds
 * a token the stand-in issued that has not expired, and its `default` ServiceAccount names the
 * Secret. Throws (for `eventually`) naming the first problems otherwise.
 */
async function servedProblems(names: readonly string[]): Promise<true> {
  const registry = inject('e2eEcr').registry;
  type Listed = { metadata: { namespace: string; name: string } };
  const secrets = await kubectlJson<{ items: Array<Listed & { data?: Record<string, string> }> }>([
    'get',
    'secrets',
    '-A',
    '-l',
    'app.kubernetes.io/managed-by=eatr',
  ]);
  const accounts = await kubectlJson<{
    items: Array<Listed & { imagePullSecrets?: Array<{ name: string }> }>;
  }>(['get', 'serviceaccounts', '-A', '--field-selector', 'metadata.name=default']);
  const expiry = new Map((await issuedTokens()).map((t) => [t.password, Date.parse(t.expiresAt)]));
  const now = Date.now();
  const problems: string[] = [];
  for (const namespace of names) {
    const secret = secrets.items.find(
      (x) => x.metadata.namespace === namespace && x.metadata.name === registry,
    );
    const expires = expiry.get(passwordIn(secret?.data, registry));
    if (secret === undefined) problems.push(`${namespace}: no Secret`);
    else if (expires === undefined)
      problems.push(`${namespace}: a token the stand-in never issued`);
    else if (expires <= now) problems.push(`${namespace}: an expired token`);
    const account = accounts.items.find((a) => a.metadata.namespace === namespace);
    if (account?.imagePullSecrets?.some((e) => e.name === registry) !== true)
      problems.push(`${namespace}: default ServiceAccount without the entry`);
  }
  if (problems.length > 0)
    throw new Error(`${problems.length} problems, first: ${problems.slice(0, 3).join('; ')}`);
  return true;
}

/** `helm upgrade` of the release with its values kept and these changed; waits for the rollout. */
function upgradeRelease(args: readonly string[]): Promise<string> {
  const release = ['upgrade', 'eatr', chartPath, '--namespace', RELEASE_NAMESPACE];
  return helm([...release, '--reuse-values', ...args, '--wait', '--timeout', '5m']);
}

/** The names in ServiceAccount `namespace/account`'s imagePullSecrets. */
async function pullSecretsOf(namespace: string, account = 'default'): Promise<string[]> {
  const sa = await kubectlJson<{ imagePullSecrets?: Array<{ name: string }> }>([
    'get',
    'serviceaccount',
    account,
    '-n',
    namespace,
  ]);
  return (sa.imagePullSecrets ?? []).map((entry) => entry.name);
}

/** Creates these namespaces labelled for the ECR-named registry, in one request. */
async function labelNew(names: readonly string[]): Promise<void> {
  const registry = inject('e2eEcr').registry;
  await apply({
    apiVersion: 'v1',
    kind: 'List',
    items: names.map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { [registry]: 'true' } },
    })),
  });
}

/** Pods of the release killed at once, as a node failure or the OOM killer ends them. */
async function forceDelete(pods: readonly string[]): Promise<void> {
  for (const pod of pods) {
    expect(pod).not.toBe('');
    await kubectl([
      'delete',
      'pod',
      '-n',
      RELEASE_NAMESPACE,
      pod,
      '--grace-period=0',
      '--force',
      '--wait=false',
    ]);
  }
}

/** The Pod holding the watchers' leader Lease. */
async function leaseHolder(): Promise<string> {
  const lease = await kubectlJson<{ spec: { holderIdentity?: string } }>([
    'get',
    'lease',
    'eatr-watcher',
    '-n',
    RELEASE_NAMESPACE,
  ]);
  return lease.spec.holderIdentity?.split('_')[0] ?? '';
}

/**
 * redis-cli in the release's Ready Redis Pod (TLS and the generated password, as the install
 * sets them); one answer line per command.
 */
async function redisCli(commands: readonly string[]): Promise<string> {
  const redis = (await chartPods()).find((p) => component(p) === 'redis' && isReady(p));
  if (redis === undefined) throw new Error('no Ready Redis Pod');
  const output = await kubectl(
    ['exec', '-i', '-n', RELEASE_NAMESPACE, redis.metadata.name, '-c', 'redis', '--', 'sh'],
    `export REDISCLI_AUTH="$REDIS_PASSWORD"; redis-cli -p 6379 --tls --cacert /tls/ca.crt <<'COMMANDS'\n${commands.join('\n')}\nCOMMANDS\n`,
  );
  return output.trim();
}

/**
 * A Pod of the image in the ECR-named registry: with no imagePullSecrets of its own unless
 * `pullSecret` names one, and as ServiceAccount `default` unless `serviceAccount` names another.
 */
function appPod(
  namespace: string,
  name = 'app',
  pullSecret?: string,
  serviceAccount?: string,
): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      // A cached image would hide a missing Secret: always ask the registry.
      containers: [{ name: 'app', image: inject('e2eEcr').image, imagePullPolicy: 'Always' }],
      terminationGracePeriodSeconds: 1,
      ...(pullSecret === undefined ? {} : { imagePullSecrets: [{ name: pullSecret }] }),
      ...(serviceAccount === undefined ? {} : { serviceAccountName: serviceAccount }),
    },
  };
}

/** A pull Secret for the ECR-named registry written by hand (user AWS, this password). */
function handMadePullSecret(namespace: string, name: string, password: string): unknown {
  const registry = inject('e2eEcr').registry;
  const auth = Buffer.from(`AWS:${password}`).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: { name, namespace },
    stringData: {
      '.dockerconfigjson': JSON.stringify({
        auths: { [registry]: { username: 'AWS', password, auth } },
      }),
    },
  };
}

/**
 * Waits until the kubelet reports Pod `namespace/name`'s pull as refused; resolves to what it said
 * (the container's waiting message and the Pod's `Failed` Events).
 */
async function pullRefusal(namespace: string, name: string): Promise<string> {
  const waiting = await eventually(`the ${namespace} Pod ${name} fails to pull`, async () => {
    const p = await kubectlJson<PodList['items'][number]>(['get', 'pod', name, '-n', namespace]);
    if (p.status.phase === 'Running') throw new StopWaiting(`${namespace}/${name} runs`);
    const w = p.status.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === 'ErrImagePull' || w?.reason === 'ImagePullBackOff' ? w : undefined;
  });
  const events = await kubectl([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    `involvedObject.name=${name},reason=Failed`,
    '-o',
    'jsonpath={.items[*].message}',
  ]);
  return `${waiting.message ?? ''} ${events}`;
}
