import { X509Certificate, createPrivateKey } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '@eatr/core';
import {
  CHART,
  KUBE_VERSION,
  containers,
  envOf,
  field,
  find,
  helm,
  parseRendered,
  podSpec,
  render,
  renderError,
  rulesOf,
  type Rendered,
  VALIDATING_ADMISSION_POLICY,
} from './support.js';

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const OTHER_REGISTRY = '210987654321.dkr.ecr.us-east-1.amazonaws.com';
const ACCESS_KEY = 'AKIACHARTTESTKEY0001';
const SECRET_KEY = 'chart-test-secret/abcdefghijklmnopqrstu';
const SESSION_TOKEN = 'chart-test-session-token-0123456789';

/** Every optional part switched on: the renders below check each one. */
const EVERYTHING = {
  redis: { enabled: false },
  externalRedis: {
    url: 'rediss://redis.example.com:6380/0',
    existingSecret: 'eatr-redis',
    tls: { caSecret: 'eatr-redis-ca' },
  },
  renewer: { autoscaling: { enabled: true, targetMemoryUtilizationPercentage: 80 } },
  metrics: {
    serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
    prometheusRule: { enabled: true },
    grafanaDashboard: { enabled: true, namespace: 'monitoring' },
  },
  credentials: [
    {
      registry: REGISTRY,
      accessKeyId: ACCESS_KEY,
      secretAccessKey: SECRET_KEY,
      sessionToken: SESSION_TOKEN,
    },
    { registry: OTHER_REGISTRY, roleArn: 'arn:aws:iam::210987654321:role/pull', externalId: 'x-1' },
  ],
  aws: {
    usePodIdentity: true,
    region: 'eu-west-1',
    webIdentity: { roleArn: 'arn:aws:iam::123456789012:role/eatr' },
  },
  proxy: { httpsProxy: 'http://proxy.corp:3128', noProxy: '.svc,.cluster.local' },
  networkPolicy: { egress: { enabled: true } },
};

/** Settings a component reads, by environment variable name. */
function settingsOf(component: 'watcher' | 'renewer'): Set<string> {
  const names = new Set<string>();
  for (const setting of SETTINGS) {
    if ((setting.components as readonly string[]).includes(component))
      for (const env of setting.env) names.add(env);
  }
  return names;
}

const kinds = (objects: readonly Rendered[]) =>
  objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

describe('helm lint', () => {
  it('passes on the defaults and with every option on', async () => {
    const defaults = await helm(['lint', CHART, '--strict', '--kube-version', KUBE_VERSION]);
    expect(defaults.stdout + defaults.stderr).toContain('0 chart(s) failed');
    expect(defaults.code).toBe(0);
    const all = await helm([
      'lint',
      CHART,
      '--strict',
      '--kube-version',
      KUBE_VERSION,
      '--set',
      'redis.enabled=false,externalRedis.url=redis://r:6379,renewer.autoscaling.enabled=true',
      '--set',
      'metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,metrics.grafanaDashboard.enabled=true',
    ]);
    expect(all.stdout + all.stderr).toContain('0 chart(s) failed');
  });
});

