import { createHash } from 'node:crypto';
import type { RegistryHost, RenewerMetrics } from '@eatr/core';
import { classifyAwsError, toEatrError } from '../aws/aws-errors.js';
import type { EcrToken, EcrTokenClient } from '../aws/ecr-token-client.js';
import type { ResolvedCredentials } from '../credentials/credential-resolver.js';
import type { TokenCache, TokenRequestOptions } from './token-cache.js';

/** Gets tokens through the cache, counting and timing each real ECR call. */
export class TokenService {
  constructor(
    private readonly client: EcrTokenClient,
    private readonly cache: TokenCache,
    private readonly metrics: RenewerMetrics,
  ) {}

  async token(
    credentials: ResolvedCredentials,
    registry: RegistryHost,
    options: TokenRequestOptions = {},
  ): Promise<EcrToken> {
    return this.cache.get(
      cacheKey(credentials, registry.region),
      async () => {
        const stopTimer = this.metrics.ecrCallDuration.startTimer({ region: registry.region });
        try {
          const token = await this.client.getAuthorizationToken(credentials.spec, registry.region);
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
      },
      options,
    );
  }
}

/**
 * One ECR token serves every registry the same credentials reach in one region. The key is a digest
 * of the credentials (held in memory only), so two credential Secrets with the same keys share a call.
 */
export function cacheKey(credentials: ResolvedCredentials, region: string): string {
  const { keys, roleArn, externalId } = credentials.spec;
  const identity = JSON.stringify([
    keys?.accessKeyId,
    keys?.secretAccessKey,
    keys?.sessionToken,
    roleArn,
    externalId,
  ]);
  return `${region}/${createHash('sha256').update(identity).digest('base64url')}`;
}
