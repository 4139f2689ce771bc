import {
  ALLOWED_NAMESPACES_ANNOTATION,
  DEFAULT_ROLE_SERVICE_ACCOUNT,
  ROLE_ARN_ANNOTATION,
  ROLE_SERVICE_ACCOUNT_ANNOTATION,
  SECRET_NAME_ANNOTATION,
  kubeStatus,
  namespaceSecretNameTemplate,
  outputSecretName,
  parseRegistryHost,
  type RegistryHost,
  accessAllows,
  credentialSecretName,
  describeAccessRule,
  type AccessRule,
  type LabelNearMiss,
} from '@eatr/core';
import type { Check } from '../doctor-model.js';
import type { Cli } from '../context.js';
import { fail, ok } from './check.js';
import { labelNearMisses, registriesAskedFor } from './namespace-registries.js';
import { readBlockedIn, readCredentials } from '../status.js';
import { judgeRole } from './role-checks.js';

/**
 * For each registry one namespace asks for: may it use that registry's credentials, by which rule,
 * and what to change when not (pure).
 */
export function judgeAccess(
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
  registries: readonly string[],
  ruleFor: (registryHost: string) => AccessRule,
  hostNamespace: string,
): Check[] {
  return registries.map((registry) => {
    const rule = ruleFor(registry);
    const id = `access:${registry}`;
    const said = describeAccessRule(rule, registry);
    if (accessAllows(rule, labels))
      return ok(id, `namespace ${namespace} may use the credentials of ${registry} (${said})`);
    return fail(
      id,
      `namespace ${namespace} may not use the credentials of ${registry}: ${said}, which it does not match; it gets no Secret`,
      `an eatr admin can allow it: kubectl -n ${hostNamespace} annotate secret ${credentialSecretName(registry)} ${ALLOWED_NAMESPACES_ANNOTATION}='<a selector ${namespace} matches, e.g. kubernetes.io/metadata.name in (${namespace})>' --overwrite; or label the namespace to match the selector`,
    );
  });
}

/** A registry label set to `True`, `yes` or `1` instead of `true`: one failing check each (pure). */
export function judgeNearMisses(namespace: string, nearMisses: readonly LabelNearMiss[]): Check[] {
  return nearMisses.map(({ registry, value }) =>
    fail(
      `label:${registry.host}`,
      `namespace ${namespace} has the label ${registry.host}=${JSON.stringify(value)}: eatr serves only the value "true" (exactly, lower case), so it ignores this label`,
      `kubectl label namespace ${namespace} ${registry.host}=true --overwrite`,
    ),
  );
}

/**
 * The namespace's eatr.io/secret-name annotation, when it has one: the names it gives, or why it is
 * not used (pure).
 */
export function judgeSecretName(
  namespace: string,
  annotation: string | undefined,
  template: string,
  registries: readonly RegistryHost[],
): Check[] {
  if (annotation === undefined) return [];
  const naming = namespaceSecretNameTemplate(annotation, template, registries);
  if (naming.problem !== undefined)
    return [
      fail(
        'secret-name',
        `namespace ${namespace}: ${naming.problem}`,
        `kubectl annotate namespace ${namespace} ${SECRET_NAME_ANNOTATION}=<a Secret name, e.g. ecr-pull> --overwrite (or remove it: ${SECRET_NAME_ANNOTATION}-)`,
      ),
    ];
  const names = registries.map((r) => outputSecretName(naming.template, r));
  return [
    ok(
      'secret-name',
      `namespace ${namespace} names its Secrets itself (${SECRET_NAME_ANNOTATION}): ${names.join(', ') || 'no registry asked for yet'}`,
    ),
  ];
}

/**
 * With --served-namespaces, whether the namespace is among them (pure); nothing to say without a
 * list or for a namespace that asks for no registry.
 */
export function judgeServed(
  namespace: string,
  served: ReadonlySet<string> | undefined,
  asked: readonly string[],
): Check[] {
  if (served === undefined || asked.length === 0) return [];
  if (served.has(namespace))
    return [ok('served', `namespace ${namespace} is among the namespaces this install serves`)];
  return [
    fail(
      'served',
      `namespace ${namespace} asks for ${asked.join(', ')} but is not among the namespaces this install serves (config.servedNamespaces): eatr leaves it alone`,
      `an eatr admin can add ${namespace} to config.servedNamespaces and run helm upgrade (the chart then grants the renewer Secrets there)`,
    ),
  ];
}

/**
 * The access policy of each registry the namespace asks for, or, for a namespace that names its own
 * IAM role, that role's allowlist, ServiceAccount and trust (with `-n` only).
 */
export async function accessChecks(cli: Cli, namespace: string): Promise<Check[]> {
  const [ns, credentials] = await Promise.all([
    cli.core.readNamespace({ name: namespace }),
    readCredentials(cli),
  ]);
  const served = judgeServed(
    namespace,
    cli.watcher.servedNamespaces,
    registriesAskedFor(ns, { ...cli.watcher, servedNamespaces: undefined }),
  );
  const labels = [
    ...judgeNearMisses(namespace, labelNearMisses(ns, cli.watcher)),
    ...judgeSecretName(
      namespace,
      ns.metadata?.annotations?.[SECRET_NAME_ANNOTATION],
      cli.watcher.secretNameTemplate,
      registriesAskedFor(ns, cli.watcher).flatMap((h) => parseRegistryHost(h) ?? []),
    ),
  ];
  if (served.some((c) => !c.ok)) return [...labels, ...served];
  const annotations = ns.metadata?.annotations;
  if (annotations?.[ROLE_ARN_ANNOTATION] !== undefined) {
    const serviceAccount =
      annotations[ROLE_SERVICE_ACCOUNT_ANNOTATION]?.trim() || DEFAULT_ROLE_SERVICE_ACCOUNT;
    const [exists, blocked] = await Promise.all([
      cli.core.readNamespacedServiceAccount({ namespace, name: serviceAccount }).then(
        () => true,
        (error: unknown) => (kubeStatus(error) === 404 ? false : undefined),
      ),
      readBlockedIn(cli, namespace).then((blocked) => blocked && [...blocked.values()]),
    ]);
    return [
      ...labels,
      ...served,
      ...judgeRole({
        namespace,
        labels: ns.metadata?.labels,
        annotations,
        allowlist: cli.watcher.tenantRoles,
        serviceAccountExists: exists,
        blockedReasons: blocked,
      }),
    ];
  }
  if (credentials === undefined)
    return [
      ...labels,
      ...served,
      fail(
        'access',
        `cannot read the credential Secrets in ${cli.watcher.hostNamespace}, so their access policy is unknown`,
        `check that your kubeconfig may list Secrets in ${cli.watcher.hostNamespace}`,
      ),
    ];
  return [
    ...labels,
    ...served,
    ...judgeAccess(
      namespace,
      ns.metadata?.labels,
      registriesAskedFor(ns, cli.watcher),
      credentials.access,
      cli.watcher.hostNamespace,
    ),
  ];
}
