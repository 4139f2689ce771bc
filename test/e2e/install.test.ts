import { beforeAll, describe, expect, it } from 'vitest';
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
  helm,
  isReady,
  kubectl,
  kubectlJson,
} from './support/kube.js';
import type { PodList } from './support/kube.js';

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
    const [eatrRepository, eatrTag] = images.eatr.split(':') as [string, string];
    const [redisRepository, redisTag] = images.redis.split(':') as [string, string];
    const started = performance.now();
    try {
      // Defaults, except where the images are and where ECR and STS are (the SDK's documented
      // endpoint variables, through the chart's renewer.extraEnv).
      await helm([
        'install',
        'eatr',
        chartPath,
        '--namespace',
        RELEASE_NAMESPACE,
        '--wait',
        '--timeout',
        '5m',
        '--set',
        `image.repository=${eatrRepository}`,
        '--set',
        `image.tag=${eatrTag}`,
        '--set',
        `redis.image.repository=${redisRepository}`,
        '--set',
        `redis.image.tag=${redisTag}`,
        '--set-json',
        `renewer.extraEnv=${JSON.stringify([
          { name: 'AWS_ENDPOINT_URL_ECR', value: ecr.endpointUrl },
          { name: 'AWS_ENDPOINT_URL_STS', value: ecr.endpointUrl },
        ])}`,
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
    const pod = await eventually('the team-a Pod Running', async () => {
      const p = await kubectlJson<PodList['items'][number]>(['get', 'pod', 'app', '-n', 'team-a']);
      const waiting = p.status.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff') {
        throw new Error(`${waiting.reason}: ${waiting.message ?? ''}`);
      }
      return p.status.phase === 'Running' ? p : undefined;
    });
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
    await eventually('the new Pod Running', async () => {
      const p = await kubectlJson<PodList['items'][number]>([
        'get',
        'pod',
        'app-after-rotation',
        '-n',
        'team-a',
      ]);
      const waiting = p.status.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff') {
        throw new Error(`${waiting.reason}: ${waiting.message ?? ''}`);
      }
      return p.status.phase === 'Running' ? true : undefined;
    });
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
    await eventually('the team-w Pod Running', async () => {
      const p = await kubectlJson<PodList['items'][number]>(['get', 'pod', 'app', '-n', 'team-w']);
      return p.status.phase === 'Running' ? true : undefined;
    });

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
