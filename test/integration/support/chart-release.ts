import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizationV1Api, type V1ResourceAttributes } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { CHART, envOf, find, helm, parseRendered, type Rendered } from '../../chart/support.js';
import { harness, kubeClients, uniqueName, type KubeClients } from '../../harness/index.js';

/**
 * One `helm install` of charts/eatr into the run's real kube-apiserver, in a namespace of its own,
 * with a host namespace of its own and its own queue prefix; `uninstall()` removes it.
 */
export class ChartRelease {
  private constructor(
    readonly name: string,
    readonly namespace: string,
    readonly host: string,
    readonly prefix: string,
    /** `helm install`'s output (the NOTES). */
    readonly install: string,
    readonly manifest: readonly Rendered[],
    private readonly admin: KubeClients,
    private readonly helmHome: string,
  ) {}

  /** Installs with `values` on top of the test's own (host namespace, the run's Redis, a prefix). */
  static async install(name: string, values: Record<string, unknown> = {}): Promise<ChartRelease> {
    const h = harness();
    const admin = kubeClients(h.kubeconfigPath);
    const helmHome = await mkdtemp(join(tmpdir(), 'eatr-helm-'));
    const namespace = uniqueName(`${name}-ns`);
    const host = uniqueName(`${name}-host`);
    const prefix = `{${uniqueName(name)}}`;
    for (const ns of [namespace, host])
      await admin.core.createNamespace({ body: { metadata: { name: ns } } });
    const file = join(helmHome, 'values.json');
    const config = (values.config ?? {}) as Record<string, unknown>;
    await writeFile(
      file,
      JSON.stringify({
        ...values,
        hostNamespace: host,
        redis: { enabled: false },
        externalRedis: { url: h.redisUrl },
        config: { ...config, queuePrefix: prefix },
      }),
    );
    const run = (args: string[]) => helmAs(helmHome, h.kubeconfigPath, args);
    const install = await run(['install', name, CHART, '--namespace', namespace, '--values', file]);
    if (install.code !== 0) throw new Error(`helm install failed:\n${install.stderr}`);
    const manifest = await run(['get', 'manifest', name, '--namespace', namespace]);
    return new ChartRelease(
      name,
      namespace,
      host,
      prefix,
      install.stdout,
      parseRendered(manifest.stdout),
      admin,
      helmHome,
    );
  }

  /** helm with this release's own config/cache dirs and the admin kubeconfig. */
  helm(args: string[]) {
    return helmAs(this.helmHome, harness().kubeconfigPath, args);
  }

  /**
   * The environment the chart's Deployment gives a component, to run it on this machine with
   * `kubeconfig`: a value from a Secret is read from the Secret the release has (the digest key it
   * generated); values from the Pod's fields are left out.
   */
  async env(component: 'watcher' | 'renewer'): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    const deployment = find(this.manifest, 'Deployment', `${this.name}-${component}`);
    for (const [name, value] of envOf(deployment)) {
      if (value.startsWith('secret:')) {
        const [secret = '', key = ''] = value.slice('secret:'.length).split('/');
        const read = await this.admin.core.readNamespacedSecret({
          namespace: this.namespace,
          name: secret,
        });
        env[name] = Buffer.from(read.data?.[key] ?? '', 'base64').toString('utf8');
      } else if (!value.startsWith('field:')) env[name] = value;
    }
    return env;
  }

  async uninstall(): Promise<void> {
    await this.helm(['uninstall', this.name, '--namespace', this.namespace]);
    await rm(this.helmHome, { recursive: true, force: true });
  }
}

function helmAs(home: string, kubeconfig: string, args: string[]) {
  return helm([...args, '--kubeconfig', kubeconfig], {
    ...process.env,
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
  });
}

/** Whether the API server's authorizer allows what `attributes` describe to `kubeconfig`'s user. */
export async function accessReview(
  kubeconfig: string,
  attributes: V1ResourceAttributes,
): Promise<boolean> {
  const api = kubeClients(kubeconfig).kubeConfig.makeApiClient(AuthorizationV1Api);
  const result = await api.createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: attributes } },
  });
  return result.status?.allowed ?? false;
}

/** [allowed?, what]: one line of an access table. */
export type AccessExpectation = readonly [boolean, V1ResourceAttributes];

/** Asserts the whole access table at once, listing every line the authorizer answered otherwise. */
export async function expectAccess(
  kubeconfig: string,
  expectations: readonly AccessExpectation[],
): Promise<void> {
  const wrong: string[] = [];
  for (const [allowed, attributes] of expectations)
    if ((await accessReview(kubeconfig, attributes)) !== allowed)
      wrong.push(
        `${allowed ? 'should be allowed' : 'should be refused'}: ${JSON.stringify(attributes)}`,
      );
  expect(wrong).toEqual([]);
}
