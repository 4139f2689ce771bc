import { createHash } from 'node:crypto';
import { PermanentError, RetryableError, STS_AUDIENCE, type TenantRole } from '@eatr/core';
import { classifyAwsError } from '../aws/aws-errors.js';
import type { StaticKeys } from '../credentials/credential-secret.js';
import { TokenCache, type Expiring, type TokenRequestOptions } from './token-cache.js';

/** An assumed tenant role's temporary keys. */
export interface RoleSession extends Expiring {
  readonly keys: StaticKeys;
}

/** The Kubernetes TokenRequest API: a short-lived token of one ServiceAccount for one audience. */
export interface ServiceAccountTokens {
  request(
    namespace: string,
    serviceAccount: string,
    audience: string,
    expirationSeconds: number,
  ): Promise<string>;
}

/** STS AssumeRoleWithWebIdentity. */
export interface WebIdentitySts {
  assumeRoleWithWebIdentity(request: {
    readonly roleArn: string;
    readonly sessionName: string;
    readonly webIdentityToken: string;
  }): Promise<RoleSession>;
}

/** The shortest token the API server issues; it is used once, at once. */
const TOKEN_SECONDS = 600;

/** Reasons a role refusal is recorded with; a renewal that fails for one of them revokes the Secret. */
export const ROLE_REFUSALS: ReadonlySet<string> = new Set([
  'role-denied',
  'role-service-account-missing',
]);

/**
 * Sessions of the tenant roles namespaces use, one per (role, namespace, ServiceAccount): each is
 * proven with a token of that namespace's own ServiceAccount (audience sts.amazonaws.com), so the
 * role's trust policy (`sub`) is checked by AWS for every namespace, never borrowed from another.
 * Sessions and refusals are cached like ECR tokens (single flight, refusals remembered briefly).
 */
export class RoleSessions {
  constructor(
    private readonly tokens: ServiceAccountTokens,
    private readonly sts: WebIdentitySts,
    private readonly cache: TokenCache<RoleSession>,
  ) {}

  async session(role: TenantRole, options: TokenRequestOptions = {}): Promise<RoleSession> {
    return this.cache.get(sessionKey(role), () => this.assume(role), options);
  }

  private async assume(role: TenantRole): Promise<RoleSession> {
    const { roleArn, namespace, serviceAccount } = role;
    const context = { namespace, roleArn, serviceAccount };
    let webIdentityToken: string;
    try {
      webIdentityToken = await this.tokens.request(
        namespace,
        serviceAccount,
        STS_AUDIENCE,
        TOKEN_SECONDS,
      );
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // Retried with the job's backoff: a new namespace's `default` ServiceAccount appears a moment
      // after the namespace. (A Secret issued through it is revoked at once all the same.)
      if (code === 404)
        throw new RetryableError(
          `ServiceAccount ${namespace}/${serviceAccount}, whose token proves the namespace to role ${roleArn}, does not exist`,
          'role-service-account-missing',
          context,
          { cause: error },
        );
      const message = `token request for ServiceAccount ${namespace}/${serviceAccount}: ${(error as Error).message}`;
      throw typeof code === 'number' && code >= 400 && code < 500 && code !== 429
        ? new PermanentError(message, `http-${code}`, context, { cause: error })
        : new RetryableError(message, 'token-request', context, { cause: error });
    }
    try {
      return await this.sts.assumeRoleWithWebIdentity({
        roleArn,
        // Who asked, in CloudTrail; STS allows [\w+=,.@-]{2,64}.
        sessionName: `eatr-${namespace}`.slice(0, 64),
        webIdentityToken,
      });
    } catch (error) {
      const { failure, retry } = classifyAwsError(error);
      const e = error as { name?: string; message?: string };
      const message = `role ${roleArn} for ServiceAccount ${namespace}/${serviceAccount}: ${e.name ?? 'Error'}: ${(e.message ?? String(error)).split('\n')[0]}`;
      if (retry) throw new RetryableError(message, failure, context, { cause: error });
      // AccessDenied (the trust policy) or a token AWS does not accept (issuer, audience).
      throw new PermanentError(message, 'role-denied', context, { cause: error });
    }
  }
}

/** One session per (role, namespace, ServiceAccount); the key is a digest (ARNs stay out of memory dumps' keys). */
export function sessionKey(role: TenantRole): string {
  return createHash('sha256')
    .update(JSON.stringify([role.roleArn, role.namespace, role.serviceAccount]))
    .digest('base64url');
}

/** The version a role-issued Secret records: a change of role or ServiceAccount renews it at once. */
export function roleCredentialsVersion(role: TenantRole): string {
  return `role-${sessionKey(role).slice(0, 16)}`;
}
