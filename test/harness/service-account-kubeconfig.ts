import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApiException } from '@kubernetes/client-node';
import { kubeClients } from './kube-clients.js';
import { writeKubeconfig } from './kubeconfig-file.js';

export interface ServiceAccountKubeconfigOptions {
  /** Create the namespace and the ServiceAccount when they do not exist. Default false. */
  readonly ensureExists?: boolean;
  /** Token lifetime; default 24 h, longer than any test run. */
  readonly expirationSeconds?: number;
}

/**
 * Mints a token for a ServiceAccount through the TokenRequest API (`serviceaccounts/<name>/token`,
 * as the admin) and writes a kubeconfig for it beside the admin kubeconfig, so a test can run a
 * process with exactly that ServiceAccount's RBAC. Returns the kubeconfig's path.
 */
export async function writeServiceAccountKubeconfig(
  adminKubeconfigPath: string,
  namespace: string,
  name: string,
  options: ServiceAccountKubeconfigOptions = {},
): Promise<string> {
  const { kubeConfig, core } = kubeClients(adminKubeconfigPath);
  if (options.ensureExists === true) {
    await ignoreConflict(core.createNamespace({ body: { metadata: { name: namespace } } }));
    await ignoreConflict(
      core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }),
    );
  }
  let token: string | undefined;
  try {
    const request = await core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 86_400 } },
    });
    token = request.status?.token;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) {
      throw new Error(
        `ServiceAccount ${namespace}/${name} does not exist; create it first or pass { ensureExists: true }`,
        { cause: error },
      );
    }
    throw error;
  }
  if (token === undefined || token === '') {
    throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster?.caData === undefined) {
    throw new Error(`${adminKubeconfigPath} has no current cluster with inline CA data`);
  }
  const dir = join(dirname(adminKubeconfigPath), 'service-accounts');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${namespace}.${name}.kubeconfig`);
  await writeKubeconfig(path, {
    server: cluster.server,
    caCertPem: Buffer.from(cluster.caData, 'base64').toString('utf8'),
    user: `system:serviceaccount:${namespace}:${name}`,
    token,
    namespace,
  });
  return path;
}

async function ignoreConflict(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
}
