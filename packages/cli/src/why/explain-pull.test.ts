import { describe, expect, it } from 'vitest';
import {
  ALLOWED_NAMESPACES_ANNOTATION,
  CREDENTIALS_VERSION_ANNOTATION,
  DOCKER_CONFIG_JSON_TYPE,
  EXPIRES_AT_ANNOTATION,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REGISTRY_ANNOTATION,
  RENEW_AFTER_ANNOTATION,
  accessRuleOf,
  parseDefaultAccess,
  type ObservedSecret,
  type PlanSettings,
} from '@eatr/core';
import { explainPull, imageHost, type PullFacts } from './explain-pull.js';

const EU = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const NOW = Date.parse('2026-12-07T12:00:00Z');
const H = 3_600_000;
const settings: PlanSettings = {
  instance: 'eatr',
  maxRegistries: 20,
  global: { registries: [], include: [], exclude: [] },
  secretNameTemplate: '{{registry}}',
  serviceAccounts: ['default'],
  tenantRoles: [],
};
const secret = (expiresIn = 11 * H, over: Partial<ObservedSecret> = {}): ObservedSecret => ({
  name: EU,
  type: DOCKER_CONFIG_JSON_TYPE,
  labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: 'eatr' },
  annotations: {
    [REGISTRY_ANNOTATION]: EU,
    [EXPIRES_AT_ANNOTATION]: new Date(NOW + expiresIn).toISOString(),
    [RENEW_AFTER_ANNOTATION]: new Date(NOW + expiresIn / 2).toISOString(),
    [CREDENTIALS_VERSION_ANNOTATION]: 'v1',
  },
  ...over,
});
const facts = (over: Partial<PullFacts> = {}): PullFacts => ({
  namespace: { name: 'team-a', labels: { [EU]: 'true' } },
  pod: {
    name: 'app',
    images: [`${EU}/team/app:v1`],
    imagePullSecrets: [EU],
    serviceAccount: 'default',
    waiting: [],
  },
  serviceAccount: { imagePullSecrets: [EU] },
  secrets: [secret()],
  blocked: new Map(),
  settings,
  now: NOW,
  ...over,
});
const pod = (over: Partial<PullFacts['pod']>) => ({ pod: { ...facts().pod, ...over } });
const verdict = (f: PullFacts) =>
  explainPull(f).map((c) => `${c.ok ? 'ok' : 'FAIL'}: ${c.message}`);

describe('explainPull: why a Pod can or cannot pull', () => {
  it.each<[string, Partial<PullFacts>, RegExp]>([
    ['everything in place', {}, /^ok: the Pod references Secret .* live token/],
    [
      'not an ECR image',
      pod({ images: ['nginx:1.27'] }),
      /^ok: nginx:1.27 is not in an ECR registry/,
    ],
    [
      'the label value True, not true',
      { namespace: { name: 'team-a', labels: { [EU]: 'True' } } },
      /^FAIL: .*has the label .*="True": eatr serves only the value "true"/,
    ],
    [
      'no label at all',
      { namespace: { name: 'team-a', labels: {} }, secrets: [] },
      /^FAIL: namespace team-a does not ask for .*Pods use Secrets of their own namespace only/,
    ],
    [
      'refused by the access policy',
      {
        access: () =>
          accessRuleOf({ [ALLOWED_NAMESPACES_ANNOTATION]: 'team=b' }, parseDefaultAccess('*')),
        secrets: [],
      },
      /^FAIL: namespace team-a may not use the credentials/,
    ],
    [
      'outside the served namespaces',
      { settings: { ...settings, servedNamespaces: new Set(['team-b']) }, secrets: [] },
      /^FAIL: namespace team-a is not among the namespaces this eatr install serves/,
    ],
    [
      'no Secret yet, blocked by AWS',
      { secrets: [], blocked: new Map([[EU, 'denied']]) },
      /^FAIL: .*has no Secret .* yet: eatr recorded "denied"/,
    ],
    ['an expired token', { secrets: [secret(-H)] }, /^FAIL: .*holds a token that expired/],
    [
      'someone else\u2019s Secret of that name',
      { secrets: [secret(11 * H, { labels: {}, annotations: {}, type: 'Opaque' })] },
      /^FAIL: Secret team-a\/.* is not this eatr release's/,
    ],
    [
      'created before its ServiceAccount got the entry',
      pod({ imagePullSecrets: [] }),
      /^FAIL: .*created before ServiceAccount default got the entry/,
    ],
    [
      'a ServiceAccount eatr does not wire',
      {
        ...pod({ imagePullSecrets: [], serviceAccount: 'builder' }),
        serviceAccount: { imagePullSecrets: [] },
      },
      /^FAIL: the Pod runs as ServiceAccount builder, which eatr does not wire \(--service-accounts is default\)/,
    ],
    [
      'a wired ServiceAccount without the entry yet',
      { ...pod({ imagePullSecrets: [] }), serviceAccount: { imagePullSecrets: [] } },
      /^FAIL: ServiceAccount default does not list Secret/,
    ],
  ])('%s', (_name, over, expected) => {
    const lines = verdict(facts(over));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
  });

  it('adds the kubelet back-off, and says a delete pulls at once once credentials are in place', () => {
    const checks = explainPull(
      facts(
        pod({
          waiting: [
            {
              image: `${EU}/team/app:v1`,
              reason: 'ImagePullBackOff',
              message: 'Back-off pulling image',
            },
          ],
        }),
      ),
    );
    expect(checks.map((c) => c.ok)).toEqual([true, false]);
    expect(checks[1]?.fix).toContain('delete the Pod to pull at once');
  });

  it.each([
    [`${EU}/team/app:v1`, EU],
    ['public.ecr.aws/nginx/nginx:latest', 'public.ecr.aws'],
    ['nginx', undefined],
    ['library/nginx:1', undefined],
    ['localhost:5000/app', 'localhost:5000'],
  ])('imageHost(%s) = %s', (image, host) => {
    expect(imageHost(image)).toBe(host);
  });
});