describe('helm template: defaults', () => {
  it('renders the watcher, the renewers, a Redis, their RBAC and policies, and nothing optional', async () => {
    const objects = await render();
    expect(kinds(objects)).toEqual(
      [
        'ClusterRole/eatr-renewer',
        'ClusterRole/eatr-watcher',
        'ClusterRoleBinding/eatr-renewer',
        'ClusterRoleBinding/eatr-watcher',
        'Deployment/eatr-renewer',
        'Deployment/eatr-watcher',
        'NetworkPolicy/eatr-redis',
        'NetworkPolicy/eatr-renewer',
        'NetworkPolicy/eatr-watcher',
        'PodDisruptionBudget/eatr-renewer',
        'PodDisruptionBudget/eatr-watcher',
        'Role/eatr-watcher-leader-election',
        'RoleBinding/eatr-watcher-leader-election',
        'Secret/eatr-digest-key',
        'Secret/eatr-redis-auth',
        'Service/eatr-redis',
        'Service/eatr-renewer',
        'Service/eatr-watcher',
        'ServiceAccount/eatr-redis',
        'ServiceAccount/eatr-renewer',
        'ServiceAccount/eatr-watcher',
        'StatefulSet/eatr-redis',
      ].sort(),
    );
    const watcher = find(objects, 'Deployment', 'eatr-watcher');
    const renewer = find(objects, 'Deployment', 'eatr-renewer');
    expect(field(watcher, 'spec', 'replicas')).toBe(1);
    expect(field(renewer, 'spec', 'replicas')).toBe(2);
    expect(containers(watcher)[0]?.command).toEqual(['node', '/app/bin/eatr-watcher.js']);
    expect(containers(renewer)[0]?.command).toEqual(['node', '/app/bin/eatr-renewer.js']);
    expect(containers(watcher)[0]?.image).toBe('eatr:0.2.0');
    for (const workload of [watcher, renewer]) {
      const env = envOf(workload);
      expect(env.get('EATR_REDIS_URL')).toBe('redis://eatr-redis.eatr-system.svc:6379');
      expect(env.get('EATR_HOST_NAMESPACE')).toBe('ci-cd');
      expect(env.get('EATR_METRICS_PORT')).toBe('5000');
      expect(env.get('POD_NAME')).toBe('field:metadata.name');
      expect(env.get('EATR_REDIS_PASSWORD')).toBe('secret:eatr-redis-auth/password');
      expect(env.get('EATR_KUBE_API_QPS')).toBe('50');
      expect(env.get('EATR_KUBE_API_BURST')).toBe('100');
    }
    // 75% of the default memory limits, 256Mi and 384Mi.
    expect(envOf(watcher).get('NODE_OPTIONS')).toBe(
      '--max-old-space-size=192 --max-semi-space-size=2',
    );
    expect(envOf(renewer).get('NODE_OPTIONS')).toBe(
      '--max-old-space-size=288 --max-semi-space-size=2',
    );
    for (const workload of [watcher, renewer])
      expect(envOf(workload).get('MALLOC_ARENA_MAX')).toBe('2');
    expect(envOf(watcher).get('EATR_LEADER_ELECTION_NAMESPACE')).toBe('ci-cd');
    expect(envOf(renewer).get('EATR_SERVICE_ACCOUNTS')).toBe('default');
    expect(envOf(renewer).get('AWS_EC2_METADATA_DISABLED')).toBe('true');
  });

  it('sets only environment variables the component reads (names from the config SETTINGS)', async () => {
    const objects = await render({ values: EVERYTHING });
    // Read by the Node runtime or the AWS SDK, not by eatr's own settings.
    const runtime = new Set([
      'NODE_EXTRA_CA_CERTS',
      'NODE_OPTIONS',
      'MALLOC_ARENA_MAX',
      'AWS_EC2_METADATA_DISABLED',
      'AWS_REGION',
      'AWS_ROLE_ARN',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
      'AWS_ROLE_SESSION_NAME',
      'AWS_STS_REGIONAL_ENDPOINTS',
    ]);
    for (const component of ['watcher', 'renewer'] as const) {
      const known = settingsOf(component);
      const env = envOf(find(objects, 'Deployment', `eatr-${component}`));
      const unknown = [...env.keys()].filter((name) => !known.has(name) && !runtime.has(name));
      expect(unknown, `${component} env`).toEqual([]);
    }
    const watcherEnv = envOf(find(objects, 'Deployment', 'eatr-watcher'));
    expect(
      [...watcherEnv.keys()].filter((n) => n.startsWith('AWS_') || n.endsWith('PROXY')),
    ).toEqual([]);
  });

  it('runs every container non-root with a read-only root filesystem, no capabilities and RuntimeDefault seccomp', async () => {
    for (const values of [{}, EVERYTHING, { redis: { persistence: { enabled: true } } }]) {
      const objects = await render({ values });
      const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
      expect(workloads.length).toBeGreaterThanOrEqual(2);
      for (const workload of workloads) {
        const name = `${workload.kind}/${workload.metadata.name}`;
        const pod = podSpec(workload);
        expect(field(pod, 'securityContext', 'runAsNonRoot'), name).toBe(true);
        expect(field(pod, 'securityContext', 'seccompProfile', 'type'), name).toBe(
          'RuntimeDefault',
        );
        expect(pod.hostNetwork, name).toBeUndefined();
        expect(pod.hostPID, name).toBeUndefined();
        for (const container of containers(workload)) {
          const sc = container.securityContext ?? {};
          expect(sc.readOnlyRootFilesystem, name).toBe(true);
          expect(sc.allowPrivilegeEscalation, name).toBe(false);
          expect(sc.runAsNonRoot, name).toBe(true);
          expect(sc.privileged, name).toBeUndefined();
          expect(field(sc, 'capabilities', 'drop'), name).toEqual(['ALL']);
          expect(field(sc, 'capabilities', 'add'), name).toBeUndefined();
          expect(field(sc, 'seccompProfile', 'type'), name).toBe('RuntimeDefault');
          expect(field(container.resources, 'requests', 'memory'), name).toBeDefined();
          expect(field(container.resources, 'limits', 'memory'), name).toBeDefined();
          expect(container.livenessProbe, name).toBeDefined();
          expect(container.readinessProbe, name).toBeDefined();
        }
      }
    }
  });

  it('probes /healthz and /readyz on the metrics port, which the metrics Services expose', async () => {
    const objects = await render({ values: { metrics: { port: 9100 } } });
    for (const component of ['watcher', 'renewer']) {
      const [container] = containers(find(objects, 'Deployment', `eatr-${component}`));
      expect(container?.ports).toEqual([{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }]);
      expect(field(container?.livenessProbe, 'httpGet')).toEqual({
        path: '/healthz',
        port: 'metrics',
      });
      expect(field(container?.readinessProbe, 'httpGet')).toEqual({
        path: '/readyz',
        port: 'metrics',
      });
      const service = find(objects, 'Service', `eatr-${component}`);
      expect(field(service, 'spec', 'ports')).toEqual([
        { name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' },
      ]);
      expect(field(service, 'spec', 'selector', 'app.kubernetes.io/component')).toBe(component);
    }
  });

  it('runs Redis with noeviction, a generated password, no persistence by default, and its own token-less ServiceAccount', async () => {
    const objects = await render();
    const redis = find(objects, 'StatefulSet', 'eatr-redis');
    const [container] = containers(redis);
    expect(container?.image).toBe('redis:7.4-alpine');
    const args = container?.args ?? [];
    expect(
      args.slice(args.indexOf('--maxmemory-policy'), args.indexOf('--maxmemory-policy') + 2),
    ).toEqual(['--maxmemory-policy', 'noeviction']);
    // A password by default, generated once into a Secret (helm template: a fresh install).
    expect(args).toEqual(expect.arrayContaining(['--requirepass', '$(REDIS_PASSWORD)']));
    expect(args).not.toContain('--protected-mode');
    const generated = find(objects, 'Secret', 'eatr-redis-auth');
    expect(Buffer.from(String(field(generated, 'data', 'password')), 'base64').toString()).toMatch(
      /^[A-Za-z0-9]{40}$/,
    );
    for (const name of ['eatr-watcher', 'eatr-renewer'])
      expect(envOf(find(objects, 'Deployment', name)).get('EATR_REDIS_PASSWORD')).toBe(
        'secret:eatr-redis-auth/password',
      );
    const open = await render({ values: { redis: { auth: { enabled: false } } } });
    expect(containers(find(open, 'StatefulSet', 'eatr-redis'))[0]?.args).toContain(
      '--protected-mode',
    );
    expect(open.some((o) => o.kind === 'Secret' && o.metadata.name === 'eatr-redis-auth')).toBe(
      false,
    );
    expect(podSpec(redis).automountServiceAccountToken).toBe(false);
    expect(podSpec(redis).serviceAccountName).toBe('eatr-redis');
    expect(field(redis, 'spec', 'volumeClaimTemplates')).toBeUndefined();

    const persistent = await render({
      values: {
        redis: {
          persistence: { enabled: true, size: '2Gi', storageClass: 'fast' },
          auth: { existingSecret: 'redis-auth' },
          image: { repository: 'mirror.example.com/redis', tag: '7.4.2-alpine' },
        },
      },
    });
    const withDisk = find(persistent, 'StatefulSet', 'eatr-redis');
    const [diskContainer] = containers(withDisk);
    expect(diskContainer?.image).toBe('mirror.example.com/redis:7.4.2-alpine');
    expect(diskContainer?.args).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--requirepass', '$(REDIS_PASSWORD)']),
    );
    expect(diskContainer?.args).not.toContain('--protected-mode');
    expect(persistent.some((o) => o.metadata.name === 'eatr-redis-auth')).toBe(false);
    expect(field(withDisk, 'spec', 'volumeClaimTemplates', 0, 'spec')).toMatchObject({
      storageClassName: 'fast',
      resources: { requests: { storage: '2Gi' } },
    });
    for (const name of ['eatr-watcher', 'eatr-renewer'])
      expect(envOf(find(persistent, 'Deployment', name)).get('EATR_REDIS_PASSWORD')).toBe(
        'secret:redis-auth/password',
      );
  });

  it('runs the bundled Redis over TLS on request: a generated CA and certificate for its Service names, eatr trusting that CA', async () => {
    const objects = await render({ values: { redis: { tls: { enabled: true } } } });
    const redis = find(objects, 'StatefulSet', 'eatr-redis');
    const args = containers(redis)[0]?.args ?? [];
    expect(args.slice(1, 5)).toEqual(['--port', '0', '--tls-port', '6379']);
    expect(args).toEqual(expect.arrayContaining(['--tls-cert-file', '/tls/tls.crt']));
    expect(args).toEqual(expect.arrayContaining(['--requirepass', '$(REDIS_PASSWORD)']));
    const secret = find(objects, 'Secret', 'eatr-redis-tls');
    expect(secret.type).toBe('kubernetes.io/tls');
    const pem = (key: string) =>
      Buffer.from(String(field(secret, 'data', key)), 'base64').toString();
    const cert = new X509Certificate(pem('tls.crt'));
    const ca = new X509Certificate(pem('ca.crt'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pem('tls.key')))).toBe(true);
    expect(cert.checkHost('eatr-redis.eatr-system.svc')).toBe('eatr-redis.eatr-system.svc');
    expect(cert.checkHost('localhost')).toBe('localhost');
    for (const name of ['eatr-watcher', 'eatr-renewer']) {
      const deployment = find(objects, 'Deployment', name);
      const env = envOf(deployment);
      expect(env.get('EATR_REDIS_URL')).toBe('rediss://eatr-redis.eatr-system.svc:6379');
      expect(env.get('EATR_REDIS_TLS_CA')).toBe('/etc/eatr/redis-tls/ca.crt');
      expect(podSpec(deployment).volumes).toContainEqual({
        name: 'redis-tls',
        secret: { secretName: 'eatr-redis-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
      });
    }
    // A cert-manager Certificate's Secret instead: nothing generated.
    const own = await render({
      values: { redis: { tls: { enabled: true, existingSecret: 'redis-cert' } } },
    });
    expect(own.some((o) => o.metadata.name === 'eatr-redis-tls')).toBe(false);
    const volumes = podSpec(find(own, 'StatefulSet', 'eatr-redis')).volumes as {
      name: string;
      secret?: { secretName: string };
    }[];
    expect(volumes.find((v) => v.name === 'tls')?.secret?.secretName).toBe('redis-cert');
    // Off by default.
    expect((await render()).some((o) => o.metadata.name === 'eatr-redis-tls')).toBe(false);
  });

  it('labels every resource with the standard labels, never with managed-by=eatr', async () => {
    const objects = await render({
      values: EVERYTHING,
      apiVersions: [VALIDATING_ADMISSION_POLICY],
    });
    for (const o of objects) {
      const labels = o.metadata.labels ?? {};
      const name = `${o.kind}/${o.metadata.name}`;
      expect(labels, name).toMatchObject({
        'app.kubernetes.io/name': 'eatr',
        'app.kubernetes.io/instance': 'eatr',
        'app.kubernetes.io/version': '0.2.0',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'eatr',
        'helm.sh/chart': 'eatr-0.2.0',
      });
    }
  });

  it('keeps one kind of resource per template file', async () => {
    const objects = await render({
      values: EVERYTHING,
      apiVersions: [VALIDATING_ADMISSION_POLICY],
    });
    const bySource = new Map<string, Set<string>>();
    for (const o of objects)
      bySource.set(o.source, (bySource.get(o.source) ?? new Set()).add(o.kind));
    for (const [source, found] of bySource) expect([...found], source).toHaveLength(1);
    const files = (await readdir(join(CHART, 'templates'))).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(25);
  });
});

