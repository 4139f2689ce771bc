import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'yaml';

export interface KubeconfigSpec {
  readonly server: string;
  readonly caCertPem: string;
  /** Name of the user entry (for humans reading the file). */
  readonly user: string;
  readonly token: string;
  /** Default namespace of the context. */
  readonly namespace?: string;
}

/**
 * Writes a self-contained kubeconfig (CA inlined, bearer token) that kubectl, helm,
 * @kubernetes/client-node and the eatr processes all read. JSON is valid YAML.
 */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'eatr-test',
        cluster: {
          server: spec.server,
          'certificate-authority-data': Buffer.from(spec.caCertPem).toString('base64'),
        },
      },
    ],
    users: [{ name: spec.user, user: { token: spec.token } }],
    contexts: [
      {
        name: 'eatr-test',
        context: {
          cluster: 'eatr-test',
          user: spec.user,
          ...(spec.namespace === undefined ? {} : { namespace: spec.namespace }),
        },
      },
    ],
    'current-context': 'eatr-test',
    preferences: {},
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Copies a kubeconfig with its cluster's server replaced (the same CA and credentials), e.g. to send
 * one process through a TcpProxy. Writes `<path>.<suffix>` and returns that path.
 */
export async function kubeconfigWithServer(
  path: string,
  server: string,
  suffix: string,
): Promise<string> {
  const config = parse(await readFile(path, 'utf8')) as {
    clusters: { cluster: { server: string } }[];
  };
  for (const entry of config.clusters) entry.cluster.server = server;
  const copy = `${path}.${suffix}`;
  await writeFile(copy, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return copy;
}
