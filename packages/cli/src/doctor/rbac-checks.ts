import { AuthorizationV1Api, describeError } from '@eatr/core';
import { UsageError, type Cli } from '../context.js';
import {
  describePermission,
  requiredPermissions,
  type Check,
  type Permission,
} from '../doctor-model.js';
import { fail, ok } from './check.js';

function parseServiceAccount(flag: string, value: string): { namespace: string; name: string } {
  const match = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(value);
  if (!match?.[1] || !match[2]) throw new UsageError(`${flag} ${value}: must be NAMESPACE/NAME`);
  return { namespace: match[1], name: match[2] };
}

/**
 * The component may do all it needs (requiredPermissions), asked of the API server as access
 * reviews: as this kubeconfig's user, or as `serviceAccount` when given.
 */
export async function rbacCheck(
  cli: Cli,
  component: 'watcher' | 'renewer',
  serviceAccount: string | undefined,
): Promise<Check> {
  const id = `rbac-${component}`;
  const permissions = requiredPermissions(component, {
    hostNamespace: cli.watcher.hostNamespace,
    leaseNamespace: cli.watcher.leaderElection.namespace,
    leaseName: cli.watcher.leaderElection.leaseName,
    servedNamespaces: cli.watcher.servedNamespaces,
  });
  const authz = cli.kc.makeApiClient(AuthorizationV1Api);
  const sa =
    serviceAccount === undefined
      ? undefined
      : parseServiceAccount(`--${component}-service-account`, serviceAccount);
  const who =
    sa === undefined
      ? `this kubeconfig's user (${cli.kc.getCurrentUser()?.name ?? 'unknown'})`
      : `ServiceAccount ${sa.namespace}/${sa.name}`;
  const allowed = async (p: Permission): Promise<boolean> => {
    const resourceAttributes = {
      group: p.group,
      resource: p.resource,
      verb: p.verb,
      ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
      ...(p.name === undefined ? {} : { name: p.name }),
    };
    if (sa === undefined) {
      const review = await authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes } },
      });
      return review.status?.allowed === true;
    }
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${sa.namespace}:${sa.name}`,
          groups: [
            'system:serviceaccounts',
            `system:serviceaccounts:${sa.namespace}`,
            'system:authenticated',
          ],
          resourceAttributes,
        },
      },
    });
    return review.status?.allowed === true;
  };
  try {
    const results = await Promise.all(permissions.map(async (p) => [p, await allowed(p)] as const));
    const missing = results.filter(([, yes]) => !yes).map(([p]) => describePermission(p));
    return missing.length === 0
      ? ok(id, `${component} RBAC: ${who} has all ${permissions.length} permissions`)
      : fail(
          id,
          `${component} RBAC: ${who} may not ${missing.join(', ')}`,
          `install with the chart (helm install eatr charts/eatr), which grants exactly these, or bind the ${component} ClusterRole/Roles to it`,
        );
  } catch (error) {
    return fail(
      id,
      `${component} RBAC: cannot review access: ${describeError(error)}`,
      'run doctor with a kubeconfig that may create (self)subjectaccessreviews',
    );
  }
}
