import { createHash, createHmac } from 'node:crypto';
import type { V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import {
  DOCKER_CONFIG_JSON_TYPE,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  PULL_SECRETS_LABEL,
  SERVICE_ACCOUNT_ANNOTATION,
  annotatedAccess,
  registryOfCredentialSecret,
  type AccessRule,
  type EatrError,
  type ObservedSecret,
  type ObservedServiceAccount,
} from '@eatr/core';
import { parseCredentialSecret, type CredentialSpec } from '../credentials/credential-secret.js';
import { asEatrError } from '../sync/eatr-error.js';

export { projectNamespace, type CachedNamespace } from '@eatr/core';

/**
 * What the renewer keeps of each watched object: the fields its decisions read, never whole objects
 * (managedFields alone are larger than all of this). Each carries name, namespace and resourceVersion.
 */
interface Meta {
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion: string;
}

export interface CachedSecret {
  readonly metadata: Meta;
  readonly observed: ObservedSecret;
}

export interface CachedServiceAccount {
  readonly metadata: Meta;
  readonly observed: ObservedServiceAccount;
}

/** A credential Secret, parsed once when it changes; the result (or the error) is what syncs read. */
export interface CachedCredentials {
  readonly metadata: Meta & { readonly uid: string };
  readonly registry: string | undefined;
  readonly parsed:
    | { readonly ok: true; readonly spec: CredentialSpec; readonly version: string }
    | { readonly ok: false; readonly error: EatrError; readonly version: string };
  /**
   * Other versions that mean these credentials, as earlier releases recorded them on Secrets:
   * `<uid>/<resourceVersion>` (before content digests) and the unkeyed digest (before keyed ones),
   * so an upgrade rewrites no Secret that is up to date.
   */
  readonly acceptedVersions: readonly string[];
  /**
   * Which namespaces may use these credentials, as the Secret's ALLOWED_NAMESPACES_ANNOTATION states
   * it (parsed here, once per version); undefined when it does not say.
   */
  readonly access: AccessRule | undefined;
}

function meta(raw: { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }) {
  return {
    name: raw.metadata?.name ?? '',
    namespace: raw.metadata?.namespace ?? '',
    resourceVersion: raw.metadata?.resourceVersion ?? '',
  };
}

/** The labels eatr reads on its Secrets; every other label is its owner's business. */
const SECRET_LABELS = [MANAGED_BY_LABEL, INSTANCE_LABEL];
/** eatr's annotations (`eatr.io/...`): the only ones a decision reads. */
const isEatrAnnotation = (key: string) => key.startsWith('eatr.io/');

/**
 * Only eatr's keys of a map anyone may write to: a tenant who labels a Secret of theirs as eatr's can
 * make the watch deliver it, but not make the renewer hold its content (up to 256 KiB of annotations
 * per object).
 */
function pick(
  map: Readonly<Record<string, string>> | undefined,
  keep: (key: string) => boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map ?? {})) if (keep(key)) out[key] = value;
  return out;
}

export function observeSecret(secret: V1Secret): ObservedSecret {
  return {
    name: secret.metadata?.name ?? '',
    type: secret.type,
    labels: pick(secret.metadata?.labels, (key) => SECRET_LABELS.includes(key)),
    annotations: pick(secret.metadata?.annotations, isEatrAnnotation),
  };
}

/** A whole Secret the renewer read or wrote, as the cache keeps it. */
export function projectSecret(raw: unknown): CachedSecret {
  const secret = raw as V1Secret;
  return { metadata: meta(secret), observed: observeSecret(secret) };
}

/**
 * A Secret from the renewer's watch, which asks for metadata only (no `data`, no `type`) and only
 * for one type (a field selector: `kubernetes.io/dockerconfigjson`, or Opaque for Argo CD's
 * repository credentials), so its type is known.
 */
