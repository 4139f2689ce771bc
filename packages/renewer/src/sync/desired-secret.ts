import type { DesiredSecret } from '@eatr/core';
import type { CredentialState } from '../credentials/credential-resolver.js';

/**
 * What one registry's Secret should record (pure; the sync and the sweep decide from it). With
 * unusable credentials the version it already records is kept: unknown credentials must not make a
 * fresh Secret look due.
 */
export function desiredSecret(
  registry: string,
  secretName: string,
  credentials: CredentialState | undefined,
  recordedVersion: string | undefined,
): DesiredSecret {
  return credentials?.ok
    ? {
        registry,
        secretName,
        credentialsVersion: credentials.value.version,
        acceptedVersions: credentials.value.acceptedVersions,
      }
    : { registry, secretName, credentialsVersion: recordedVersion ?? 'unavailable' };
}
