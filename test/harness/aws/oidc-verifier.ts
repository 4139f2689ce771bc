import { createPublicKey, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { AwsServiceError } from './aws-errors.js';

export interface ClusterOidc {
  /** The API server's `--service-account-issuer`. */
  readonly issuer: string;
  /** Its keys, as `/openid/v1/jwks` serves them. */
  readonly jwks: () => Promise<readonly JsonWebKey[]>;
}

/** The claims a role's trust policy conditions on, once the token checked out. */
export interface WebIdentityClaims {
  /** `system:serviceaccount:<namespace>:<name>` for a Kubernetes ServiceAccount token. */
  readonly sub: string | undefined;
}

/**
 * What IAM does with AssumeRoleWithWebIdentity for an OIDC provider off EKS: the token's signature
 * against the cluster's own published keys (`/openid/v1/jwks`), its issuer, audience and expiry.
 * Rejects with `InvalidIdentityToken` and IAM's wording for the first check that fails.
 */
export function oidcVerifier(
  cluster: ClusterOidc,
  audience: string,
): (token: string) => Promise<WebIdentityClaims> {
  return async (token: string) => {
    const invalid = (message: string) => new AwsServiceError('invalid-identity-token', message);
    const parts = token.trim().split('.');
    if (parts.length !== 3) throw invalid('The web identity token is not a JWT');
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const decode = (part: string): Record<string, unknown> =>
      JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    const header = decode(headerPart);
    const claims = decode(payloadPart);
    const key = (await cluster.jwks()).find((k) => k.kid === header.kid);
    if (key === undefined) throw invalid('No OpenIDConnect provider key matches the token (kid)');
    const alg = header.alg;
    const publicKey = createPublicKey({ key, format: 'jwk' });
    const data = Buffer.from(`${headerPart}.${payloadPart}`);
    const signature = Buffer.from(signaturePart, 'base64url');
    const good =
      alg === 'ES256'
        ? verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
        : alg === 'RS256'
          ? verify('sha256', data, publicKey, signature)
          : false;
    if (!good) throw invalid('The web identity token signature is not valid');
    if (claims.iss !== cluster.issuer) {
      throw invalid(`Issuer ${String(claims.iss)} is not a trusted OpenIDConnect provider`);
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(audience)) throw invalid('Incorrect token audience');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) {
      throw invalid('Token expired');
    }
    return { sub: typeof claims.sub === 'string' ? claims.sub : undefined };
  };
}
