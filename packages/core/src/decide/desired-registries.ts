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
  /** Registries asked for by label beyond the cap: not served, reported once. */
  readonly overCap: readonly RegistryHost[];
  /** Label keys that look like a registry host but are not one (near misses), for a log line and metric. */
  readonly ignoredLabels: readonly string[];
  /**
   * Registry labels whose value reads as a yes but is not exactly `true` (`True`, `yes`, `1`): not
   * served, and worth telling the user about.
   */
  readonly nearMisses: readonly LabelNearMiss[];
}

const byHost = (a: RegistryHost, b: RegistryHost) => a.host.localeCompare(b.host);

/** A registry label set to something that reads as a yes but is not `"true"`. */
export interface LabelNearMiss {
  readonly registry: RegistryHost;
  readonly value: string;
}

const YES = new Set(['true', 'yes', 'y', '1', 'on', 'enabled']);

/**
 * Which registries a namespace asks for: every label `<registry host>: "true"`, plus the operator's
 * global registries when the namespace name matches include and not exclude. At most `max` in all:
 * whoever may label a namespace must not make eatr keep a Secret, a blocked record, an Event and a
 * metric series per invented registry. The operator's global registries are always kept; labelled
 * ones fill the rest in host order, so which ones are served does not change from sync to sync.
 */
export function desiredRegistries(
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
  global: GlobalRegistries,
  max = Number.POSITIVE_INFINITY,
): DesiredRegistries {
  const labelled = new Map<string, RegistryHost>();
  const ignoredLabels: string[] = [];
  const nearMisses: LabelNearMiss[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const registry = parseRegistryHost(key);
    if (registry) {
      if (value === 'true') labelled.set(registry.host, registry);
      else if (YES.has(value.trim().toLowerCase())) nearMisses.push({ registry, value });
    } else if (looksLikeRegistryHost(key)) {
      ignoredLabels.push(key);
    }
  }
  const operators = new Map<string, RegistryHost>();
  if (global.registries.length > 0 && namespaceMatches(namespace, global)) {
    for (const host of global.registries) {
      const registry = parseRegistryHost(host);
      if (registry) operators.set(registry.host, registry);
    }
  }
  for (const host of operators.keys()) labelled.delete(host);
  const byLabel = [...labelled.values()].sort(byHost);
  const room = Math.max(0, max - operators.size);
  const registries = [...operators.values(), ...byLabel.slice(0, room)].sort(byHost);
  nearMisses.sort((a, b) => byHost(a.registry, b.registry));
  return { registries, overCap: byLabel.slice(room), ignoredLabels, nearMisses };
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
