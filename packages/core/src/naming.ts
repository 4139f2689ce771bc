import type { RegistryHost } from './registry/registry-host.js';

/** Label on every Secret eatr manages. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'eatr';
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/**
 * Which eatr release wrote a Secret: two releases in one cluster each touch only their own Secrets (and
 * ServiceAccount entries naming them). A Secret without it was written by 0.1.x and is taken by the
 * first release that wants it.
 */
export const INSTANCE_LABEL = 'eatr.io/instance';
/** The instance of a process started without --instance (the chart sets the Helm release name). */
export const DEFAULT_INSTANCE = 'eatr';

/** Set by a Secret's owner to let eatr take over a same-named Secret it did not create. */
export const ADOPT_ANNOTATION = 'eatr.io/adopt';

export const REGISTRY_ANNOTATION = 'eatr.io/registry';
export const EXPIRES_AT_ANNOTATION = 'eatr.io/expires-at';
export const RENEW_AFTER_ANNOTATION = 'eatr.io/renew-after';
/** Which credentials (Secret uid/resourceVersion, or the pod identity) produced the token. */
export const CREDENTIALS_VERSION_ANNOTATION = 'eatr.io/credentials-version';
/** On ServiceAccounts: the imagePullSecrets entries eatr added, so opt-out removes only those. */
export const SERVICE_ACCOUNT_ANNOTATION = 'eatr.io/image-pull-secrets';
/**
 * On a ServiceAccount: `true` gives it eatr's pull Secrets whatever --service-accounts says, `false`
 * never. A label, not an annotation, so eatr asks the API server for just these ServiceAccounts.
 */
export const PULL_SECRETS_LABEL = 'eatr.io/pull-secrets';

/**
 * On a Namespace: the name of its pull Secrets, instead of --secret-name-template (for tools that
 * expect a fixed name: Flux, Kyverno, Connaisseur). May use the template's {{registry}}, {{account}}
 * and {{region}}.
 */
export const SECRET_NAME_ANNOTATION = 'eatr.io/secret-name';

export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';

/** Prefix of the credential Secrets in the host namespace, as the seed controller named them. */
export const CREDENTIAL_SECRET_PREFIX = 'eatr-aws-credentials-';

export function credentialSecretName(registryHost: string): string {
  return `${CREDENTIAL_SECRET_PREFIX}${registryHost}`;
}

/** The registry host a credential Secret serves, or undefined when the name is not one of ours. */
export function registryOfCredentialSecret(name: string): string | undefined {
  return name.startsWith(CREDENTIAL_SECRET_PREFIX)
    ? name.slice(CREDENTIAL_SECRET_PREFIX.length)
    : undefined;
}

/** Renders the output Secret's name from the configured template. */
export function outputSecretName(template: string, registry: RegistryHost): string {
  return template
    .replaceAll('{{registry}}', registry.host)
    .replaceAll('{{account}}', registry.accountId)
    .replaceAll('{{region}}', registry.region);
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** True when the name is a valid Secret name (DNS-1123 subdomain). */
export function isValidSecretName(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

/**
 * The name template of a namespace's pull Secrets: its SECRET_NAME_ANNOTATION when that gives each
 * registry a valid Secret name, else the configured template, with why the annotation was not used.
 */
export function namespaceSecretNameTemplate(
  annotation: string | undefined,
  configured: string,
  registries: readonly RegistryHost[],
): { readonly template: string; readonly problem?: string } {
  if (annotation === undefined) return { template: configured };
  const value = annotation.trim();
  const bad = registries.find((r) => !isValidSecretName(outputSecretName(value, r)));
  if (value === '' || bad !== undefined) {
    const rendered = bad ? outputSecretName(value, bad) : value;
    return {
      template: configured,
      problem: `annotation ${SECRET_NAME_ANNOTATION}="${quoted(annotation)}" gives "${quoted(rendered)}", which is not a Secret name (lower-case letters, digits, '-' and '.', at most 253; placeholders {{registry}}, {{account}}, {{region}}); the Secrets keep their names from the chart's template`,
    };
  }
  return { template: value };
}

/** A user's text in a message, cut short. */
const quoted = (text: string) => (text.length > 120 ? `${text.slice(0, 120)}…` : text);

/** A registry and the name of the Secret that serves it. */
export interface NamedRegistry {
  readonly registry: RegistryHost;
  readonly secretName: string;
}

/** A registry left unserved because an earlier one already has its Secret name. */
export interface SecretNameCollision extends NamedRegistry {
  /** The registry host that keeps the name. */
  readonly heldBy: string;
}

/**
 * Names each registry's output Secret in one namespace. When the template gives two registries the
 * same name (a constant, as the CronJob recipe's `ecr-<namespace>`, or `{{account}}` with two
 * regions), the first keeps it and the others are collisions: one Secret cannot serve two
 * registries, and letting them take turns would rewrite it on every sync.
 */
export function nameOutputSecrets(
  template: string,
  registries: readonly RegistryHost[],
): { named: NamedRegistry[]; collisions: SecretNameCollision[] } {
  const named: NamedRegistry[] = [];
  const collisions: SecretNameCollision[] = [];
  const holders = new Map<string, string>();
  for (const registry of registries) {
    const secretName = outputSecretName(template, registry);
    const heldBy = holders.get(secretName);
    if (heldBy === undefined) {
      holders.set(secretName, registry.host);
      named.push({ registry, secretName });
    } else {
      collisions.push({ registry, secretName, heldBy });
    }
  }
  return { named, collisions };
}
