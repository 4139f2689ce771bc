import type { V1Namespace } from '@kubernetes/client-node';
import {
  MAX_ROLE_ANNOTATION_LENGTH,
  ROLE_ARN_ANNOTATION,
  ROLE_SERVICE_ACCOUNT_ANNOTATION,
} from '../access/tenant-role.js';
import { SECRET_NAME_ANNOTATION } from '../naming.js';

/** The Namespace annotations eatr keeps in its caches (every other annotation is dropped). */
export const NAMESPACE_ANNOTATIONS = [
  ROLE_ARN_ANNOTATION,
  ROLE_SERVICE_ACCOUNT_ANNOTATION,
  SECRET_NAME_ANNOTATION,
] as const;

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
    /** Only eatr's own (NAMESPACE_ANNOTATIONS); undefined when it has none. */
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
  const annotations = namespaceAnnotationsOf(ns.metadata?.annotations);
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

/** The Namespace annotations eatr reads (NAMESPACE_ANNOTATIONS), or undefined when it has none. */
export function namespaceAnnotationsOf(
  annotations: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  let kept: Record<string, string> | undefined;
  for (const key of NAMESPACE_ANNOTATIONS) {
    const value = annotations?.[key];
    if (value !== undefined)
      (kept ??= {})[key] =
        value.length > MAX_ROLE_ANNOTATION_LENGTH
          ? `${value.slice(0, MAX_ROLE_ANNOTATION_LENGTH)}…`
          : value;
  }
  return kept;
}
