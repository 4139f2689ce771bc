import type { NamespaceView } from '@eatr/core';
import type { CachedNamespace } from '../cache/projections.js';
import type { ClusterView } from './ports.js';

/** A namespace as the plan takes it, from the renewer's watch caches. */
export function namespaceView(view: ClusterView, ns: CachedNamespace): NamespaceView {
  const name = ns.metadata.name;
  return {
    name,
    labels: ns.metadata.labels,
    annotations: ns.metadata.annotations,
    terminating: ns.metadata.terminating,
    secrets: view.secretsIn(name).map((s) => s.observed),
    serviceAccounts: view.serviceAccountsIn(name).map((sa) => ({
      ...sa.observed,
      resourceVersion: sa.metadata.resourceVersion,
    })),
  };
}
