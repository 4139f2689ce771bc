import type { TenantRoleAllowlist } from '../access/tenant-role.js';
import { globalRegistriesOf } from '../decide/desired-registries.js';
import { argoCdPlanOf, type ArgoCdOutput } from './argocd-output.js';
import type { PlanSettings } from './namespace-plan.js';

/** The plan's settings, from the settings the watcher and the renewer share. */
export function planSettingsOf(config: {
  readonly instance: string;
  readonly globalRegistries: readonly string[];
  readonly includeNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
  readonly secretNameTemplate: string;
  readonly serviceAccounts: '*' | readonly string[];
  readonly maxRegistriesPerNamespace: number;
  readonly tenantRoles?: TenantRoleAllowlist;
  readonly servedNamespaces?: ReadonlySet<string> | undefined;
  readonly argoCd?: ArgoCdOutput;
}): PlanSettings {
  const argoCd = argoCdPlanOf(config.argoCd);
  return {
    instance: config.instance,
    global: globalRegistriesOf(config),
    secretNameTemplate: config.secretNameTemplate,
    serviceAccounts: config.serviceAccounts,
    maxRegistries: config.maxRegistriesPerNamespace,
    tenantRoles: config.tenantRoles ?? [],
    ...(config.servedNamespaces ? { servedNamespaces: config.servedNamespaces } : {}),
    ...(argoCd ? { argoCd } : {}),
  };
}
