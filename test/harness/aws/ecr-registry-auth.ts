import type { IssuedToken } from './ecr-token-issuer.js';

/** Why an ECR-named registry accepted or refused a request. */
export type EcrPullDecision =
  | 'accepted'
  | 'no-credentials'
  | 'wrong-user'
  | 'unknown-token'
  | 'expired-token'
  | 'revoked-token'
  | 'other-registry';

/**
 * What ECR decides for a registry request (pure): Basic authentication as user `AWS` with the
 * password of a token the ECR stand-in issued for this very registry (account and region: a token
 * of another account or region is refused, as ECR refuses it), not expired, not revoked.
 */
export function authorizeEcrPull(
  authorization: string | undefined,
  registryHost: string,
  issued: readonly IssuedToken[],
  revoked: ReadonlySet<string>,
  now: number,
): { readonly user: 'AWS' | 'other' | 'none'; readonly reason: EcrPullDecision } {
  if (authorization === undefined || !authorization.startsWith('Basic '))
    return { user: 'none', reason: 'no-credentials' };
  const decoded = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  if (user !== 'AWS') return { user: 'other', reason: 'wrong-user' };
  const token = issued.find((t) => t.password === password);
  if (token === undefined) return { user, reason: 'unknown-token' };
  if (new URL(token.proxyEndpoint).host !== registryHost) return { user, reason: 'other-registry' };
  if (token.expiresAt.getTime() <= now) return { user, reason: 'expired-token' };
  if (revoked.has(password)) return { user, reason: 'revoked-token' };
  return { user, reason: 'accepted' };
}
