import type { V1Namespace } from '@kubernetes/client-node';
import { roleAnnotationsOf } from '../access/tenant-role.js';

/** What eatr keeps of a Namespace: enough to decide which registries it asks for and may have. */
export interface CachedNamespace {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion: string;
    /**
     * Every label: registry labels say what the namespace asks for, and the credentials' access
     * policies may select on any other (namespace labels are few and set by whoever may edit
     * namespaces, so this costs little).
     */
    readonly labels: Readonly<Record<string, string>>;
    /** Only eatr's own (ROLE_ANNOTATIONS); undefined when it has none. */
    readonly annotations?: Readonly<Record<string, string>>;
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
  const labels: Record<string, string> = { ...ns.metadata?.labels };
  const annotations = roleAnnotationsOf(ns.metadata?.annotations);
  return {
    metadata: {
      name: ns.metadata?.name ?? '',
      namespace: '',
      resourceVersion: ns.metadata?.resourceVersion ?? '',
      labels,
      ...(annotations ? { annotations } : {}),
      createdAt: time(ns.metadata?.creationTimestamp),
      terminating: Boolean(ns.metadata?.deletionTimestamp),
    },
  };
}