describe('helm template: value combinations', () => {
  it('passes the Kubernetes API rate limit to both components', async () => {
    const objects = await render({ values: { config: { kubeApi: { qps: 0, burst: 2000 } } } });
    for (const name of ['eatr-watcher', 'eatr-renewer']) {
      const env = envOf(find(objects, 'Deployment', name));
      expect([name, env.get('EATR_KUBE_API_QPS'), env.get('EATR_KUBE_API_BURST')]).toEqual([
        name,
        '0',
        '2000',
      ]);
    }
  });

  it.each<[string, string | undefined]>([
    ['384Mi', '--max-old-space-size=288 --max-semi-space-size=2'],
    ['1Gi', '--max-old-space-size=768 --max-semi-space-size=2'],
    ['1.5Gi', '--max-old-space-size=1152 --max-semi-space-size=2'],
    ['512M', '--max-old-space-size=366 --max-semi-space-size=2'], // 512e6 bytes = 488.3 MiB
    ['2G', '--max-old-space-size=1430 --max-semi-space-size=2'],
    ['1Ti', undefined],
    ['402653184', undefined],
    ['lots', undefined],
  ])(
    'sizes the Node heap to 75%% of a %s memory limit (or leaves NODE_OPTIONS out)',
    async (memory, expected) => {
      const resources = { requests: { memory: '64Mi' }, limits: { memory } };
      const objects = await render({
        values: { watcher: { resources }, renewer: { resources } },
      });
      for (const name of ['eatr-watcher', 'eatr-renewer'])
        expect([name, envOf(find(objects, 'Deployment', name)).get('NODE_OPTIONS')]).toEqual([
          name,
          expected,
        ]);
    },
  );

  it('leaves NODE_OPTIONS out without a memory limit, and to extraEnv when it sets one', async () => {
    const objects = await render({
      values: {
        watcher: { resources: { requests: { memory: '64Mi' }, limits: null } },
        renewer: { extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1000' }] },
      },
    });
    expect(envOf(find(objects, 'Deployment', 'eatr-watcher')).has('NODE_OPTIONS')).toBe(false);
    const renewer = find(objects, 'Deployment', 'eatr-renewer');
    expect(containers(renewer)[0]?.env?.filter((e) => e.name === 'NODE_OPTIONS')).toEqual([
      { name: 'NODE_OPTIONS', value: '--max-old-space-size=1000' },
    ]);
  });

  it('uses an external Redis: URL, password from a Secret, TLS CA, and no bundled Redis', async () => {
    const objects = await render({ values: EVERYTHING });
    expect(objects.filter((o) => o.metadata.name.startsWith('eatr-redis'))).toEqual([]);
    for (const name of ['eatr-watcher', 'eatr-renewer']) {
      const workload = find(objects, 'Deployment', name);
      const env = envOf(workload);
      expect(env.get('EATR_REDIS_URL')).toBe('rediss://redis.example.com:6380/0');
      expect(env.get('EATR_REDIS_PASSWORD')).toBe('secret:eatr-redis/password');
      expect(env.get('EATR_REDIS_TLS_CA')).toBe('/etc/eatr/redis-tls/ca.crt');
      // The URL says TLS; no flag needed.
      expect(env.has('EATR_REDIS_TLS')).toBe(false);
      expect(containers(workload)[0]?.volumeMounts).toContainEqual({
        name: 'redis-tls',
        mountPath: '/etc/eatr/redis-tls',
        readOnly: true,
      });
    }
  });

  const external = (values: Record<string, unknown>) => ({
    redis: { enabled: false },
    externalRedis: values,
    networkPolicy: { egress: { enabled: true } },
  });
  const redisEgressPorts = (objects: readonly Rendered[], name: string) => {
    const rules = field(find(objects, 'NetworkPolicy', name), 'spec', 'egress') as {
      ports?: { port: number }[];
    }[];
    // The rule after DNS and the API server.
    return rules[2]?.ports?.map((p) => p.port);
  };

  it.each<[string, Record<string, unknown>, Record<string, string>, number[]]>([
    [
      'Sentinel, with both passwords from Secrets and TLS with a CA and a client certificate',
      {
        existingSecret: 'redis-pw',
        sentinel: {
          addresses: ['redis-node-0.redis-headless:26379', 'redis-node-1.redis-headless:26379'],
          masterName: 'eatr',
          existingSecret: 'sentinel-pw',
        },
        tls: { enabled: true, caSecret: 'redis-ca', clientCertSecret: 'redis-client' },
      },
      {
        EATR_REDIS_SENTINELS: 'redis-node-0.redis-headless:26379,redis-node-1.redis-headless:26379',
        EATR_REDIS_SENTINEL_MASTER: 'eatr',
        EATR_REDIS_SENTINEL_PASSWORD: 'secret:sentinel-pw/sentinel-password',
        EATR_REDIS_PASSWORD: 'secret:redis-pw/password',
        EATR_REDIS_TLS: 'true',
        EATR_REDIS_TLS_CA: '/etc/eatr/redis-tls/ca.crt',
        EATR_REDIS_TLS_CERT: '/etc/eatr/redis-tls/tls.crt',
        EATR_REDIS_TLS_KEY: '/etc/eatr/redis-tls/tls.key',
      },
      [26379, 6379],
    ],
    [
      'Cluster',
      { cluster: { nodes: ['redis-0:6379', 'redis-1:6380'] } },
      { EATR_REDIS_CLUSTER_NODES: 'redis-0:6379,redis-1:6380' },
      [6379, 6380],
    ],
    [
      'Cluster over TLS with the public CAs',
      { cluster: { nodes: ['clustercfg.eatr.cache.amazonaws.com:6379'] }, tls: { enabled: true } },
      {
        EATR_REDIS_CLUSTER_NODES: 'clustercfg.eatr.cache.amazonaws.com:6379',
        EATR_REDIS_TLS: 'true',
      },
      [6379],
    ],
  ])('renders %s', async (_mode, values, wanted, ports) => {
    const objects = await render({ values: external(values) });
    for (const name of ['eatr-watcher', 'eatr-renewer']) {
      const workload = find(objects, 'Deployment', name);
      // Where and how to connect (not how long a refusal may last before /healthz fails).
      const redisEnv = Object.fromEntries(
        [...envOf(workload)].filter(
          ([key]) => key.startsWith('EATR_REDIS_') && key !== 'EATR_REDIS_UNHEALTHY_AFTER',
        ),
      );
      expect(redisEnv, name).toEqual(wanted);
      const mounted = (containers(workload)[0]?.volumeMounts ?? []).some(
        (m) => m.name === 'redis-tls',
      );
      expect(mounted, name).toBe('EATR_REDIS_TLS_CA' in wanted);
      expect(redisEgressPorts(objects, name), name).toEqual(ports);
    }
    if ('EATR_REDIS_TLS_CERT' in wanted) {
      const volumes = podSpec(find(objects, 'Deployment', 'eatr-renewer')).volumes as {
        name: string;
        projected?: { sources: unknown[] };
      }[];
      const volume = volumes.find((v) => v.name === 'redis-tls');
      expect(volume?.projected?.sources).toEqual([
        { secret: { name: 'redis-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          secret: {
            name: 'redis-client',
            items: [
              { key: 'tls.crt', path: 'tls.crt' },
              { key: 'tls.key', path: 'tls.key' },
            ],
          },
        },
      ]);
    }
  });

  it('scales renewers with an HPA and then leaves replicas to it', async () => {
    const objects = await render({ values: EVERYTHING });
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'eatr-renewer');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(field(hpa, 'spec', 'scaleTargetRef')).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'eatr-renewer',
    });
    expect(field(hpa, 'spec', 'minReplicas')).toBe(2);
    expect((field(hpa, 'spec', 'metrics') as unknown[]).length).toBe(2);
    expect(field(find(objects, 'Deployment', 'eatr-renewer'), 'spec', 'replicas')).toBeUndefined();
  });

  it('with monitoring on: a ServiceMonitor for both metrics Services, the alert file verbatim, the dashboard', async () => {
    const objects = await render({ values: EVERYTHING });
    const monitor = find(objects, 'ServiceMonitor', 'eatr');
    expect(monitor.metadata.labels?.release).toBe('prometheus');
    const selector = field(monitor, 'spec', 'selector', 'matchLabels') as Record<string, string>;
    const services = objects.filter(
      (o) =>
        o.kind === 'Service' &&
        Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v) &&
        ['watcher', 'renewer'].includes(o.metadata.labels?.['app.kubernetes.io/component'] ?? ''),
    );
    expect(services.map((s) => s.metadata.name).sort()).toEqual(['eatr-renewer', 'eatr-watcher']);
    expect(field(monitor, 'spec', 'endpoints', 0, 'port')).toBe('metrics');
    // The tenant's `namespace` label on eatr's series must survive the scrape (alerts group by it).
    expect(field(monitor, 'spec', 'endpoints', 0, 'honorLabels')).toBe(true);

    const rule = find(objects, 'PrometheusRule', 'eatr');
    const alerts: unknown = parse(await readFile(join(CHART, 'files/alerts.yaml'), 'utf8'));
    expect(rule.spec).toEqual(alerts);

    const dashboard = find(objects, 'ConfigMap', 'eatr-dashboard');
    expect(dashboard.metadata.namespace).toBe('monitoring');
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    const json = field(dashboard, 'data', 'eatr.json');
    expect(typeof json).toBe('string');
    expect(JSON.parse(json as string)).toEqual(
      JSON.parse(await readFile(join(CHART, 'dashboards/eatr.json'), 'utf8')),
    );
  });

  it('creates credential Secrets from values in the host namespace, and holds secret values nowhere else', async () => {
    const objects = await render({ values: EVERYTHING });
    const secrets = objects.filter((o) => o.kind === 'Secret');
    expect(secrets.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual([
      `ci-cd/eatr-aws-credentials-${REGISTRY}`,
      `ci-cd/eatr-aws-credentials-${OTHER_REGISTRY}`,
      // Generated once: the key of the credential digests on Secrets and in Redis.
      'eatr-system/eatr-digest-key',
    ]);
    const decode = (s: Rendered) =>
      Object.fromEntries(
        Object.entries((s.data ?? {}) as Record<string, string>).map(([k, v]) => [
          k,
          Buffer.from(v, 'base64').toString('utf8'),
        ]),
      );
    expect(decode(find(objects, 'Secret', `eatr-aws-credentials-${REGISTRY}`))).toEqual({
      aws_access_key_id: ACCESS_KEY,
      aws_secret_access_key: SECRET_KEY,
      aws_session_token: SESSION_TOKEN,
    });
    expect(decode(find(objects, 'Secret', `eatr-aws-credentials-${OTHER_REGISTRY}`))).toEqual({
      aws_role_arn: 'arn:aws:iam::210987654321:role/pull',
      aws_external_id: 'x-1',
    });
    const elsewhere = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
    for (const value of [ACCESS_KEY, SECRET_KEY, SESSION_TOKEN]) {
      expect(elsewhere).not.toContain(value);
      expect(elsewhere).not.toContain(Buffer.from(value).toString('base64'));
    }
    // Without credentials in values, the chart renders no Secret but the generated keys.
    expect(
      (await render())
        .filter((o) => o.kind === 'Secret')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['eatr-digest-key', 'eatr-redis-auth']);
  });

  it('writes the access policy: an allowedNamespaces annotation per credential Secret, the default to both components', async () => {
    const objects = await render({
      values: {
        config: { defaultAllowedNamespaces: 'none' },
        credentials: [
          {
            registry: REGISTRY,
            accessKeyId: ACCESS_KEY,
            secretAccessKey: SECRET_KEY,
            allowedNamespaces: 'eatr.io/tenant in (payments)',
          },
          { registry: OTHER_REGISTRY, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
        ],
      },
    });
    expect(
      find(objects, 'Secret', `eatr-aws-credentials-${REGISTRY}`).metadata.annotations,
    ).toEqual({ 'eatr.io/allowed-namespaces': 'eatr.io/tenant in (payments)' });
    expect(
      find(objects, 'Secret', `eatr-aws-credentials-${OTHER_REGISTRY}`).metadata.annotations,
    ).toBeUndefined();
    for (const name of ['eatr-watcher', 'eatr-renewer'])
      expect(envOf(find(objects, 'Deployment', name)).get('EATR_DEFAULT_ALLOWED_NAMESPACES')).toBe(
        'none',
      );
    expect(
      envOf(find(await render(), 'Deployment', 'eatr-renewer')).get(
        'EATR_DEFAULT_ALLOWED_NAMESPACES',
      ),
    ).toBe('*');
  });

  it('passes the tenant role allowlist to both components, and only then lets the renewer request STS tokens, limited by a policy', async () => {
    const tenantRoles = [
      { namespaces: 'team=a', roleArns: ['arn:aws:iam::111122223333:role/team-a-*'] },
      {
        namespaces: 'team=b',
        roleArns: ['arn:aws:iam::111122223333:role/b'],
        serviceAccounts: ['puller', 'default'],
      },
    ];
    const objects = await render({
      values: { config: { tenantRoles } },
      apiVersions: [VALIDATING_ADMISSION_POLICY],
    });
    for (const name of ['eatr-watcher', 'eatr-renewer'])
      expect(
        JSON.parse(envOf(find(objects, 'Deployment', name)).get('EATR_TENANT_ROLES') ?? ''),
      ).toEqual(tenantRoles);
    expect(rulesOf(find(objects, 'ClusterRole', 'eatr-renewer'))).toContainEqual({
      apiGroups: [''],
      resources: ['serviceaccounts/token'],
      verbs: ['create'],
    });
    const policy = find(objects, 'ValidatingAdmissionPolicy', 'eatr-renewer-tokenrequests');
    expect(field(policy, 'spec', 'variables')).toEqual([
      { name: 'serviceAccounts', expression: '["default","puller"]' },
    ]);
    find(objects, 'ValidatingAdmissionPolicyBinding', 'eatr-renewer-tokenrequests');

    // Off by default: no token rights, no policy, an empty list to the components.
    const defaults = await render({ apiVersions: [VALIDATING_ADMISSION_POLICY] });
    expect(
      rulesOf(find(defaults, 'ClusterRole', 'eatr-renewer')).flatMap((r) => r.resources ?? []),
    ).not.toContain('serviceaccounts/token');
    expect(defaults.some((o) => o.metadata.name === 'eatr-renewer-tokenrequests')).toBe(false);
    expect(envOf(find(defaults, 'Deployment', 'eatr-renewer')).get('EATR_TENANT_ROLES')).toBe('[]');
  });

  it('refuses a tenant role rule whose ARN pattern or ServiceAccount is malformed, naming it', async () => {
    const message = await renderError({
      values: {
        config: { tenantRoles: [{ namespaces: 'team=a', roleArns: ['arn:aws:s3:::bucket'] }] },
      },
    });
    expect(message).toContain('tenantRoles');
    expect(message).toContain('arn:aws:s3:::bucket');
  });

  it("passes labels and annotations for eatr's Secrets to the renewer, sorted, and refuses eatr's own keys", async () => {
    const objects = await render({
      values: {
        renewer: {
          secretLabels: { team: 'a', 'argocd.argoproj.io/instance': 'none' },
          secretAnnotations: { 'argocd.argoproj.io/sync-options': 'Prune=false' },
        },
      },
    });
    const env = envOf(find(objects, 'Deployment', 'eatr-renewer'));
    expect(env.get('EATR_SECRET_LABELS')).toBe('argocd.argoproj.io/instance=none,team=a');
    expect(env.get('EATR_SECRET_ANNOTATIONS')).toBe('argocd.argoproj.io/sync-options=Prune=false');
    expect(
      envOf(find(await render(), 'Deployment', 'eatr-renewer')).has('EATR_SECRET_LABELS'),
    ).toBe(false);
    const refused = await renderError({
      values: { renewer: { secretLabels: { 'eatr.io/instance': 'other' } } },
    });
    expect(refused).toContain("invalid propertyName 'eatr.io/instance'");
  });

  it('gives the renewer a pod AWS identity: web identity token, role, region', async () => {
    const objects = await render({
      values: {
        ...EVERYTHING,
        renewer: {
          serviceAccount: {
            annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' },
          },
        },
      },
    });
    const renewer = find(objects, 'Deployment', 'eatr-renewer');
    const env = envOf(renewer);
    expect(env.get('EATR_USE_POD_IDENTITY')).toBe('true');
    expect(env.get('AWS_ROLE_ARN')).toBe('arn:aws:iam::123456789012:role/eatr');
    expect(env.get('AWS_REGION')).toBe('eu-west-1');
    const tokenFile = env.get('AWS_WEB_IDENTITY_TOKEN_FILE') ?? '';
    const mount = containers(renewer)[0]?.volumeMounts?.find(
      (m) => m.name === 'aws-web-identity-token',
    );
    expect(tokenFile).toBe(`${mount?.mountPath ?? '?'}/token`);
    const volume = (podSpec(renewer).volumes as { name: string }[]).find(
      (v) => v.name === 'aws-web-identity-token',
    );
    expect(field(volume, 'projected', 'sources', 0, 'serviceAccountToken')).toEqual({
      audience: 'sts.amazonaws.com',
      expirationSeconds: 86400,
      path: 'token',
    });
    expect(find(objects, 'ServiceAccount', 'eatr-renewer').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x',
    });
    expect(env.get('HTTPS_PROXY')).toBe('http://proxy.corp:3128');
    expect(env.get('NO_PROXY')).toBe('.svc,.cluster.local');
  });

  it('restricts egress to DNS, the API server, Redis and (renewer only) AWS when asked', async () => {
    const objects = await render({ values: EVERYTHING });
    const ports = (name: string) =>
      (field(find(objects, 'NetworkPolicy', name), 'spec', 'egress') as { ports: unknown[] }[]).map(
        (rule) => rule.ports,
      );
    const dns = [
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ];
    const api = [
      { port: 443, protocol: 'TCP' },
      { port: 6443, protocol: 'TCP' },
    ];
    const redis = [{ port: 6380, protocol: 'TCP' }];
    expect(ports('eatr-watcher')).toEqual([dns, api, redis]);
    expect(ports('eatr-renewer')).toEqual([dns, api, redis, [{ port: 443, protocol: 'TCP' }]]);

    // By default only ingress is restricted: metrics from anywhere, Redis from eatr pods only.
    const defaults = await render();
    const watcherPolicy = find(defaults, 'NetworkPolicy', 'eatr-watcher');
    expect(field(watcherPolicy, 'spec', 'policyTypes')).toEqual(['Ingress']);
    expect(field(watcherPolicy, 'spec', 'ingress')).toEqual([
      { ports: [{ port: 'metrics', protocol: 'TCP' }] },
    ]);
    const redisPolicy = find(defaults, 'NetworkPolicy', 'eatr-redis');
    expect(field(redisPolicy, 'spec', 'egress')).toEqual([]);
    expect(field(redisPolicy, 'spec', 'ingress', 0, 'from', 0, 'podSelector')).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'eatr', 'app.kubernetes.io/instance': 'eatr' },
      matchExpressions: [
        { key: 'app.kubernetes.io/component', operator: 'In', values: ['watcher', 'renewer'] },
      ],
    });
  });

  it('places the leader-election Role in its namespace, and reads no Secret in the host namespace', async () => {
    const objects = await render({
      values: { hostNamespace: '', watcher: { leaderElection: { namespace: 'leases' } } },
      namespace: 'platform',
    });
    // The watcher reads no Secret: no Role of its in the host namespace.
    expect(objects.filter((o) => o.metadata.name === 'eatr-watcher-credentials')).toEqual([]);
    expect(find(objects, 'Role', 'eatr-watcher-leader-election').metadata.namespace).toBe('leases');
    const env = envOf(find(objects, 'Deployment', 'eatr-watcher'));
    expect(env.get('EATR_HOST_NAMESPACE')).toBe('platform');
    expect(env.get('EATR_LEADER_ELECTION_NAMESPACE')).toBe('leases');
  });
});

