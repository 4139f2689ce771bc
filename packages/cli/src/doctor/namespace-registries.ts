import type { V1Namespace } from '@kubernetes/client-node';
import { desiredRegistries, globalRegistriesOf, type WatcherConfig } from '@eatr/core';
import type { Cli } from '../context.js';

/**
 * The registry hosts one namespace asks for: its registry labels, and the global registries where
 * they apply to it. Doctor decides this here only, so it can follow the components' own plan.
 */
export function registriesAskedFor(
  namespace: V1Namespace,
  settings: Pick<WatcherConfig, 'globalRegistries' | 'includeNamespaces' | 'excludeNamespaces'>,
): string[] {
  return desiredRegistries(
    namespace.metadata?.name ?? '',
    namespace.metadata?.labels,
    globalRegistriesOf(settings),
  ).registries.map((r) => r.host);
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
