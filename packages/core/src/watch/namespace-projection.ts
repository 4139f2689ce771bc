import type { V1Namespace } from '@kubernetes/client-node';
import { looksLikeRegistryHost, parseRegistryHost } from '../registry/registry-host.js';

/** What eatr keeps of a Namespace: enough to decide which registries it asks for. */
export interface CachedNamespace {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion: string;
    /** Only labels that are, or look like, registry hosts: the rest never matter to eatr. */
    readonly labels: Readonly<Record<string, string>>;
    readonly createdAt: number;
    readonly terminating: boolean;
  };
}

/** The creation time as the watch delivers it: a Date from the client's list, a string from a watch. */
function time(value: Date | string | undefined): number {
  if (value === undefined) return 0;
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

export function projectNamespace(raw: unknown): CachedNamespace {
  const ns = raw as V1Namespace;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(ns.metadata?.labels ?? {}))
    if (parseRegistryHost(key) || looksLikeRegistryHost(key)) labels[key] = value;
  return {
    metadata: {
      name: ns.metadata?.name ?? '',
      namespace: '',
      resourceVersion: ns.metadata?.resourceVersion ?? '',
      labels,
      createdAt: time(ns.metadata?.creationTimestamp),
      terminating: Boolean(ns.metadata?.deletionTimestamp),
    },
  };
}
