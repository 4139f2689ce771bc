import { EventReason } from '@eatr/core';
import { readFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
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
import { CHART, find, render } from '../chart/support.js';
import { ChartRelease, expectAccess, type AccessExpectation } from './support/chart-release.js';
import { dashboardQueries, parsePromQL } from '../chart/promql.js';

// `helm install` of charts/eatr into the run's real kube-apiserver, then the watcher and renewer run
// locally with kubeconfigs minted for the chart's own ServiceAccounts and the environment the chart's
// Deployments set: the flow works with exactly the chart's RBAC, and what it does not grant is refused.

const KEYS = {
  accessKeyId: 'AKIACHARTRBACTEST001',
  secretAccessKey: 'chart-rbac-secret/abcdefghijklmnopqrst',
  // An account of its own: namespaces other tests left behind ask for other registries.
  accountId: '555000111222',
};
const REGISTRY = `${KEYS.accountId}.dkr.ecr.eu-west-1.amazonaws.com`;

let admin: KubeClients;
let release: ChartRelease;
let installed: ChartRelease | undefined;

async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await admin.core.createNamespace({ body: { metadata: { name, labels } } });
}

beforeAll(async () => {
  admin = kubeClients(harness().kubeconfigPath);
  release = installed = await ChartRelease.install('eatr');
}, 120_000);

afterAll(async () => {
  await installed?.uninstall();
});

