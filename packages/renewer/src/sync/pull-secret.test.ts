import { describe, expect, it } from 'vitest';
import { buildPullSecret } from './pull-secret.js';

const REG = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const H = 3_600_000;

describe('buildPullSecret', () => {
  const token = {
    password: 'pw',
    fetchedAt: Date.parse('2026-11-23T00:00:00Z'),
    expiresAt: Date.parse('2026-11-23T12:00:00Z'),
  };
  const secret = buildPullSecret({
    namespace: 'a',
    secretName: REG,
    registry: REG,
    token,
    credentialsVersion: 'u/1',
    renewalIntervalMs: 6 * H,
    instance: 'eatr-a',
    email: undefined,
  });

  it('is a dockerconfigjson Secret that kubelet can use', () => {
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
    const config = JSON.parse(
      Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString(),
    ) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(config.auths[REG]?.auth ?? '', 'base64').toString()).toBe('AWS:pw');
  });

  it('carries the managed-by and instance labels and expiry annotations', () => {
    expect(secret.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'eatr',
      'eatr.io/instance': 'eatr-a',
    });
    expect(secret.metadata?.annotations).toMatchObject({
      'eatr.io/registry': REG,
      'eatr.io/expires-at': '2026-11-23T12:00:00.000Z',
      'eatr.io/credentials-version': 'u/1',
    });
  });

  it('comes due within 6h to 6h36m of the token, at a point fixed per namespace and name', () => {
    const renewAt = (namespace: string) =>
      Date.parse(
        buildPullSecret({
          namespace,
          secretName: REG,
          registry: REG,
          token,
          credentialsVersion: 'u/1',
          renewalIntervalMs: 6 * H,
          instance: 'eatr-a',
          email: undefined,
        }).metadata?.annotations?.['eatr.io/renew-after'] ?? '',
      ) - token.fetchedAt;
    const offsets = Array.from({ length: 200 }, (_, i) => renewAt(`ns-${i}`));
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(6 * H);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(6.6 * H);
    expect(Math.max(...offsets) - Math.min(...offsets)).toBeGreaterThan(0.5 * H);
    expect(renewAt('ns-1')).toBe(renewAt('ns-1'));
  });

  it("an update names the version it read and only eatr's keys: a merge patch keeps the owner's", () => {
    const updated = buildPullSecret({
      namespace: 'a',
      secretName: REG,
      registry: REG,
      token,
      credentialsVersion: 'u/2',
      renewalIntervalMs: 6 * H,
      instance: 'eatr-a',
      email: 'e@x',
      resourceVersion: '7',
    });
    expect(updated.metadata?.resourceVersion).toBe('7');
    expect(Object.keys(updated.metadata?.labels ?? {}).sort()).toEqual([
      'app.kubernetes.io/managed-by',
      'eatr.io/instance',
    ]);
    expect(
      Object.keys(updated.metadata?.annotations ?? {}).every((k) => k.startsWith('eatr.io/')),
    ).toBe(true);
  });

  it("adds --secret-labels and --secret-annotations, under eatr's own keys", () => {
    const tagged = buildPullSecret({
      namespace: 'a',
      secretName: REG,
      registry: REG,
      token,
      credentialsVersion: 'u/1',
      renewalIntervalMs: 6 * H,
      instance: 'eatr-a',
      email: undefined,
      extraLabels: { 'argocd.argoproj.io/instance': 'none', 'eatr.io/instance': 'forged' },
      extraAnnotations: { 'argocd.argoproj.io/compare-options': 'IgnoreExtraneous' },
    });
    expect(tagged.metadata?.labels).toEqual({
      'argocd.argoproj.io/instance': 'none',
      'app.kubernetes.io/managed-by': 'eatr',
      'eatr.io/instance': 'eatr-a',
    });
    expect(tagged.metadata?.annotations?.['argocd.argoproj.io/compare-options']).toBe(
      'IgnoreExtraneous',
    );
  });
});

describe('buildPullSecret, format argocd-repo-creds', () => {
  const secret = buildPullSecret({
    namespace: 'argocd',
    secretName: `eatr-repo-creds-${REG}`,
    registry: REG,
    token: { password: 'pw', fetchedAt: 0, expiresAt: 12 * H },
    credentialsVersion: 'u/1',
    renewalIntervalMs: 6 * H,
    instance: 'eatr-a',
    email: undefined,
    extraLabels: { 'argocd.argoproj.io/secret-type': 'repository', team: 'a' },
    format: 'argocd-repo-creds',
  });
  const field = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString();

  it('is an Opaque Secret Argo CD reads as credentials for OCI Helm charts under the registry', () => {
    expect(secret.type).toBe('Opaque');
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(
      ['enableOCI', 'name', 'password', 'type', 'url', 'username'].sort(),
    );
    expect([field('url'), field('type'), field('enableOCI')]).toEqual([REG, 'helm', 'true']);
    expect([field('username'), field('password')]).toEqual(['AWS', 'pw']);
  });

  it("carries Argo CD's repo-creds label (an extra label cannot change it) and eatr's own", () => {
    expect(secret.metadata?.labels).toEqual({
      'argocd.argoproj.io/secret-type': 'repo-creds',
      team: 'a',
      'app.kubernetes.io/managed-by': 'eatr',
      'eatr.io/instance': 'eatr-a',
    });
    expect(secret.metadata?.annotations?.['eatr.io/expires-at']).toBe(
      new Date(12 * H).toISOString(),
    );
  });
});
