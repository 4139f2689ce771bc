import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';

export interface KubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly coordination: CoordinationV1Api;
}

/** API clients for the identity of a kubeconfig file (the admin's, or a ServiceAccount's). */
export function kubeClients(kubeconfigPath: string): KubeClients {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    rbac: kubeConfig.makeApiClient(RbacAuthorizationV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
  };
}

/** Runs an API request for an RBAC check: 'allowed', or the HTTP status of the refusal. */
export async function apiOutcome(request: Promise<unknown>): Promise<'allowed' | number> {
  try {
    await request;
    return 'allowed';
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}
