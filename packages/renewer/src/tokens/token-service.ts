import { createHash } from 'node:crypto';
import { EatrError, PermanentError, type RegistryHost, type RenewerMetrics } from '@eatr/core';
import { classifyAwsError, toEatrError } from '../aws/aws-errors.js';
import type { EcrToken, EcrTokenClient } from '../aws/ecr-token-client.js';
import type { ResolvedCredentials } from '../credentials/credential-resolver.js';
import type { CredentialSpec } from '../credentials/credential-secret.js';
import type { RoleSession, RoleSessions } from './role-sessions.js';
import type { TokenCache, TokenRequestOptions } from './token-cache.js';

/** Gets tokens through the cache, counting and timing each real ECR call. */
export class TokenService {
  constructor(
    private readonly client: EcrTokenClient,
    private readonly cache: TokenCache,
    private readonly metrics: RenewerMetrics,
    /** Tenant roles (undefined: --tenant-roles is off, and a role spec is refused). */
    private readonly roles?: RoleSessions,
  ) {}

  async token(
    credentials: ResolvedCredentials,
    registry: RegistryHost,
    options: TokenRequestOptions = {},
  ): Promise<EcrToken> {
    const role = credentials.spec.tenantRole;
    if (role === undefined)
      return this.cache.get(
        cacheKey(credentials, registry),
        () => this.fetch(credentials.spec, registry),
        options,
      );
    if (this.roles === undefined)
      throw new PermanentError('tenant roles are off in this renewer', 'role-denied', {
        namespace: role.namespace,
        registry: registry.host,
      });
    // The namespace proves itself to the role first (its own session, checked by AWS); the ECR token
    // is then shared by every namespace that proved itself to the same role: it carries the
    // role's rights, whoever assumed it, so ECR is called once per (role, region).
    let session: RoleSession;
    try {
      session = await this.roles.session(role, options);
    } catch (error) {
      throw error instanceof EatrError ? error.withContext({ registry: registry.host }) : error;
    }
    return this.cache.get(
      roleCacheKey(role.roleArn, registry),
      () => this.fetch({ keys: session.keys }, registry),
      options,
    );
  }

  private async fetch(spec: CredentialSpec, registry: RegistryHost): Promise<EcrToken> {
    const stopTimer = this.metrics.ecrCallDuration.startTimer({ region: registry.region });
    try {
      const token = await this.client.getAuthorizationToken(
        spec,
        registry.region,
        registry.service,
      );
      this.metrics.ecrCalls.inc({ region: registry.region, result: 'success' });
      return token;
    } catch (error) {
      this.metrics.ecrCalls.inc({
        region: registry.region,
        result: classifyAwsError(error).failure,
      });
      throw toEatrError(error, { registry: registry.host });
    } finally {
      stopTimer();
    }
  }
}

/** The ECR token of a tenant role in one region (shared by the namespaces proven to it). */
export function roleCacheKey(
  roleArn: string,
  registry: Pick<RegistryHost, 'region' | 'service'>,
): string {
  return `${registry.service}/${registry.region}/role:${createHash('sha256').update(roleArn).digest('base64url')}`;
}

/**
 * One ECR token serves every registry the same credentials reach in one region (ECR Public's is a
 * token of its own). The key is a digest of the credentials (held in memory only), so two credential
 * Secrets with the same keys share a call.
 */
export function cacheKey(
  credentials: ResolvedCredentials,
  registry: Pick<RegistryHost, 'region' | 'service'>,
): string {
  const { keys, roleArn, externalId } = credentials.spec;
  const identity = JSON.stringify([
    keys?.accessKeyId,
    keys?.secretAccessKey,
    keys?.sessionToken,
    roleArn,
    externalId,
  ]);
  return `${registry.service}/${registry.region}/${createHash('sha256').update(identity).digest('base64url')}`;
}
