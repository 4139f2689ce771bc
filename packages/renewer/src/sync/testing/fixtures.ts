import type { V1Secret } from '@kubernetes/client-node';
import {
  CREDENTIALS_VERSION_ANNOTATION,
  parseDefaultAccess,
  DOCKER_CONFIG_JSON_TYPE,
  EXPIRES_AT_ANNOTATION,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REGISTRY_ANNOTATION,
  RENEW_AFTER_ANNOTATION,
} from '@eatr/core';
import type { SyncSettings } from '../ports.js';

export const EU = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
export const US = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
export const NOW = Date.parse('2026-06-01T12:00:00Z');
export const H = 3_600_000;

/** The chart's defaults: labels only, Secrets named after the registry, the default ServiceAccount. */
export const settings: SyncSettings = {
  instance: 'eatr',
  maxRegistriesPerNamespace: 20,
  defaultAccess: parseDefaultAccess('*'),
  tenantRoles: [],
  servedNamespaces: undefined,
  secretLabels: {},
  secretAnnotations: {},
  recoverStuckPods: false,
  argoCd: { namespace: 'argocd', registries: [] },
  globalRegistries: [],
  includeNamespaces: [],
  excludeNamespaces: [],
  secretNameTemplate: '{{registry}}',
  serviceAccounts: ['default'],
  renewalIntervalMs: 6 * H,
  dockerEmail: undefined,
};

/** eatr's Secret for `registry` as a renewer wrote it `age` ago from credentials `version`. */
export const written = (registry: string, { age = H, version = 'v1' } = {}): V1Secret => ({
  metadata: {
    name: registry,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: 'eatr' },
    annotations: {
      [REGISTRY_ANNOTATION]: registry,
      [EXPIRES_AT_ANNOTATION]: new Date(NOW - age + 12 * H).toISOString(),
      [RENEW_AFTER_ANNOTATION]: new Date(NOW - age + 6 * H).toISOString(),
      [CREDENTIALS_VERSION_ANNOTATION]: version,
    },
  },
  type: DOCKER_CONFIG_JSON_TYPE,
  data: {},
});
