import type { V1Namespace } from '@kubernetes/client-node';
import { planNamespace, planSettingsOf, type LabelNearMiss, type WatcherConfig } from '@eatr/core';
import type { Cli } from '../context.js';

type PlanConfig = Pick<
  WatcherConfig,
  | 'instance'
  | 'maxRegistriesPerNamespace'
  | 'globalRegistries'
  | 'includeNamespaces'
  | 'excludeNamespaces'
  | 'secretNameTemplate'
  | 'serviceAccounts'
> & { readonly servedNamespaces?: ReadonlySet<string> | undefined };

/** One namespace's plan as the watcher and the renewer make it, from its labels alone. */
function planOf(namespace: V1Namespace, settings: PlanConfig) {
  return planNamespace({
    namespace: {
      name: namespace.metadata?.name ?? '',
      labels: namespace.metadata?.labels,
      terminating: namespace.metadata?.deletionTimestamp !== undefined,
      serviceAccounts: [],
    },
    settings: planSettingsOf(settings),
    now: Date.now(),
  });
}

/**
 * The registry hosts one namespace needs a Secret for, by the plan the watcher and the renewer follow
 * (planNamespace): its registry labels and the global registries where they apply, less registries
 * the name template leaves unserved; none for a terminating namespace or one outside
 * --served-namespaces.
 */
export function registriesAskedFor(namespace: V1Namespace, settings: PlanConfig): string[] {
  return planOf(namespace, settings)
    .secrets.filter((s) => s.format === 'pull')
    .map((s) => s.registry.host);
}

/** Registry labels set to a yes that is not exactly `true` (`True`, `yes`): `host=value`. */
export function labelNearMisses(namespace: V1Namespace, settings: PlanConfig): LabelNearMiss[] {
  return [...planOf(namespace, settings).nearMisses];
}

/** How many of the namespaces doctor looks at (`only`, or every one) ask for each registry host. */
export async function wantedRegistries(
  cli: Cli,
  only: string | undefined,
): Promise<Map<string, number>> {
  const namespaces =
    only === undefined
      ? (await cli.core.listNamespace()).items
      : [await cli.core.readNamespace({ name: only })];
  const wanted = new Map<string, number>();
  for (const ns of namespaces)
    for (const host of registriesAskedFor(ns, cli.watcher))
      wanted.set(host, (wanted.get(host) ?? 0) + 1);
  return wanted;
}
