import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads the kubeconfig: the configured file, else the pod's in-cluster identity, else
 * ~/.kube/config (its current context).
 */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) {
    // KUBECONFIG may list several files; the first is the one kubectl writes to and reads contexts from.
    const first = path.split(':')[0] ?? path;
    kc.loadFromFile(first);
  } else if (existsSync(IN_CLUSTER_TOKEN)) {
    kc.loadFromCluster();
  } else {
    kc.loadFromFile(join(homedir(), '.kube', 'config'));
  }
  return kc;
}
