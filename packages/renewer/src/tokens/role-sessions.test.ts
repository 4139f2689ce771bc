import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError, type TenantRole } from '@eatr/core';
import { RoleSessions, type RoleSession } from './role-sessions.js';
import { TokenCache } from './token-cache.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const role = (namespace: string): TenantRole => ({
  roleArn: 'arn:aws:iam::111122223333:role/team-a-pull',
  namespace,
  serviceAccount: 'default',
});

function sessions(
  tokens: (ns: string) => Promise<string>,
  sts: (token: string) => Promise<RoleSession>,
) {
  const calls = { tokens: [] as string[], sts: [] as string[] };
  const s = new RoleSessions(
    {
      request: (namespace, _sa, audience, seconds) => {
        calls.tokens.push(`${namespace} ${audience} ${seconds}`);
        return tokens(namespace);
      },
    },
    {
      assumeRoleWithWebIdentity: (r) => {
        calls.sts.push(`${r.sessionName} ${r.webIdentityToken}`);
        return sts(r.webIdentityToken);
      },
    },
    new TokenCache<RoleSession>({ renewalIntervalMs: 6 * 3_600_000, now: () => NOW }),
  );
  return { s, calls };
}
const session: RoleSession = {
  keys: { accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: 't' },
  expiresAt: NOW + 3_600_000,
  fetchedAt: NOW,
};

describe('RoleSessions', () => {
  it('proves each namespace with its own short STS-audience token, once per session', async () => {
    const { s, calls } = sessions(
      (ns) => Promise.resolve(`jwt-${ns}`),
      () => Promise.resolve(session),
    );
    await s.session(role('team-a'));
    await s.session(role('team-a'));
    await s.session(role('team-b'));
    expect(calls.tokens).toEqual(['team-a sts.amazonaws.com 600', 'team-b sts.amazonaws.com 600']);
    expect(calls.sts).toEqual(['eatr-team-a jwt-team-a', 'eatr-team-b jwt-team-b']);
  });

  it.each<
    [string, () => Promise<string>, () => Promise<RoleSession>, string, 'retry' | 'permanent']
  >([
    [
      'a ServiceAccount not there (yet)',
      () => Promise.reject(Object.assign(new Error('not found'), { code: 404 })),
      () => Promise.resolve(session),
      'role-service-account-missing',
      'retry',
    ],
    [
      'a token request the API server refuses',
      () => Promise.reject(Object.assign(new Error('forbidden'), { code: 403 })),
      () => Promise.resolve(session),
      'http-403',
      'permanent',
    ],
    [
      "the role's trust policy",
      () => Promise.resolve('jwt'),
      () =>
        Promise.reject(
          Object.assign(new Error('Not authorized'), {
            name: 'AccessDenied',
            $metadata: { httpStatusCode: 403 },
          }),
        ),
      'role-denied',
      'permanent',
    ],
    [
      'STS throttling',
      () => Promise.resolve('jwt'),
      () => Promise.reject(Object.assign(new Error('slow down'), { name: 'Throttling' })),
      'throttled',
      'retry',
    ],
  ])('classifies %s', async (_name, tokens, sts, reason, errorClass) => {
    const { s } = sessions(tokens, sts);
    const error = await s.session(role('team-a')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass === 'retry' ? RetryableError : PermanentError);
    expect((error as RetryableError).reason).toBe(reason);
    expect((error as RetryableError).context.namespace).toBe('team-a');
  });
});
