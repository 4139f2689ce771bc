import { PermanentError, isRoleArn, type TenantRole } from '@eatr/core';

/** Long-lived or session keys from a credential Secret. */
export interface StaticKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** How to get a token for one registry. `keys` undefined means the pod's own AWS identity. */
export interface CredentialSpec {
  readonly keys: StaticKeys | undefined;
  /** Assume this role first (e.g. cross-account), with the keys (or pod identity) as the caller. */
  readonly roleArn?: string;
  readonly externalId?: string;
  /** Written into .dockerconfigjson when set (the Rancher recipe's EMAIL). */
  readonly email?: string;
  /**
   * A namespace's own role (eatr.io/role-arn), assumed with a token of its ServiceAccount; `keys` and
   * `roleArn` are then unused.
   */
  readonly tenantRole?: TenantRole;
}

// Both key-name styles: the seed controller's script (lower case) and the Rancher recipe (env names).
const KEYS = {
  accessKeyId: ['aws_access_key_id', 'AWS_ACCESS_KEY_ID'],
  secretAccessKey: ['aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY'],
  sessionToken: ['aws_session_token', 'AWS_SESSION_TOKEN'],
  roleArn: ['aws_role_arn', 'AWS_ROLE_ARN'],
  externalId: ['aws_external_id', 'AWS_EXTERNAL_ID'],
  email: ['email', 'EMAIL'],
} as const;

function pick(
  data: Readonly<Record<string, string>>,
  names: readonly string[],
): string | undefined {
  for (const name of names) {
    const encoded = data[name];
    if (encoded === undefined) continue;
    const value = Buffer.from(encoded, 'base64').toString('utf8').trim();
    if (value !== '') return value;
  }
  return undefined;
}

/**
 * Reads a credential Secret's data (base64 values, as the API returns them). Region keys
 * (`aws_region`, `AWS_DEFAULT_REGION`) and `AWS_ACCOUNT_NUMBER` are accepted and ignored: the region
 * and account always come from the registry host. Throws PermanentError naming the missing or bad
 * key, never a value.
 */
export function parseCredentialSecret(
  data: Readonly<Record<string, string>> | undefined,
  context: { registry: string; secretName: string },
): CredentialSpec {
  const values = data ?? {};
  const accessKeyId = pick(values, KEYS.accessKeyId);
  const secretAccessKey = pick(values, KEYS.secretAccessKey);
  const sessionToken = pick(values, KEYS.sessionToken);
  const roleArn = pick(values, KEYS.roleArn);
  const externalId = pick(values, KEYS.externalId);
  const email = pick(values, KEYS.email);
  const fail = (message: string) =>
    new PermanentError(
      `credential Secret ${context.secretName}: ${message}`,
      'malformed-credentials',
      { registry: context.registry },
    );

  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw fail(
      accessKeyId === undefined
        ? 'has aws_secret_access_key but no aws_access_key_id'
        : 'has aws_access_key_id but no aws_secret_access_key',
    );
  }
  if (accessKeyId === undefined && roleArn === undefined) {
    throw fail(
      'needs aws_access_key_id and aws_secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or aws_role_arn',
    );
  }
  if (accessKeyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(accessKeyId))
    throw fail('aws_access_key_id is not an AWS access key id');
  if (roleArn !== undefined && !isRoleArn(roleArn))
    throw fail('aws_role_arn is not an IAM role ARN');
  if (externalId !== undefined && roleArn === undefined)
    throw fail('aws_external_id is set without aws_role_arn');

  const keys: StaticKeys | undefined =
    accessKeyId !== undefined && secretAccessKey !== undefined
      ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
      : undefined;
  return {
    keys,
    ...(roleArn ? { roleArn } : {}),
    ...(externalId ? { externalId } : {}),
    ...(email ? { email } : {}),
  };
}
