import { DOCKER_CONFIG_JSON_TYPE } from '../naming.js';

/**
 * What an output Secret is for: `pull`, a `kubernetes.io/dockerconfigjson` Secret Pods and
 * ServiceAccounts use; `argocd-repo-creds`, an Argo CD repository credentials Secret (Opaque, read by
 * Argo CD by its label). Both carry the same token and eatr's annotations.
 */
export type SecretFormat = 'pull' | 'argocd-repo-creds';

/** The Secret type each format is written with (immutable: a Secret of another type is replaced). */
export function secretTypeOf(format: SecretFormat = 'pull'): string {
  return format === 'pull' ? DOCKER_CONFIG_JSON_TYPE : 'Opaque';
}
