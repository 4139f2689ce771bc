import { createHash } from 'node:crypto';
import { ALL_NAMESPACES, NO_NAMESPACES, type DefaultAccess } from '@eatr/core';
import type { SyncSettings } from '../sync/ports.js';

const defaultAccessText = (access: DefaultAccess): string =>
  access.selector === undefined
    ? NO_NAMESPACES
    : access.selector.text === ''
      ? ALL_NAMESPACES
      : access.selector.text;

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
    // Only when set, so a release that leaves it at its default keeps the fingerprint of 0.2.0
    // renewers without it (a rollout is then not a change of settings).
    ...(defaultAccessText(settings.defaultAccess) === ALL_NAMESPACES
      ? []
      : [defaultAccessText(settings.defaultAccess)]),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