export function projectWatchedSecret(
  raw: unknown,
  type: string = DOCKER_CONFIG_JSON_TYPE,
): CachedSecret {
  const secret = raw as V1Secret;
  return {
    metadata: meta(secret),
    observed: observeSecret({ ...secret, type }),
  };
}

export function observeServiceAccount(sa: V1ServiceAccount): ObservedServiceAccount {
  return {
    name: sa.metadata?.name ?? '',
    imagePullSecrets: (sa.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n !== ''),
    addedByEatr: (sa.metadata?.annotations?.[SERVICE_ACCOUNT_ANNOTATION] ?? '')
      .split(',')
      .filter((n) => n !== ''),
    pullSecretsLabel: sa.metadata?.labels?.[PULL_SECRETS_LABEL],
  };
}

export function projectServiceAccount(raw: unknown): CachedServiceAccount {
  const sa = raw as V1ServiceAccount;
  return { metadata: meta(sa), observed: observeServiceAccount(sa) };
}

/**
 * A digest of `content` under the install's key (`hmac:`), or unkeyed (`sha256:`) without one. The
 * version is on every Secret, readable by its namespace: keyed, nobody can test a guess of the keys
 * against it.
 */
function digest(content: string, key: Buffer | undefined): string {
  const hash = key
    ? createHmac('sha256', key).update(content)
    : createHash('sha256').update(content);
  return `${key ? 'hmac' : 'sha256'}:${hash.digest('hex').slice(0, 32)}`;
}

/**
 * A digest of a credential Secret's content: its version on the Secrets it produced. Metadata edits
 * (an annotation, a backup tool's label) leave it unchanged, so they rewrite nothing. Only a one-way
 * digest of high-entropy keys leaves the process, never the keys; keyed with `key` when given.
 */
export function credentialsVersion(spec: CredentialSpec, key?: Buffer): string {
  const content = JSON.stringify([
    spec.keys?.accessKeyId,
    spec.keys?.secretAccessKey,
    spec.keys?.sessionToken,
    spec.roleArn,
    spec.externalId,
    spec.email,
  ]);
  return digest(`eatr-credentials\u0000${content}`, key);
}

/** A digest of unusable content, so a fix (any edit of the data) reads as a change. */
function dataDigest(data: Readonly<Record<string, string>> | undefined, key?: Buffer): string {
  const sorted = Object.entries(data ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return `invalid:${digest(JSON.stringify(sorted), key)}`;
}

/** A credential Secret as the cache keeps it; versions keyed with the install's `digestKey`, if any. */
export function projectCredentials(raw: unknown, digestKey?: Buffer): CachedCredentials {
  const secret = raw as V1Secret;
  const name = secret.metadata?.name ?? '';
  const registry = registryOfCredentialSecret(name);
  const metadata = { ...meta(secret), uid: secret.metadata?.uid ?? '' };
  const legacyVersion = `${metadata.uid}/${metadata.resourceVersion}`;
  const access = annotatedAccess(secret.metadata?.annotations);
  const acceptedVersions = [legacyVersion];
  if (registry === undefined) {
    // Not a credential Secret: nothing of it is kept.
    return {
      metadata,
      registry,
      acceptedVersions,
      access: undefined,
      parsed: { ok: false, error: asEatrError('not a credential Secret', {}), version: '' },
    };
  }
  try {
    const spec = parseCredentialSecret(secret.data, { registry, secretName: name });
    return {
      metadata,
      registry,
      access,
      acceptedVersions: digestKey
        ? [...acceptedVersions, credentialsVersion(spec)]
        : acceptedVersions,
      parsed: { ok: true, spec, version: credentialsVersion(spec, digestKey) },
    };
  } catch (error) {
    return {
      metadata,
      registry,
      acceptedVersions,
      access,
      parsed: {
        ok: false,
        error: asEatrError(error, { registry }),
        version: dataDigest(secret.data, digestKey),
      },
    };
  }
}
