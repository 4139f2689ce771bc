import type { CoreV1Api } from '@kubernetes/client-node';
import { PermanentError, credentialSecretName, kubeStatus } from '@eatr/core';
import { parseCredentialSecret, type CredentialSpec } from './credential-secret.js';

/** Credentials for one registry and the version that identifies them on the output Secret. */
export interface ResolvedCredentials {
  readonly spec: CredentialSpec;
  /** `<Secret uid>/<resourceVersion>`, or `pod-identity`. A change means: renew now. */
  readonly version: string;
}

export const POD_IDENTITY_VERSION = 'pod-identity';

/**
 * Finds the credentials for a registry: the Secret `eatr-aws-credentials-<registry>` in the host
 * namespace, else (when enabled) the pod's own AWS identity. Reads the Secret on every call so a
 * rotation is seen by the very next job.
 */
export class CredentialResolver {
  constructor(
    private readonly core: CoreV1Api,
    private readonly hostNamespace: string,
    private readonly usePodIdentity: boolean,
  ) {}

  async resolve(registry: string): Promise<ResolvedCredentials> {
    const name = credentialSecretName(registry);
    try {
      const secret = await this.core.readNamespacedSecret({ name, namespace: this.hostNamespace });
      const spec = parseCredentialSecret(secret.data, { registry, secretName: name });
      return {
        spec,
        version: `${secret.metadata?.uid ?? ''}/${secret.metadata?.resourceVersion ?? ''}`,
      };
    } catch (error) {
      if (kubeStatus(error) !== 404) throw error;
    }
    if (this.usePodIdentity) return { spec: { keys: undefined }, version: POD_IDENTITY_VERSION };
    throw new PermanentError(
      `no credential Secret ${this.hostNamespace}/${name} (and pod identity is off)`,
      'missing-credentials',
      { registry },
    );
  }
}
