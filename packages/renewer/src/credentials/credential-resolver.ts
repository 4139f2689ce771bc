import {
  PermanentError,
  credentialSecretName,
  type AccessRule,
  type DefaultAccess,
  type EatrError,
  type TenantRole,
} from '@eatr/core';
import { roleCredentialsVersion } from '../tokens/role-sessions.js';
import type { ClusterCache } from '../cache/cluster-cache.js';
import type { CredentialSpec } from './credential-secret.js';

/** Credentials for one registry and the version that identifies them on the output Secret. */
export interface ResolvedCredentials {
  readonly spec: CredentialSpec;
  /** A digest of the credential Secret's content, or `pod-identity`. A change means: renew now. */
  readonly version: string;
  /** What older eatr versions recorded for the same credentials (`<uid>/<resourceVersion>`). */
  readonly acceptedVersions: readonly string[];
}

/**
 * Usable credentials, or why not. `state` names the input a failure depends on (missing, or a digest
 * of the unusable content), so a namespace blocked by it is synced again only when it changes.
 */
export type CredentialState =
  | { readonly ok: true; readonly value: ResolvedCredentials; readonly state: string }
  | { readonly ok: false; readonly error: EatrError; readonly state: string };

export const POD_IDENTITY_VERSION = 'pod-identity';

/**
 * Finds the credentials for a registry in the renewer's cache of the host namespace: the Secret
 * `eatr-aws-credentials-<registry>`, parsed when it changed, else (when enabled) the pod's own AWS
 * identity. No API request: a rotation reaches the cache through its watch.
 */
export class CredentialResolver {
  constructor(
    private readonly cache: ClusterCache,
    private readonly hostNamespace: string,
    private readonly usePodIdentity: boolean,
    private readonly defaultAccess: DefaultAccess,
  ) {}

  /**
   * Which namespaces may use the registry's credentials: the credential Secret's
   * eatr.io/allowed-namespaces, else the release's default (pod identity has no Secret to say).
   */
  access(registry: string): AccessRule {
    return this.cache.credentialsFor(registry)?.access ?? this.defaultAccess;
  }

  /** A tenant role the plan allowed: its session is proven per namespace when a token is needed. */
  resolveRole(role: TenantRole): CredentialState {
    const version = roleCredentialsVersion(role);
    return {
      ok: true,
      value: { spec: { keys: undefined, tenantRole: role }, version, acceptedVersions: [] },
      state: version,
    };
  }

  resolve(registry: string): CredentialState {
    const cached = this.cache.credentialsFor(registry);
    if (cached) {
      const { parsed } = cached;
      return parsed.ok
        ? {
            ok: true,
            value: {
              spec: parsed.spec,
              version: parsed.version,
              acceptedVersions: cached.acceptedVersions,
            },
            state: parsed.version,
          }
        : { ok: false, error: parsed.error.withContext({ registry }), state: parsed.version };
    }
    if (this.usePodIdentity)
      return {
        ok: true,
        value: { spec: { keys: undefined }, version: POD_IDENTITY_VERSION, acceptedVersions: [] },
        state: POD_IDENTITY_VERSION,
      };
    return {
      ok: false,
      error: new PermanentError(
        `no credential Secret ${this.hostNamespace}/${credentialSecretName(registry)} (and pod identity is off)`,
        'missing-credentials',
        { registry },
      ),
      state: 'missing',
    };
  }
}
