import picomatch from 'picomatch';
import {
  looksLikeRegistryHost,
  parseRegistryHost,
  type RegistryHost,
} from '../registry/registry-host.js';

/** What the operator configured for every namespace, besides labels. */
export interface GlobalRegistries {
  readonly registries: readonly string[];
  /** Namespace name globs the global registries apply to. */
  readonly include: readonly string[];
  /** Namespace name globs the global registries skip (wins over include). */
  readonly exclude: readonly string[];
}

/** The operator's global registries, from the settings both components share. */
export function globalRegistriesOf(config: {
  readonly globalRegistries: readonly string[];
  readonly includeNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
}): GlobalRegistries {
  return {
    registries: config.globalRegistries,
    include: config.includeNamespaces,
    exclude: config.excludeNamespaces,
  };
}

export interface DesiredRegistries {
  /** Registries the namespace should have a pull Secret for, sorted by host. */
  readonly registries: readonly RegistryHost[];
  /** Label keys that look like a registry host but are not one (near misses), for a log line and metric. */
  readonly ignoredLabels: readonly string[];
}

/**
 * Which registries a namespace asks for: every label `<registry host>: "true"`, plus the operator's
 * global registries when the namespace name matches include and not exclude.
 */
export function desiredRegistries(
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
  global: GlobalRegistries,
): DesiredRegistries {
  const byHost = new Map<string, RegistryHost>();
  const ignoredLabels: string[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const registry = parseRegistryHost(key);
    if (registry) {
      if (value === 'true') byHost.set(registry.host, registry);
    } else if (looksLikeRegistryHost(key)) {
      ignoredLabels.push(key);
    }
  }
  if (global.registries.length > 0 && namespaceMatches(namespace, global)) {
    for (const host of global.registries) {
      const registry = parseRegistryHost(host);
      if (registry) byHost.set(registry.host, registry);
    }
  }
  const registries = [...byHost.values()].sort((a, b) => a.host.localeCompare(b.host));
  return { registries, ignoredLabels };
}

function namespaceMatches(namespace: string, global: GlobalRegistries): boolean {
  const included = global.include.length === 0 || picomatch.isMatch(namespace, [...global.include]);
  return included && !picomatch.isMatch(namespace, [...global.exclude]);
}

/** True when a namespace needs anything from eatr at all (used by the watcher to skip work). */
export function wantsAnyRegistry(
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
  global: GlobalRegistries,
): boolean {
  return desiredRegistries(namespace, labels, global).registries.length > 0;
}