describe('helm install into the test API server', () => {
  it('creates the chart resources and prints the NOTES', async () => {
    expect(release.install).toContain('STATUS: deployed');
    expect(release.install).toContain(
      `eatr reads one Secret per registry from namespace ${release.host}`,
    );
    expect(release.install).toContain('kubectl label namespace team-a');
    const { namespace, host } = release;
    await expect(
      admin.core.readNamespacedServiceAccount({ namespace, name: 'eatr-watcher' }),
    ).resolves.toBeDefined();
    await expect(
      admin.core.readNamespacedServiceAccount({ namespace, name: 'eatr-renewer' }),
    ).resolves.toBeDefined();
    await expect(
      admin.rbac.readNamespacedRole({ namespace: host, name: 'eatr-watcher-leader-election' }),
    ).resolves.toBeDefined();
    await expect(admin.rbac.readClusterRole({ name: 'eatr-renewer' })).resolves.toBeDefined();
    expect(release.manifest.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
    // helm found ValidatingAdmissionPolicy on the server: the policies are on by default.
    expect(
      release.manifest
        .filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy'))
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort(),
    ).toEqual([
      'ValidatingAdmissionPolicy/eatr-renewer-secrets',
      'ValidatingAdmissionPolicy/eatr-renewer-serviceaccounts',
      'ValidatingAdmissionPolicyBinding/eatr-renewer-secrets',
      'ValidatingAdmissionPolicyBinding/eatr-renewer-serviceaccounts',
    ]);
  });
});

describe('rendered manifests', () => {
  it('pass a server-side dry-run, for the defaults and with every option on', async () => {
    await ensureMonitoringCrds();
    const namespace = uniqueName('eatr-dry-run');
    const host = uniqueName('eatr-dry-run-host');
    await createNamespace(namespace);
    await createNamespace(host);
    const combinations: Record<string, unknown>[] = [
      { hostNamespace: host },
      {
        hostNamespace: host,
        redis: { persistence: { enabled: true }, auth: { existingSecret: 'r' } },
      },
      {
        hostNamespace: host,
        redis: { enabled: false },
        externalRedis: {
          url: 'rediss://redis.example.com:6380',
          existingSecret: 'r',
          tls: { caSecret: 'ca' },
        },
        renewer: { autoscaling: { enabled: true, targetMemoryUtilizationPercentage: 75 } },
        metrics: {
          serviceMonitor: { enabled: true },
          prometheusRule: { enabled: true },
          grafanaDashboard: { enabled: true },
        },
        credentials: [
          {
            registry: REGISTRY,
            accessKeyId: KEYS.accessKeyId,
            secretAccessKey: KEYS.secretAccessKey,
          },
        ],
        aws: {
          usePodIdentity: true,
          webIdentity: { roleArn: 'arn:aws:iam::555000111222:role/eatr' },
        },
        proxy: { httpsProxy: 'http://proxy.corp:3128', noProxy: '.svc' },
        networkPolicy: {
          egress: { enabled: true },
          metricsFrom: [{ namespaceSelector: { matchLabels: { team: 'monitoring' } } }],
        },
        watcher: { replicas: 2 },
      },
    ];
    const failures: string[] = [];
    let checked = 0;
    for (const values of combinations) {
      for (const object of await render({ values, namespace, release: uniqueName('dry') })) {
        const { source: _source, ...body } = object;
        const result = await strictDryRun(body);
        if (result.status === 201) checked++;
        else
          failures.push(`${object.kind}/${object.metadata.name}: ${result.status} ${result.body}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(60);
    // The dry-run is strict: a misspelt field is an error, not silently dropped.
    const deployment = find(
      await render({ values: { hostNamespace: host }, namespace }),
      'Deployment',
      'eatr-renewer',
    );
    const { source: _source, ...typo } = deployment;
    const misspelt = await strictDryRun({
      ...typo,
      metadata: { name: uniqueName('typo'), namespace },
      spec: { ...(typo.spec as object), replica: 1 },
    });
    expect(misspelt.status).toBe(400);
    expect(misspelt.body).toContain('unknown field');
    expect(misspelt.body).toContain('spec.replica');
  }, 120_000);
});

describe("eatr with the chart's ServiceAccounts", () => {
  let aws: FakeAwsEndpoint;
  const processes: EatrProcess[] = [];
  let watcherKubeconfig: string;
  let renewerKubeconfig: string;

  beforeAll(async () => {
    aws = await FakeAwsEndpoint.start({ credentials: [KEYS] });
    watcherKubeconfig = await kubeconfigForServiceAccount(release.namespace, 'eatr-watcher');
    renewerKubeconfig = await kubeconfigForServiceAccount(release.namespace, 'eatr-renewer');
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await aws.stop();
  });

  /** The chart's environment for a component, pointed at this machine. */
  async function chartEnv(
    component: 'watcher' | 'renewer',
    kubeconfig: string,
  ): Promise<Record<string, string>> {
    return {
      ...(await release.env(component)),
      ...aws.env(),
      KUBECONFIG: kubeconfig,
      POD_NAME: `${component}-chart-rbac`,
      // Pods each have their own port 5000; local processes share one machine.
      EATR_METRICS_PORT: '0',
      EATR_METRICS_HOST: '127.0.0.1',
    };
  }

  it('turns a namespace label into a Secret and back, with exactly the chart RBAC', async () => {
    const { host } = release;
    expect((await chartEnv('watcher', watcherKubeconfig)).EATR_HOST_NAMESPACE).toBe(host);
    const renewerEnv = await chartEnv('renewer', renewerKubeconfig);
    expect(renewerEnv.EATR_QUEUE_PREFIX).toBe(release.prefix);
    // The digest key the chart generated once at install.
    expect(renewerEnv.EATR_DIGEST_KEY).toMatch(/^[A-Za-z0-9]{48}$/);
    await admin.core.createNamespacedSecret({
      namespace: host,
      body: {
        metadata: { name: `eatr-aws-credentials-${REGISTRY}` },
        stringData: {
          aws_access_key_id: KEYS.accessKeyId,
          aws_secret_access_key: KEYS.secretAccessKey,
        },
      },
    });
    const renewer = await EatrProcess.start('renewer', {
      env: renewerEnv,
    });
    processes.push(renewer);
    const watcher = await EatrProcess.start('watcher', {
      env: await chartEnv('watcher', watcherKubeconfig),
    });
    processes.push(watcher);
    await watcher.waitForLog((l) => l.msg === 'became leader', 30_000);

    const team = uniqueName('chart-team');
    await createNamespace(team, { [REGISTRY]: 'true' });
    await admin.core.createNamespacedServiceAccount({
      namespace: team,
      body: { metadata: { name: 'default' } },
    });

    await expect
      .poll(
        () =>
          admin.core.readNamespacedSecret({ namespace: team, name: REGISTRY }).then(
            () => 'exists',
            () => 'missing',
          ),
        {
          timeout: 30_000,
          interval: 200,
        },
      )
      .toBe('exists');
    const secret = await admin.core.readNamespacedSecret({ namespace: team, name: REGISTRY });
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
    expect(secret.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('eatr');
    await expect
      .poll(
        async () =>
          (await admin.core.readNamespacedServiceAccount({ namespace: team, name: 'default' }))
            .imagePullSecrets,
        {
          timeout: 15_000,
        },
      )
      .toEqual([{ name: REGISTRY }]);
    await expect
      .poll(
        async () =>
          (await admin.core.listNamespacedEvent({ namespace: team })).items.map((e) => e.reason),
        { timeout: 15_000 },
      )
      .toContain(EventReason.SecretCreated);
    // The Lease (host namespace), the expiry metric (Secrets listed cluster-wide), the leader gauge.
    const lease = await admin.coordination.readNamespacedLease({
      namespace: host,
      name: 'eatr-watcher',
    });
    expect(lease.spec?.holderIdentity).toContain('watcher-chart-rbac');
    await expect.poll(() => watcher.metricValue('eatr_leader'), { timeout: 10_000 }).toBe(1);
    await expect
      .poll(
        () => renewer.metricValue('eatr_secret_expiry_timestamp_seconds', { namespace: team }),
        { timeout: 30_000 },
      )
      .toBeGreaterThan(Date.now() / 1000);

    // Opt out: eatr deletes its Secret and its ServiceAccount entry.
    const ns = await admin.core.readNamespace({ name: team });
    await admin.core.replaceNamespace({
      name: team,
      body: { ...ns, metadata: { ...ns.metadata, labels: {} } },
    });
    await expect
      .poll(
        () =>
          admin.core.readNamespacedSecret({ namespace: team, name: REGISTRY }).then(
            () => 'exists',
            () => 'gone',
          ),
        {
          timeout: 30_000,
        },
      )
      .toBe('gone');
    await expect
      .poll(
        async () =>
          (await admin.core.readNamespacedServiceAccount({ namespace: team, name: 'default' }))
            .imagePullSecrets ?? [],
        {
          timeout: 15_000,
        },
      )
      .toEqual([]);

    // Nothing the processes tried was refused.
    const refused = [...watcher.lines, ...renewer.lines].filter((l) => /forbidden/i.test(l));
    expect(refused).toEqual([]);
  }, 150_000);

  it('serves every metric the dashboard and the alerts use', async () => {
    const [watcher, renewer] = [
      processes.find((p) => p.component === 'watcher'),
      processes.find((p) => p.component === 'renewer'),
    ];
    if (!watcher || !renewer) throw new Error('the previous test did not start the processes');
    const exported = new Set<string>();
    for (const text of [await watcher.metrics(), await renewer.metrics()])
      for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        const [, name = '', type] = match;
        exported.add(name);
        if (type === 'histogram')
          for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name}${suffix}`);
      }
    const dashboard: unknown = JSON.parse(
      await readFile(join(CHART, 'dashboards/eatr.json'), 'utf8'),
    );
    const alerts = parse(await readFile(join(CHART, 'files/alerts.yaml'), 'utf8')) as {
      groups: { rules: { expr: string }[] }[];
    };
    const exprs = [
      ...dashboardQueries(dashboard).map((q) => q.expr.replaceAll('$__rate_interval', '5m')),
      ...alerts.groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ];
    const missing = new Set<string>();
    for (const expr of exprs)
      for (const metric of parsePromQL(expr).metrics)
        if (!exported.has(metric)) missing.add(metric);
    expect([...missing]).toEqual([]);
  });
});

describe("what the chart's RBAC refuses", () => {
  type Expectation = AccessExpectation;
  let team: string;

  beforeAll(async () => {
    team = uniqueName('chart-rbac-other');
    await createNamespace(team);
  });

  const check = expectAccess;

  it('the watcher: watch namespaces and the wired ServiceAccounts, hold its Lease; no Secret anywhere, not even in the host namespace', async () => {
    const { namespace, host } = release;
    const kubeconfig = await kubeconfigForServiceAccount(namespace, 'eatr-watcher');
    const rbac = 'rbac.authorization.k8s.io';
    const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: host };
    await check(kubeconfig, [
      [true, { verb: 'list', resource: 'namespaces' }],
      [true, { verb: 'watch', resource: 'namespaces' }],
      [false, { verb: 'get', resource: 'secrets', namespace: host }],
      [false, { verb: 'list', resource: 'secrets', namespace: host }],
      [false, { verb: 'watch', resource: 'secrets', namespace: host }],
      // The wired ServiceAccounts, to repair their imagePullSecrets at once; it never writes them.
      [true, { verb: 'list', resource: 'serviceaccounts' }],
      [true, { verb: 'watch', resource: 'serviceaccounts' }],
      [false, { verb: 'patch', resource: 'serviceaccounts', namespace: team }],
      [true, { verb: 'create', ...lease }],
      [true, { verb: 'get', ...lease, name: 'eatr-watcher' }],
      [true, { verb: 'update', ...lease, name: 'eatr-watcher' }],
      [false, { verb: 'update', ...lease, name: 'someone-elses-lease' }],
      [false, { verb: 'delete', ...lease, name: 'eatr-watcher' }],
      [false, { verb: 'list', resource: 'secrets' }],
      [false, { verb: 'list', resource: 'secrets', namespace: team }],
      [false, { verb: 'watch', resource: 'secrets', namespace: team }],
      [false, { verb: 'create', resource: 'secrets', namespace: host }],
      [false, { verb: 'update', resource: 'secrets', namespace: host }],
      [false, { verb: 'delete', resource: 'secrets', namespace: host }],
      [false, { verb: 'delete', resource: 'namespaces', name: team }],
      [false, { verb: 'patch', resource: 'namespaces', name: team }],
      [false, { verb: 'create', resource: 'namespaces' }],
      [false, { verb: 'create', group: rbac, resource: 'clusterrolebindings' }],
      [false, { verb: 'create', group: rbac, resource: 'rolebindings', namespace: host }],
      [false, { verb: 'escalate', group: rbac, resource: 'clusterroles' }],
      [false, { verb: 'bind', group: rbac, resource: 'clusterroles' }],
      [false, { verb: 'create', resource: 'pods', namespace: host }],
      [
        false,
        {
          verb: 'create',
          resource: 'serviceaccounts',
          subresource: 'token',
          namespace,
          name: 'eatr-renewer',
        },
      ],
      [false, { verb: 'update', resource: 'serviceaccounts', namespace: team }],
      [false, { verb: 'create', resource: 'events', namespace: team }],
      [false, { verb: 'impersonate', resource: 'users' }],
    ]);

    // The same, by real calls.
    const sa = kubeClients(kubeconfig);
    expect(await outcome(sa.core.deleteNamespace({ name: team }))).toBe(403);
    expect(await outcome(sa.core.listSecretForAllNamespaces())).toBe(403);
    expect(await outcome(sa.core.listNamespacedSecret({ namespace: team }))).toBe(403);
    expect(await outcome(sa.core.listNamespacedSecret({ namespace: host }))).toBe(403);
    expect(
      await outcome(
        sa.core.createNamespacedSecret({
          namespace: host,
          body: { metadata: { name: 'planted' }, stringData: { a: 'b' } },
        }),
      ),
    ).toBe(403);
    expect(await bindClusterAdmin(sa, 'eatr-watcher', namespace)).toBe(403);
  });

  it('the renewer: Secrets, ServiceAccount entries and Events where namespaces ask; no Leases, namespaces or RBAC', async () => {
    const { namespace, host } = release;
    const kubeconfig = await kubeconfigForServiceAccount(namespace, 'eatr-renewer');
    const rbac = 'rbac.authorization.k8s.io';
    const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: host };
    await check(kubeconfig, [
      ...(['get', 'list', 'create', 'patch', 'update', 'delete'] as const).map(
        (verb): Expectation => [true, { verb, resource: 'secrets', namespace: team }],
      ),
      [true, { verb: 'list', resource: 'secrets' }],
      [
        true,
        {
          verb: 'get',
          resource: 'secrets',
          namespace: host,
          name: `eatr-aws-credentials-${REGISTRY}`,
        },
      ],
      // RBAC cannot leave one namespace out of a cluster-wide grant: the renewer can also write in
      // the host namespace (docs/deploy.md says so).
      [true, { verb: 'update', resource: 'secrets', namespace: host }],
      // Watch caches: eatr's Secrets, the wired ServiceAccounts, namespaces (no request per sync).
      [true, { verb: 'watch', resource: 'secrets' }],
      [true, { verb: 'watch', resource: 'serviceaccounts' }],
      [true, { verb: 'watch', resource: 'namespaces' }],
      [true, { verb: 'list', resource: 'serviceaccounts', namespace: team }],
      [true, { verb: 'get', resource: 'serviceaccounts', namespace: team, name: 'default' }],
      // Only imagePullSecrets changes, as a patch; never a full replace.
      [true, { verb: 'patch', resource: 'serviceaccounts', namespace: team, name: 'default' }],
      [false, { verb: 'update', resource: 'serviceaccounts', namespace: team, name: 'default' }],
      [true, { verb: 'get', resource: 'namespaces', name: team }],
      [true, { verb: 'list', resource: 'namespaces' }],
      [true, { verb: 'create', resource: 'events', namespace: team }],
      [false, { verb: 'deletecollection', resource: 'secrets', namespace: team }],
      [false, { verb: 'create', resource: 'serviceaccounts', namespace: team }],
      [false, { verb: 'delete', resource: 'serviceaccounts', namespace: team }],
      [
        false,
        {
          verb: 'create',
          resource: 'serviceaccounts',
          subresource: 'token',
          namespace: team,
          name: 'default',
        },
      ],
      [false, { verb: 'update', resource: 'namespaces', name: team }],
      [false, { verb: 'patch', resource: 'namespaces', name: team }],
      [false, { verb: 'delete', resource: 'namespaces', name: team }],
      [false, { verb: 'create', resource: 'namespaces' }],
      [false, { verb: 'get', ...lease, name: 'eatr-watcher' }],
      [false, { verb: 'update', ...lease, name: 'eatr-watcher' }],
      [false, { verb: 'create', ...lease }],
      [false, { verb: 'create', group: rbac, resource: 'clusterrolebindings' }],
      [false, { verb: 'create', group: rbac, resource: 'roles', namespace: team }],
      [false, { verb: 'escalate', group: rbac, resource: 'clusterroles' }],
      [false, { verb: 'bind', group: rbac, resource: 'clusterroles' }],
      [false, { verb: 'create', resource: 'pods', namespace: team }],
      [false, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: team }],
      [false, { verb: 'get', resource: 'configmaps', namespace: team }],
      [false, { verb: 'list', resource: 'nodes' }],
      [false, { verb: 'impersonate', resource: 'users' }],
    ]);

    const sa = kubeClients(kubeconfig);
    const current = await admin.coordination.readNamespacedLease({
      namespace: host,
      name: 'eatr-watcher',
    });
    expect(
      await outcome(
        sa.coordination.replaceNamespacedLease({
          namespace: host,
          name: 'eatr-watcher',
          body: { ...current, spec: { ...current.spec, holderIdentity: 'renewer' } },
        }),
      ),
    ).toBe(403);
    const ns = await admin.core.readNamespace({ name: team });
    expect(
      await outcome(
        sa.core.replaceNamespace({
          name: team,
          body: { ...ns, metadata: { ...ns.metadata, labels: { [REGISTRY]: 'true' } } },
        }),
      ),
    ).toBe(403);
    expect(await outcome(sa.core.deleteNamespace({ name: team }))).toBe(403);
    expect(await bindClusterAdmin(sa, 'eatr-renewer', namespace)).toBe(403);
    expect(
      await outcome(
        sa.core.createNamespacedServiceAccountToken({
          namespace,
          name: 'eatr-watcher',
          body: { spec: { audiences: [] } },
        }),
      ),
    ).toBe(403);
  });
});

