import { parseRegistryHost, type RegistryHost } from '../registry/registry-host.js';

/** Argo CD reads repository credentials from Secrets with this label (`repo-creds`: a URL prefix). */
export const ARGOCD_SECRET_TYPE_LABEL = 'argocd.argoproj.io/secret-type';
export const ARGOCD_REPO_CREDS = 'repo-creds';

/** `--argocd-registries` and `--argocd-namespace`: no registries, no Argo CD output. */
export interface ArgoCdOutput {
  readonly namespace: string;
  readonly registries: readonly string[];
}

/** The same, as the plan takes it. */
export interface ArgoCdPlan {
  readonly namespace: string;
  readonly registries: readonly RegistryHost[];
}

/** The plan's view of the Argo CD output; undefined when it is off. */
export function argoCdPlanOf(output: ArgoCdOutput | undefined): ArgoCdPlan | undefined {
  if (!output || output.registries.length === 0) return undefined;
  const registries = output.registries
    .map((host) => parseRegistryHost(host))
    .filter((r): r is RegistryHost => r !== undefined)
    .sort((a, b) => a.host.localeCompare(b.host));
  return { namespace: output.namespace, registries };
}

/**
 * The name of the repository credentials Secret for one registry: fixed (not the pull Secret
 * template), so Argo CD users can find it, and distinct from any pull Secret name eatr writes.
 */
export function argoCdSecretName(registry: RegistryHost): string {
  return `eatr-repo-creds-${registry.host}`;
}