describe('helm template: RBAC', () => {
  it('with config.servedNamespaces, grants Secrets in those namespaces and the host namespace alone', async () => {
    const objects = await render({
      values: { hostNamespace: '', config: { servedNamespaces: ['team-a', 'team-b', 'platform'] } },
      namespace: 'platform',
    });
    expect(
      rulesOf(find(objects, 'ClusterRole', 'eatr-renewer')).flatMap((r) => r.resources ?? []),
    ).not.toContain('secrets');
    const roles = objects.filter(
      (o) => o.kind === 'Role' && o.metadata.name === 'eatr-renewer-secrets',
    );
    // The host namespace (the release namespace here) is also served: one Role there, not two.
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['team-a', 'team-b', 'platform']);
    for (const role of roles)
      expect(rulesOf(role)).toEqual([
        {
          apiGroups: [''],
          resources: ['secrets'],
          verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
        },
        { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['patch'] },
      ]);
    // ServiceAccounts stay readable cluster-wide (no secret in them), patched only where served.
    expect(rulesOf(find(objects, 'ClusterRole', 'eatr-renewer'))).toContainEqual({
      apiGroups: [''],
      resources: ['serviceaccounts'],
      verbs: ['get', 'list', 'watch'],
    });
    const bindings = objects.filter(
      (o) => o.kind === 'RoleBinding' && o.metadata.name === 'eatr-renewer-secrets',
    );
    expect(bindings.map((b) => b.metadata.namespace)).toEqual(['team-a', 'team-b', 'platform']);
    for (const binding of bindings)
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'eatr-renewer', namespace: 'platform' },
      ]);
    for (const name of ['eatr-watcher', 'eatr-renewer'])
      expect(envOf(find(objects, 'Deployment', name)).get('EATR_SERVED_NAMESPACES')).toBe(
        'team-a,team-b,platform',
      );

    // A host namespace of its own gets its Role too; by default there is none and the list is empty.
    const hosted = await render({
      values: { hostNamespace: 'creds', config: { servedNamespaces: ['team-a'] } },
    });
    expect(
      hosted
        .filter((o) => o.kind === 'Role' && o.metadata.name === 'eatr-renewer-secrets')
        .map((r) => r.metadata.namespace),
    ).toEqual(['team-a', 'creds']);
    const defaults = await render();
    expect(defaults.filter((o) => o.metadata.name === 'eatr-renewer-secrets')).toEqual([]);
    expect(envOf(find(defaults, 'Deployment', 'eatr-renewer')).get('EATR_SERVED_NAMESPACES')).toBe(
      '',
    );
  });

  it("with config.argoCd.registries, wires both components, lets the admission policy pass repo-creds in Argo CD's namespace alone, and serves that namespace in the least-read mode", async () => {
    const REG = '111111111111.dkr.ecr.eu-west-1.amazonaws.com';
    const objects = await render({
      values: {
        hostNamespace: 'creds',
        config: {
          servedNamespaces: ['team-a'],
          argoCd: { registries: [REG], namespace: 'gitops' },
        },
      },
      apiVersions: [VALIDATING_ADMISSION_POLICY],
    });
    for (const name of ['eatr-watcher', 'eatr-renewer']) {
      const env = envOf(find(objects, 'Deployment', name));
      expect([env.get('EATR_ARGOCD_REGISTRIES'), env.get('EATR_ARGOCD_NAMESPACE')]).toEqual([
        REG,
        'gitops',
      ]);
    }
    expect(
      objects
        .filter((o) => o.kind === 'Role' && o.metadata.name === 'eatr-renewer-secrets')
        .map((r) => r.metadata.namespace),
    ).toEqual(['team-a', 'creds', 'gitops']);
    const policy = JSON.stringify(
      find(objects, 'ValidatingAdmissionPolicy', 'eatr-renewer-secrets').spec,
    );
    expect(policy).toContain(
      "request.namespace == 'gitops' && variables.newType == 'Opaque' && object.metadata.?labels[?'argocd.argoproj.io/secret-type'].orValue('') == 'repo-creds'",
    );
    // Off by default: the policy admits no Opaque Secret at all.
    const defaults = await render({ apiVersions: [VALIDATING_ADMISSION_POLICY] });
    expect(
      JSON.stringify(find(defaults, 'ValidatingAdmissionPolicy', 'eatr-renewer-secrets').spec),
    ).toContain('{"name":"argoCdRepoCreds","expression":"false"}');
    expect(envOf(find(defaults, 'Deployment', 'eatr-renewer')).get('EATR_ARGOCD_REGISTRIES')).toBe(
      '',
    );
    const message = await renderError({
      values: { config: { argoCd: { registries: ['ghcr.io'] } } },
    });
    expect(message).toContain('ghcr.io');
  });

  it('grants list and delete on Pods only with renewer.recoverStuckPods, where the renewer serves', async () => {
    const pods = (objects: Rendered[], kind: string, name: string) =>
      objects
        .filter((o) => o.kind === kind && o.metadata.name === name)
        .map((o) => rulesOf(o).filter((r) => r.resources?.includes('pods')));
    const off = await render();
    expect(pods(off, 'ClusterRole', 'eatr-renewer')).toEqual([[]]);
    expect(envOf(find(off, 'Deployment', 'eatr-renewer')).get('EATR_RECOVER_STUCK_PODS')).toBe(
      'false',
    );
    const on = await render({ values: { renewer: { recoverStuckPods: true } } });
    expect(pods(on, 'ClusterRole', 'eatr-renewer')).toEqual([
      [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] }],
    ]);
    expect(envOf(find(on, 'Deployment', 'eatr-renewer')).get('EATR_RECOVER_STUCK_PODS')).toBe(
      'true',
    );
    const served = await render({
      values: {
        hostNamespace: 'creds',
        renewer: { recoverStuckPods: true },
        config: { servedNamespaces: ['team-a'] },
      },
    });
    expect(pods(served, 'ClusterRole', 'eatr-renewer')).toEqual([[]]);
    expect(pods(served, 'Role', 'eatr-renewer-secrets')).toEqual([
      [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] }],
      [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] }],
    ]);
  });

  it('refuses a served namespace that is not a namespace name, naming it', async () => {
    const message = await renderError({ values: { config: { servedNamespaces: ['Team_A'] } } });
    expect(message).toContain('servedNamespaces');
    expect(message).toContain('Team_A');
  });

  it('grants each component exactly the rules the code needs, and no wildcard', async () => {
    const objects = await render();
    const rules = (kind: string, name: string) =>
      rulesOf(find(objects, kind, name)).map((r) => ({
        apiGroups: r.apiGroups,
        resources: r.resources,
        verbs: r.verbs,
        ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
      }));
    expect(rules('ClusterRole', 'eatr-renewer')).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
      },
      {
        apiGroups: [''],
        resources: ['serviceaccounts'],
        verbs: ['get', 'list', 'watch', 'patch'],
      },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ]);
    expect(rules('ClusterRole', 'eatr-watcher')).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['list', 'watch'] },
    ]);
    expect(rules('Role', 'eatr-watcher-leader-election')).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'update'],
        resourceNames: ['eatr-watcher'],
      },
    ]);
    for (const role of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role'))
      for (const rule of rulesOf(role)) {
        expect([...rule.verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])]).not.toContain(
          '*',
        );
        expect(rule.verbs).not.toEqual(expect.arrayContaining(['escalate']));
        expect(rule.verbs).not.toEqual(expect.arrayContaining(['bind']));
        expect(rule.verbs).not.toEqual(expect.arrayContaining(['impersonate']));
      }
    // Bindings name the chart's own ServiceAccounts in the release namespace.
    for (const binding of objects.filter((o) => o.kind.endsWith('Binding'))) {
      const subjects = binding.subjects as { kind: string; name: string; namespace: string }[];
      expect(subjects).toHaveLength(1);
      expect(subjects[0]?.namespace).toBe('eatr-system');
      expect(['eatr-watcher', 'eatr-renewer']).toContain(subjects[0]?.name);
    }
  });

  it('renders no RBAC with rbac.create=false, and uses a given ServiceAccount name', async () => {
    const objects = await render({
      values: {
        rbac: { create: false },
        watcher: { serviceAccount: { create: false, name: 'my-watcher' } },
      },
    });
    expect(objects.filter((o) => /Role/.test(o.kind))).toEqual([]);
    expect(podSpec(find(objects, 'Deployment', 'eatr-watcher')).serviceAccountName).toBe(
      'my-watcher',
    );
    expect(
      objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'my-watcher'),
    ).toBe(false);
  });
});

