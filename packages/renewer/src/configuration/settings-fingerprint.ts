import { createHash } from 'node:crypto';
import type { SyncSettings } from '../sync/ports.js';

/**
 * The settings that decide what a renewer writes, deletes and patches, as a short digest (pure):
 * two renewers with different fingerprints would undo each other's work. Lists are compared as sets;
 * the renewal interval is left out (renewing earlier or later undoes nothing).
 */
export function settingsFingerprint(settings: Omit<SyncSettings, 'renewalIntervalMs'>): string {
  const sorted = (list: readonly string[]) => [...list].sort();
  const canonical = JSON.stringify([
    settings.instance,
    sorted(settings.globalRegistries),
    sorted(settings.includeNamespaces),
    sorted(settings.excludeNamespaces),
    settings.secretNameTemplate,
    settings.serviceAccounts === '*' ? '*' : sorted(settings.serviceAccounts),
    settings.dockerEmail,
    settings.maxRegistriesPerNamespace,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
