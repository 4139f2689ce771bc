import type { DesiredSecret, ObservedSecret } from '../decide/secret-decision.js';
import { CREDENTIALS_VERSION_ANNOTATION } from '../naming.js';

/**
 * What a plan needs to know of one registry's credentials: usable (with the version that identifies
 * them on an output Secret), or not. `state` names the input a failure depends on (missing, or a
 * digest of unusable content), so a namespace blocked by it is planned again only when it changes.
 * The renewer's resolved credentials carry more (the keys, the error) and fit this shape.
 */
export type CredentialStatus =
  | {
      readonly ok: true;
      readonly value: {
        /** A digest of the credential Secret's content, or `pod-identity`. */
        readonly version: string;
        /** What older eatr versions recorded for the same credentials. */
        readonly acceptedVersions: readonly string[];
      };
      readonly state: string;
    }
  | { readonly ok: false; readonly state: string };

/**
 * What one registry's Secret should record. With unusable credentials the version the existing
 * Secret records is kept: credentials eatr cannot read must not make a fresh Secret look due, or
 * every sync would try to renew it and fail. With unknown credentials (`undefined`: the caller cannot
 * read them, as the CLI) any recorded version is taken as current, so only time decides.
 */
export function desiredSecretFor(
  registry: string,
  secretName: string,
  credentials: CredentialStatus | undefined,
  existing: ObservedSecret | undefined,
): DesiredSecret {
  if (credentials === undefined) {
    const recorded = existing?.annotations[CREDENTIALS_VERSION_ANNOTATION] ?? '';
    return { registry, secretName, credentialsVersion: recorded, acceptedVersions: [recorded] };
  }
  return credentials.ok
    ? {
        registry,
        secretName,
        credentialsVersion: credentials.value.version,
        acceptedVersions: credentials.value.acceptedVersions,
      }
    : {
        registry,
        secretName,
        credentialsVersion: existing?.annotations[CREDENTIALS_VERSION_ANNOTATION] ?? 'unavailable',
      };
}