/**
 * NOTES.txt as `helm install` would print it: helm renders notes only at install (which needs a
 * cluster), so a copy of the chart renders the same text through `tpl` into a ConfigMap.
 */
async function renderNotes(args: string[]): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'eatr-notes-'));
  try {
    await cp(CHART, copy, { recursive: true });
    await rename(join(copy, 'templates/NOTES.txt'), join(copy, 'files/notes.txt'));
    await writeFile(
      join(copy, 'templates/zz-notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |\n{{ tpl (.Files.Get "files/notes.txt") . | indent 4 }}\n',
    );
    const result = await helm([
      'template',
      'eatr',
      copy,
      '--namespace',
      'ci-cd',
      '--kube-version',
      KUBE_VERSION,
      '--show-only',
      'templates/zz-notes.yaml',
      ...args,
    ]);
    if (result.code !== 0) throw new Error(result.stderr);
    return (parse(result.stdout) as { data: { notes: string } }).data.notes;
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

describe('helm template: admission policy', () => {
  const policyKinds = (objects: readonly Rendered[]) =>
    kinds(objects.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy')));

  it('enforces the renewer ServiceAccount in the API server where ValidatingAdmissionPolicy is served', async () => {
    const objects = await render({ apiVersions: [VALIDATING_ADMISSION_POLICY] });
    expect(policyKinds(objects)).toEqual([
      'ValidatingAdmissionPolicy/eatr-renewer-secrets',
      'ValidatingAdmissionPolicy/eatr-renewer-serviceaccounts',
      'ValidatingAdmissionPolicyBinding/eatr-renewer-secrets',
      'ValidatingAdmissionPolicyBinding/eatr-renewer-serviceaccounts',
    ]);
    for (const resource of ['secrets', 'serviceaccounts']) {
      const policy = find(objects, 'ValidatingAdmissionPolicy', `eatr-renewer-${resource}`);
      expect(field(policy, 'spec', 'failurePolicy')).toBe('Fail');
      expect(field(policy, 'spec', 'matchConstraints', 'resourceRules')).toEqual([
        {
          apiGroups: [''],
          apiVersions: ['v1'],
          operations: ['CREATE', 'UPDATE', 'DELETE'],
          resources: [resource],
        },
      ]);
      expect(field(policy, 'spec', 'matchConditions')).toEqual([
        {
          name: 'renewer-service-account',
          expression:
            "request.userInfo.username == 'system:serviceaccount:eatr-system:eatr-renewer'",
        },
      ]);
      const binding = find(objects, 'ValidatingAdmissionPolicyBinding', `eatr-renewer-${resource}`);
      expect(field(binding, 'spec')).toEqual({
        policyName: `eatr-renewer-${resource}`,
        validationActions: ['Deny'],
      });
    }
  });

  it('follows the renewer ServiceAccount name and the release name', async () => {
    const objects = await render({
      release: 'prod',
      namespace: 'platform',
      values: { renewer: { serviceAccount: { name: 'ecr-renewer' } } },
      apiVersions: [VALIDATING_ADMISSION_POLICY],
    });
    const policy = find(objects, 'ValidatingAdmissionPolicy', 'prod-eatr-renewer-secrets');
    expect(field(policy, 'spec', 'matchConditions')).toEqual([
      {
        name: 'renewer-service-account',
        expression: "request.userInfo.username == 'system:serviceaccount:platform:ecr-renewer'",
      },
    ]);
  });

  it('is left out with admissionPolicy.enabled=false, and by `auto` where the API server does not serve it', async () => {
    const off = await render({
      values: { admissionPolicy: { enabled: false } },
      apiVersions: [VALIDATING_ADMISSION_POLICY],
    });
    expect(policyKinds(off)).toEqual([]);
    // helm template's defaults name API groups, not kinds: like a cluster without the API.
    expect(policyKinds(await render())).toEqual([]);
    expect(
      policyKinds(await render({ apiVersions: ['admissionregistration.k8s.io/v1beta1'] })),
    ).toEqual([]);
  });

  it('says in the install notes what `auto` left out, and how the CLI gets the Redis password', async () => {
    const withoutApi = await renderNotes([]);
    expect(withoutApi).toContain("WARNING: the renewer's admission policies were NOT installed");
    expect(withoutApi).toContain(
      "export EATR_REDIS_PASSWORD=$(kubectl -n ci-cd get secret eatr-redis-auth -o jsonpath='{.data.password}' | base64 -d)",
    );
    expect(await renderNotes(['--api-versions', VALIDATING_ADMISSION_POLICY])).not.toContain(
      'NOT installed',
    );
    expect(await renderNotes(['--set', 'redis.auth.enabled=false'])).toContain(
      'WARNING: the bundled Redis runs without a password',
    );
    expect(await renderNotes(['--set', 'redis.tls.enabled=true'])).toContain(
      "kubectl -n ci-cd get secret eatr-redis-tls -o jsonpath='{.data.ca\\.crt}' | base64 -d > eatr-redis-ca.crt",
    );
  });

  it('is never silently absent with admissionPolicy.enabled=true: the render fails where the API is not served', async () => {
    const error = await renderError({ values: { admissionPolicy: { enabled: true } } });
    expect(error).toContain(
      'admissionPolicy.enabled=true, but the API server does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy',
    );
    expect(error).toContain(
      '--api-versions admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy',
    );
    const on = await render({
      values: { admissionPolicy: { enabled: true } },
      apiVersions: [VALIDATING_ADMISSION_POLICY],
    });
    expect(policyKinds(on).length).toBe(4);
  });
});

describe('helm template: combinations the schema cannot catch fail with a clear message', () => {
  it.each([
    [{ redis: { enabled: false } }, 'externalRedis.url is required when redis.enabled is false'],
    [
      { externalRedis: { url: 'redis://r:6379' } },
      'set either redis.enabled=true (bundled Redis) or externalRedis.url, not both',
    ],
    [
      { redis: { enabled: false }, externalRedis: { url: 'redis://:hunter2@r:6379' } },
      'externalRedis.url must not carry a password',
    ],
    [
      { aws: { webIdentity: { roleArn: 'arn:aws:iam::123456789012:role/eatr' } } },
      'aws.webIdentity.roleArn needs aws.usePodIdentity=true',
    ],
    [
      { renewer: { autoscaling: { enabled: true, targetCPUUtilizationPercentage: null } } },
      'renewer.autoscaling needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage',
    ],
    [{ credentials: [{ registry: REGISTRY }] }, 'credentials[0]'],
    // An existing ServiceAccount must be named, or both ClusterRoles would bind `default`.
    [{ renewer: { serviceAccount: { create: false } } }, "at '/renewer/serviceAccount/name'"],
    [{ watcher: { serviceAccount: { create: false } } }, "at '/watcher/serviceAccount/name'"],
    [
      { externalRedis: { sentinel: { addresses: ['s:26379'] } } },
      'set either redis.enabled=true (bundled Redis) or externalRedis.sentinel.addresses, not both',
    ],
    [
      {
        redis: { enabled: false },
        externalRedis: { url: 'redis://r:6379', sentinel: { addresses: ['s:26379'] } },
      },
      'externalRedis.url and externalRedis.sentinel.addresses are both set',
    ],
    [
      {
        redis: { enabled: false },
        externalRedis: { sentinel: { addresses: ['s:26379'] }, cluster: { nodes: ['n:6379'] } },
      },
      'externalRedis.sentinel.addresses and externalRedis.cluster.nodes are both set',
    ],
    [
      {
        redis: { enabled: false },
        externalRedis: { cluster: { nodes: ['n:6379'] } },
        config: { queuePrefix: 'eatr' },
      },
      'config.queuePrefix "eatr" has no {hash tag}',
    ],
    [
      {
        redis: { enabled: false },
        externalRedis: { sentinel: { addresses: ['s:26379'] }, tls: { caSecret: 'ca' } },
      },
      'externalRedis.tls.caSecret or clientCertSecret is set but TLS is off',
    ],
  ])('%j', async (values, message) => {
    const error = await renderError({ values });
    expect(error).toContain(message);
    expect(error).not.toContain('hunter2');
  });
});

describe('image tags typed on the command line', () => {
  it('renders `--set redis.image.tag=7 --set image.tag=2` (helm makes them integers)', async () => {
    const result = await helm([
      'template',
      'eatr',
      CHART,
      '--kube-version',
      KUBE_VERSION,
      '--set',
      'redis.image.tag=7',
      '--set',
      'image.tag=2',
    ]);
    expect(result.stderr).toBe('');
    const objects = parseRendered(result.stdout);
    expect(containers(find(objects, 'StatefulSet', 'eatr-redis'))[0]?.image).toBe('redis:7');
    expect(containers(find(objects, 'Deployment', 'eatr-watcher'))[0]?.image).toBe('eatr:2');
  });
});
