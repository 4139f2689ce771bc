import {
  ROLE_ARN_ANNOTATION,
  ROLE_SERVICE_ACCOUNT_ANNOTATION,
  STS_AUDIENCE,
  tenantRoleOf,
  type TenantRoleAllowlist,
} from '@eatr/core';
import type { Check } from '../doctor-model.js';
import { fail, ok } from './check.js';

/** What doctor knows of one namespace that names a role. */
export interface RoleFacts {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>> | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
  readonly allowlist: TenantRoleAllowlist;
  /** Whether the role's ServiceAccount exists; undefined when it could not be read. */
  readonly serviceAccountExists: boolean | undefined;
  /** The reasons the renewers recorded for the namespace's blocked Secrets; undefined: unknown. */
  readonly blockedReasons: readonly string[] | undefined;
}

/**
 * For a namespace that names an IAM role (eatr.io/role-arn): does the allowlist permit it, does its
 * ServiceAccount exist, and has AWS refused it (the role's trust policy). Empty without the
 * annotation. Pure.
 */
export function judgeRole(f: RoleFacts): Check[] {
  const role = tenantRoleOf(f.namespace, f.labels, f.annotations, f.allowlist);
  if (role.kind === 'none') return [];
  if (role.kind === 'refused')
    return [
      fail(
        'role',
        `namespace ${f.namespace} names a role eatr will not use: ${role.message}; it gets no Secret`,
        role.reason === 'malformed'
          ? `fix the annotation: kubectl annotate namespace ${f.namespace} ${ROLE_ARN_ANNOTATION}=arn:aws:iam::<account>:role/<name> --overwrite (or remove it to use the credential Secrets)`
          : `an eatr admin can add a rule to the chart's config.tenantRoles: {namespaces: "<a selector ${f.namespace} matches>", roleArns: ["${role.roleArn}"], serviceAccounts: ["${role.serviceAccount}"]}`,
      ),
    ];
  const { roleArn, serviceAccount } = role.role;
  const subject = `system:serviceaccount:${f.namespace}:${serviceAccount}`;
  const checks: Check[] = [
    ok(
      'role',
      `namespace ${f.namespace} may use role ${roleArn} through ServiceAccount ${serviceAccount} (--tenant-roles)`,
    ),
  ];
  if (f.serviceAccountExists === false)
    checks.push(
      fail(
        'role-service-account',
        `ServiceAccount ${f.namespace}/${serviceAccount}, whose token proves the namespace to the role, does not exist`,
        `kubectl -n ${f.namespace} create serviceaccount ${serviceAccount} (or name another with ${ROLE_SERVICE_ACCOUNT_ANNOTATION})`,
      ),
    );
  else if (f.serviceAccountExists === true)
    checks.push(
      ok('role-service-account', `ServiceAccount ${f.namespace}/${serviceAccount} exists`),
    );
  if (f.blockedReasons?.includes('role-denied'))
    checks.push(
      fail(
        'role-trust',
        `AWS refused role ${roleArn} for ${subject}`,
        `the role's trust policy must allow sts:AssumeRoleWithWebIdentity from this cluster's OIDC provider with the conditions "<issuer>:sub": "${subject}" and "<issuer>:aud": "${STS_AUDIENCE}" (docs/deploy.md, "Tenant roles")`,
      ),
    );
  else if (f.blockedReasons !== undefined)
    checks.push(ok('role-trust', `AWS has not refused role ${roleArn} for ${subject}`));
  return checks;
}
