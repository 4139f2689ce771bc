import { createHash } from 'node:crypto';
import { ALL_NAMESPACES, defaultAccessText, tenantRolesText } from '@eatr/core';
import type { SyncSettings } from '../sync/ports.js';

/**
 * The settings that decide what a renewer writes, deletes and patches, as a short digest (pure):
 * two renewers with different fingerprints would undo each other's work. Lists are compared as sets;
 * the renewal interval is left out (renewing earlier or later undoes nothing), and so are the served
 * namespaces (a renewer with a list leaves the namespaces outside it alone: it deletes nothing there).
 */
export function settingsFingerprint(settings: Omit<SyncSettings, 'renewalIntervalMs'>): string {
  const sorted = (list: readonly string[]) => [...list].sort();
  const allowed = defaultAccessText(settings.defaultAccess);
  const roles = tenantRolesText(settings.tenantRoles);
  const canonical = JSON.stringify([
    settings.instance,
    sorted(settings.globalRegistries),
    sorted(settings.includeNamespaces),
    sorted(settings.excludeNamespaces),
    settings.secretNameTemplate,
    settings.serviceAccounts === '*' ? '*' : sorted(settings.serviceAccounts),
    settings.dockerEmail,
    settings.maxRegistriesPerNamespace,
    // Only when set, so a release that leaves it at its default keeps the fingerprint of 0.2.0
    // renewers without it (a rollout is then not a change of settings).
    ...(allowed === ALL_NAMESPACES ? [] : [allowed]),
    ...(roles === '' ? [] : [roles]),
    ...(Object.keys(settings.secretLabels).length +
      Object.keys(settings.secretAnnotations).length ===
    0
      ? []
      : [sortedEntries(settings.secretLabels), sortedEntries(settings.secretAnnotations)]),
    ...(settings.argoCd.registries.length === 0
      ? []
      : [['argocd', settings.argoCd.namespace, sorted(settings.argoCd.registries)]]),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

const sortedEntries = (record: Readonly<Record<string, string>>) =>
  Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
