import { describe, expect, it } from 'vitest';
import type { IssuedToken } from './ecr-token-issuer.js';
import { authorizeEcrPull, type EcrPullDecision } from './ecr-registry-auth.js';

const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const NOW = Date.parse('2026-12-07T12:00:00Z');
const token = (password: string, over: Partial<IssuedToken> = {}): IssuedToken => ({
  accessKeyId: 'AKIA',
  accountId: '123456789012',
  region: 'eu-west-1',
  password,
  authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
  expiresAt: new Date(NOW + 3_600_000),
  proxyEndpoint: `https://${HOST}`,
  ...over,
});
const ISSUED = [
  token('live'),
  token('old', { expiresAt: new Date(NOW - 1) }),
  token('revoked'),
  token('other-account', { proxyEndpoint: 'https://210987654321.dkr.ecr.eu-west-1.amazonaws.com' }),
  token('other-region', { proxyEndpoint: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com' }),
];
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('authorizeEcrPull: what the e2e registry front accepts, as ECR would', () => {
  it.each<[string, string | undefined, EcrPullDecision]>([
    ['a live token of this registry', basic('AWS', 'live'), 'accepted'],
    ['no credentials', undefined, 'no-credentials'],
    ['a bearer token', 'Bearer live', 'no-credentials'],
    ['another user with a live password', basic('admin', 'live'), 'wrong-user'],
    ['a password ECR never issued', basic('AWS', 'guess'), 'unknown-token'],
    ['an expired token', basic('AWS', 'old'), 'expired-token'],
    ['a revoked token (after a rotation)', basic('AWS', 'revoked'), 'revoked-token'],
    ["another account's token", basic('AWS', 'other-account'), 'other-registry'],
    ["another region's token", basic('AWS', 'other-region'), 'other-registry'],
  ])('%s: %s', (_name, authorization, reason) => {
    expect(authorizeEcrPull(authorization, HOST, ISSUED, new Set(['revoked']), NOW).reason).toBe(
      reason,
    );
  });
});