/** KubernetesObjectApi knows each kind's URL; its own create() would drop unknown fields. */
class ObjectPaths extends KubernetesObjectApi {
  createPath(object: KubernetesObject): Promise<string> {
    return this.specUriPath(object, 'create');
  }
}

/**
 * A server-side dry-run create of the object exactly as rendered, with strict field validation (as
 * `kubectl apply --dry-run=server --validate=strict` sends it).
 */
async function strictDryRun(
  object: KubernetesObject & { readonly [field: string]: unknown },
): Promise<{ status: number; body: string }> {
  const kc = admin.kubeConfig;
  const path = await kc.makeApiClient(ObjectPaths).createPath(object);
  const server = kc.getCurrentCluster()?.server ?? '';
  const options: RequestOptions = {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(`${path}?dryRun=All&fieldValidation=Strict`, server),
      options,
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(object));
  });
}

/**
 * Minimal CustomResourceDefinitions for the Prometheus Operator kinds the chart renders, so their
 * objects can be dry-run (the test cluster runs no operator). Their schemas accept any spec: the
 * dry-run checks names, namespaces and metadata; promtool checks the rules themselves.
 */
async function ensureMonitoringCrds(): Promise<void> {
  const api = admin.kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const [kind, plural] of [
    ['ServiceMonitor', 'servicemonitors'],
    ['PrometheusRule', 'prometheusrules'],
  ] as const) {
    const name = `${plural}.monitoring.coreos.com`;
    const created = await outcome(
      api.createCustomResourceDefinition({
        body: {
          metadata: { name },
          spec: {
            group: 'monitoring.coreos.com',
            scope: 'Namespaced',
            names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                schema: {
                  openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                },
              },
            ],
          },
        },
      }),
    );
    if (created !== 'allowed' && created !== 409)
      throw new Error(`could not create CRD ${name}: ${created}`);
    await expect
      .poll(
        async () =>
          (await api.readCustomResourceDefinition({ name })).status?.conditions?.find(
            (c) => c.type === 'Established',
          )?.status,
        { timeout: 30_000 },
      )
      .toBe('True');
  }
}

/** Tries to escalate: bind `cluster-admin` to the component's own ServiceAccount. */
function bindClusterAdmin(sa: KubeClients, serviceAccount: string, namespace: string) {
  return outcome(
    sa.rbac.createClusterRoleBinding({
      body: {
        metadata: { name: uniqueName('eatr-escalation') },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'cluster-admin',
        },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
      },
    }),
  );
}
