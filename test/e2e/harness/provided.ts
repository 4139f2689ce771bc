import { inject } from 'vitest';
import { callHarnessControl } from '../../harness/harness-control.js';
import type { RegistryAccess } from './registry.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the e2e node's cluster. */
    e2eKubeconfigPath: string;
    e2eImages: { eatr: string; redis: string };
    /** The previous release (test/compat/previous-release): its chart and its eatr image. */
    e2ePrevious: { chartPath: string; image: string };
    e2eEcr: {
      /** `<account>.dkr.ecr.<region>.amazonaws.com`, served by the node's registry. */
      registry: string;
      region: string;
      /** The ECR (and STS) stand-in, reachable from Pods. */
      endpointUrl: string;
      accessKeyId: string;
      secretAccessKey: string;
      /** An image in the ECR-named registry. */
      image: string;
      /** A role the ECR stand-in lets the cluster's ServiceAccount tokens assume (aud sts.amazonaws.com). */
      webIdentityRoleArn: string;
      /** A team's role, trusted only for team-r's `default` ServiceAccount (eatr.io/role-arn). */
      tenantRoleArn: string;
      /** The CA that signed the registry's certificate (clients outside containerd trust it by file). */
      caCertPath: string;
    };
    e2eControlUrl: string;
  }
}

export function registryAccesses(): Promise<RegistryAccess[]> {
  return callHarnessControl(inject('e2eControlUrl'), 'registryAccesses') as Promise<
    RegistryAccess[]
  >;
}

/** A token the ECR stand-in issued: which key asked for it, and when it expires. */
export interface IssuedTokenView {
  readonly password: string;
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly expiresAt: string;
}

export function issuedTokens(): Promise<IssuedTokenView[]> {
  return callHarnessControl(inject('e2eControlUrl'), 'issuedTokens') as Promise<IssuedTokenView[]>;
}

export async function revokeToken(password: string): Promise<void> {
  await callHarnessControl(inject('e2eControlUrl'), 'revokeToken', { password });
}

export function nodeMemoryMiB(): Promise<number> {
  return callHarnessControl(inject('e2eControlUrl'), 'memory') as Promise<number>;
}

/** ECR tokens issued from now on expire this long after issue. */
export async function setTokenLifetime(ms: number): Promise<void> {
  await callHarnessControl(inject('e2eControlUrl'), 'setTokenLifetime', { ms });
}

/** A new access key the ECR stand-in accepts (for a key rotation), of the e2e account or another. */
export async function addCredentials(
  accessKeyId: string,
  secretAccessKey: string,
  accountId?: string,
): Promise<void> {
  await callHarnessControl(inject('e2eControlUrl'), 'addCredentials', {
    accessKeyId,
    secretAccessKey,
    ...(accountId === undefined ? {} : { accountId }),
  });
}

/** The stand-in refuses this access key from now on, as IAM does once a key is deleted. */
export async function removeCredentials(accessKeyId: string): Promise<void> {
  await callHarnessControl(inject('e2eControlUrl'), 'removeCredentials', { accessKeyId });
}

/** Restarts the node's kubelet or containerd; resolves to the seconds it took. */
export function restartNodePart(part: 'kubelet' | 'containerd'): Promise<number> {
  return callHarnessControl(inject('e2eControlUrl'), 'restartNodePart', {
    part,
  }) as Promise<number>;
}

/** Every STS session the stand-in handed out: which role, through which call. */
export function issuedSessions(): Promise<Array<{ roleArn: string; assumedRoleArn: string }>> {
  return callHarnessControl(inject('e2eControlUrl'), 'issuedSessions') as Promise<
    Array<{ roleArn: string; assumedRoleArn: string }>
  >;
}
