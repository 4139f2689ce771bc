import { generateKeyPairSync, sign } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AwsServiceError } from './aws-errors.js';
import { oidcVerifier } from './oidc-verifier.js';

const ISSUER = 'https://10.88.0.1:6443';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'ES256' };
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

function token(claims: Record<string, unknown>, key = privateKey, kid = 'key-1'): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const data = `${part({ alg: 'ES256', kid })}.${part(claims)}`;
  const signature = sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' });
  return `${data}.${signature.toString('base64url')}`;
}

const good = {
  iss: ISSUER,
  aud: ['sts.amazonaws.com'],
  exp: Math.floor(Date.now() / 1000) + 600,
  sub: 'system:serviceaccount:ci-cd:eatr-renewer',
};
const verify = oidcVerifier(
  { issuer: ISSUER, jwks: () => Promise.resolve([jwk]) },
  'sts.amazonaws.com',
);

async function rejection(t: string): Promise<string> {
  const error = await verify(t).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AwsServiceError);
  expect((error as AwsServiceError).kind).toBe('invalid-identity-token');
  return (error as Error).message;
}

describe('oidcVerifier (IAM OIDC provider checks for AssumeRoleWithWebIdentity)', () => {
  it('accepts a token signed by a published key, for the issuer and audience, not expired', async () => {
    await expect(verify(token(good))).resolves.toEqual({
      sub: 'system:serviceaccount:ci-cd:eatr-renewer',
    });
  });

  it.each([
    ['another audience', token({ ...good, aud: ['not-sts'] }), /Incorrect token audience/],
    ['another issuer', token({ ...good, iss: 'https://elsewhere' }), /not a trusted/],
    ['an expired token', token({ ...good, exp: 1 }), /expired/],
    ['a key not published', token(good, other), /signature/],
    ['an unknown key id', token(good, privateKey, 'key-2'), /kid/],
    ['no JWT at all', 'not-a-jwt', /not a JWT/],
  ])('refuses %s with InvalidIdentityToken', async (_name, t, message) => {
    expect(await rejection(t)).toMatch(message);
  });
});
