/** One finding of `eatr doctor`. */
export interface Check {
  /** Stable id for scripts (`-o json`), e.g. `redis-eviction`. */
  readonly id: string;
  readonly ok: boolean;
  /** What was found, in one line. */
  readonly message: string;
  /** What to do about it (failed checks only). */
  readonly fix?: string;
}

/** A permission a component needs, as the chart's RBAC grants it. */
export interface Permission {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  /** Namespaced permissions; undefined = cluster-wide. */
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * What each component asks of the API server: the same rules as charts/eatr/templates/*-role*.yaml
 * (least privilege), so a ✖ here is what the component would hit at run time (pure).
 */
export function requiredPermissions(
  component: 'watcher' | 'renewer',
  settings: {
    hostNamespace: string;
    leaseNamespace: string;
    leaseName: string;
    /** --served-namespaces: the renewer's Secrets and ServiceAccount patch are granted there. */
    servedNamespaces?: ReadonlySet<string> | undefined;
  },
): Permission[] {
  const many = (
    group: string,
    resource: string,
    verbs: string[],
    namespace?: string,
    name?: string,
  ) =>
    verbs.map((verb) => ({
      group,
      resource,
      verb,
      ...(namespace === undefined ? {} : { namespace }),
      ...(name === undefined ? {} : { name }),
    }));
  if (component === 'watcher')
    return [
      ...many('', 'namespaces', ['list', 'watch']),
      ...many('', 'serviceaccounts', ['list', 'watch']),
      ...many('coordination.k8s.io', 'leases', ['create'], settings.leaseNamespace),
      ...many(
        'coordination.k8s.io',
        'leases',
        ['get', 'update'],
        settings.leaseNamespace,
        settings.leaseName,
      ),
    ];
  // `update`: how 0.1.x renewers renew, on the same ServiceAccount during a rollout (this release
  // patches); drop it once 0.1.x is more than one release back.
  const secretVerbs = ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'];
  const served = settings.servedNamespaces;
  if (served !== undefined) {
    // Granted per namespace: the host namespace and the first SERVED_SAMPLE served ones are asked.
    const sample = [...new Set([settings.hostNamespace, ...[...served].sort()])].slice(
      0,
      SERVED_SAMPLE + 1,
    );
    return [
      ...sample.flatMap((ns) => [
        ...many('', 'secrets', secretVerbs, ns),
        ...many('', 'serviceaccounts', ['patch'], ns),
      ]),
      ...many('', 'serviceaccounts', ['get', 'list', 'watch']),
      ...many('', 'namespaces', ['get', 'list', 'watch']),
      ...many('', 'events', ['create']),
    ];
  }
  return [
    ...many('', 'secrets', secretVerbs),
    ...many('', 'serviceaccounts', ['get', 'list', 'watch', 'patch']),
    ...many('', 'namespaces', ['get', 'list', 'watch']),
    ...many('', 'events', ['create']),
  ];
}

/** How many served namespaces doctor asks about (each costs eight access reviews). */
export const SERVED_SAMPLE = 20;

export function describePermission(p: Permission): string {
  const resource = p.group === '' ? p.resource : `${p.resource}.${p.group}`;
  const where = p.namespace === undefined ? '' : ` in ${p.namespace}`;
  return `${p.verb} ${resource}${p.name === undefined ? '' : `/${p.name}`}${where}`;
}

/** Clock skew above this breaks token expiry decisions and Lease hand-overs. */
export const MAX_SKEW_MS = 5_000;
