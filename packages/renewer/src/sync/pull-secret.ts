import type { V1Secret } from '@kubernetes/client-node';
import {
  ARGOCD_REPO_CREDS,
  ARGOCD_SECRET_TYPE_LABEL,
  CREDENTIALS_VERSION_ANNOTATION,
  DOCKER_CONFIG_JSON_KEY,
  EXPIRES_AT_ANNOTATION,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REGISTRY_ANNOTATION,
  RENEW_AFTER_ANNOTATION,
  buildDockerConfigJson,
  renewalSpread,
  secretTypeOf,
  spreadRenewAfter,
  type SecretFormat,
} from '@eatr/core';
import type { EcrToken } from '../aws/ecr-token-client.js';
import { argoCdRepoCredsData } from './argocd-repo-creds.js';

export interface PullSecretInput {
  readonly namespace: string;
  readonly secretName: string;
  readonly registry: string;
  readonly token: EcrToken;
  readonly credentialsVersion: string;
  readonly renewalIntervalMs: number;
  /** This eatr release (INSTANCE_LABEL). */
  readonly instance: string;
  readonly email: string | undefined;
  /** `--secret-labels` and `--secret-annotations`: eatr's own keys are written after them, so win. */
  readonly extraLabels?: Readonly<Record<string, string>>;
  readonly extraAnnotations?: Readonly<Record<string, string>>;
  /**
   * The version of the Secret being updated, if any: the write is a merge patch guarded by it, so the
   * Secret's other labels and annotations stay without eatr reading or holding them.
   */
  readonly resourceVersion?: string;
  /** `pull` (the default) or Argo CD repository credentials: the same token, another shape. */
  readonly format?: SecretFormat;
}

/**
 * The Secret eatr writes for one registry: a `kubernetes.io/dockerconfigjson` pull Secret, or (format
 * `argocd-repo-creds`) an Argo CD repository credentials Secret; both with eatr's labels and
 * annotations, which decide when it is renewed.
 */
export function buildPullSecret(input: PullSecretInput): V1Secret {
  const { token } = input;
  const argoCd = input.format === 'argocd-repo-creds';
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: secretTypeOf(input.format),
    metadata: {
      name: input.secretName,
      namespace: input.namespace,
      ...(input.resourceVersion ? { resourceVersion: input.resourceVersion } : {}),
      labels: {
        ...input.extraLabels,
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [INSTANCE_LABEL]: input.instance,
        ...(argoCd ? { [ARGOCD_SECRET_TYPE_LABEL]: ARGOCD_REPO_CREDS } : {}),
      },
      annotations: {
        ...input.extraAnnotations,
        [REGISTRY_ANNOTATION]: input.registry,
        [EXPIRES_AT_ANNOTATION]: new Date(token.expiresAt).toISOString(),
        // Spread per Secret, so one token's Secrets do not all come due in one burst.
        [RENEW_AFTER_ANNOTATION]: new Date(
          spreadRenewAfter(
            token.fetchedAt,
            token.expiresAt,
            input.renewalIntervalMs,
            renewalSpread(input.namespace, input.secretName),
          ),
        ).toISOString(),
        [CREDENTIALS_VERSION_ANNOTATION]: input.credentialsVersion,
      },
    },
    data: argoCd
      ? argoCdRepoCredsData(input.registry, token.password)
      : {
          [DOCKER_CONFIG_JSON_KEY]: Buffer.from(
            buildDockerConfigJson(input.registry, token.password, input.email),
          ).toString('base64'),
        },
  };
}
