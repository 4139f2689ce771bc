import { describe, expect, it } from 'vitest';
import { parseDefaultAccess, parseTenantRoles, type TenantRoleAllowlist } from '@eatr/core';
import { settingsFingerprint } from './settings-fingerprint.js';

const base = {
  globalRegistries: ['1.dkr.ecr.eu-west-1.amazonaws.com', '2.dkr.ecr.us-east-1.amazonaws.com'],
  includeNamespaces: ['team-*'],
  excludeNamespaces: ['kube-system'],
  secretNameTemplate: '{{registry}}',
  serviceAccounts: ['default'] as readonly string[] | '*',
  dockerEmail: 'none',
  instance: 'eatr',
  maxRegistriesPerNamespace: 20,
  defaultAccess: parseDefaultAccess('*'),
  tenantRoles: [] as TenantRoleAllowlist,
  servedNamespaces: undefined,
  secretLabels: {} as Readonly<Record<string, string>>,
  secretAnnotations: {} as Readonly<Record<string, string>>,
  argoCd: { namespace: 'argocd', registries: [] as readonly string[] },
  recoverStuckPods: false,
};

describe('settingsFingerprint', () => {
  it.each([
    ['the Secret name template', { secretNameTemplate: 'ecr-{{region}}' }],
    ['the global registry list', { globalRegistries: ['1.dkr.ecr.eu-west-1.amazonaws.com'] }],
    ['include', { includeNamespaces: ['*'] }],
    ['exclude', { excludeNamespaces: [] }],
    ['the ServiceAccount list', { serviceAccounts: '*' as const }],
    ['the e-mail written into Secrets', { dockerEmail: 'ops@example.com' }],
    ['the instance stamped on Secrets', { instance: 'eatr-b' }],
    ['the registry cap', { maxRegistriesPerNamespace: 5 }],
    ['deny by default', { defaultAccess: parseDefaultAccess('none') }],
    ['a default selector', { defaultAccess: parseDefaultAccess('team=a') }],
    ['extra labels on Secrets', { secretLabels: { team: 'a' } }],
    ['extra annotations on Secrets', { secretAnnotations: { 'example.com/x': 'y' } }],
    [
      'Argo CD repository credentials',
      { argoCd: { namespace: 'argocd', registries: ['1.dkr.ecr.eu-west-1.amazonaws.com'] } },
    ],
    [
      'a tenant role allowlist',
      {
        tenantRoles: parseTenantRoles(
          '[{"namespaces":"a=b","roleArns":["arn:aws:iam::*:role/x"]}]',
        ),
      },
    ],
  ])('changes with %s (renewers would undo each other)', (_name, change) => {
    expect(settingsFingerprint({ ...base, ...change })).not.toBe(settingsFingerprint(base));
  });

  it('leaves out stuck-Pod recovery: a renewer that recovers Pods undoes nothing of one that does not', () => {
    expect(settingsFingerprint({ ...base, recoverStuckPods: true })).toBe(
      settingsFingerprint(base),
    );
  });

  it('leaves out the served namespaces: a renewer with a list never undoes one without', () => {
    expect(settingsFingerprint({ ...base, servedNamespaces: new Set(['team-a']) })).toBe(
      settingsFingerprint(base),
    );
  });

  it("leaves out Argo CD's namespace while no registry is configured for it (as 0.2.x renewers)", () => {
    expect(settingsFingerprint({ ...base, argoCd: { namespace: 'gitops', registries: [] } })).toBe(
      settingsFingerprint(base),
    );
  });

  it('ignores the order of lists', () => {
    expect(
      settingsFingerprint({
        ...base,
        globalRegistries: [...base.globalRegistries].reverse(),
        serviceAccounts: ['builder', 'default'],
      }),
    ).toBe(settingsFingerprint({ ...base, serviceAccounts: ['default', 'builder'] }));
  });

  it('is a short hex digest, not the settings', () => {
    expect(settingsFingerprint(base)).toMatch(/^[0-9a-f]{16}$/);
  });
});
