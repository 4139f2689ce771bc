import {
  ADOPT_ANNOTATION,
  CREDENTIALS_VERSION_ANNOTATION,
  EXPIRES_AT_ANNOTATION,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REGISTRY_ANNOTATION,
  RENEW_AFTER_ANNOTATION,
} from '../naming.js';
import { secretTypeOf, type SecretFormat } from './output-format.js';

/** What the decision needs to know about an existing Secret (metadata only, never its data). */
export interface ObservedSecret {
  readonly name: string;
  readonly type: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** One registry the namespace should have a Secret for. */
export interface DesiredSecret {
  readonly registry: string;
  readonly secretName: string;
  /** Identity of the credentials that would produce the token now (a digest of their content, or pod identity). */
  readonly credentialsVersion: string;
  /** Other recorded versions that mean the same credentials (what older eatr versions wrote). */
  readonly acceptedVersions?: readonly string[];
  /** What the Secret is for (its type follows); default `pull`. */
  readonly format?: SecretFormat;
}

export type SecretAction =
  /** No Secret of that name: create one. */
  | { readonly kind: 'create'; readonly registry: string; readonly secretName: string }
  /** eatr's Secret is due (or was marked for adoption): write a fresh token into it. */
  | {
      readonly kind: 'renew';
      readonly registry: string;
      readonly secretName: string;
      readonly reason: RenewReason;
    }
  /** eatr may take over the Secret but its type is wrong and immutable: delete and create it. */
  | { readonly kind: 'replace'; readonly registry: string; readonly secretName: string }
  /** eatr's Secret is fresh: nothing to write. */
  | { readonly kind: 'leave'; readonly registry: string; readonly secretName: string }
  /** A same-named Secret that eatr does not manage, or another eatr release does: never touched. */
  | {
      readonly kind: 'conflict';
      readonly registry: string;
      readonly secretName: string;
      readonly reason: string;
      /** The other eatr release's instance, when the Secret is one of its. */
      readonly owner?: string;
    }
  /** eatr's Secret for a registry the namespace no longer asks for. */
  | { readonly kind: 'delete'; readonly secretName: string; readonly registry: string | undefined };

export type RenewReason =
  | 'due'
  | 'expired'
  | 'no-expiry'
  | 'credentials-changed'
  | 'registry-changed'
  | 'adopted'
  | 'type-changed'
  | 'forced'
  /** eatr's Secret from 0.1.x (before instances): written once more to carry this instance's label. */
  | 'unstamped';

/** Whether any eatr release manages the Secret (its label; the instance is not looked at). */
export function isManaged(secret: Pick<ObservedSecret, 'labels'>): boolean {
  return secret.labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

/**
 * Whose a Secret is, seen from one eatr instance: `ours`; `unstamped`, eatr's from before instances,
 * treated as ours and stamped on the next write; `other-instance`, another eatr release's, never
 * touched (not even when annotated for adoption, or two releases would take it from each other on
 * every sync); `unmanaged`, a user's.
 */
export type Ownership = 'ours' | 'unstamped' | 'other-instance' | 'unmanaged';

export function ownershipOf(secret: Pick<ObservedSecret, 'labels'>, instance: string): Ownership {
  if (!isManaged(secret)) return 'unmanaged';
  const stamped = secret.labels[INSTANCE_LABEL];
  if (stamped === undefined) return 'unstamped';
  return stamped === instance ? 'ours' : 'other-instance';
}

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Why an eatr Secret needs a new token now, or undefined when it is fresh. Decided only from the
 * Secret's own annotations, so renewers holding different tokens agree and never fight.
 */
export function renewReason(
  secret: ObservedSecret,
  desired: DesiredSecret,
  now: number,
): RenewReason | undefined {
  const expiresAt = parseTime(secret.annotations[EXPIRES_AT_ANNOTATION]);
  const renewAfter = parseTime(secret.annotations[RENEW_AFTER_ANNOTATION]);
  if (expiresAt === undefined || renewAfter === undefined) return 'no-expiry';
  if (now >= expiresAt) return 'expired';
  if (now >= renewAfter) return 'due';
  if (secret.annotations[REGISTRY_ANNOTATION] !== desired.registry) return 'registry-changed';
  const recorded = secret.annotations[CREDENTIALS_VERSION_ANNOTATION];
  if (
    recorded !== desired.credentialsVersion &&
    !desired.acceptedVersions?.includes(recorded ?? '')
  )
    return 'credentials-changed';
  return undefined;
}

/**
 * Decides, for one namespace, what to do with each desired Secret and with each of this instance's
 * Secrets that is no longer desired. Pure: `observed` holds the managed Secrets of the namespace (of
 * every eatr instance) plus any Secret named like a desired one.
 */
export function decideSecrets(
  observed: readonly ObservedSecret[],
  desired: readonly DesiredSecret[],
  now: number,
  instance: string,
): SecretAction[] {
  const byName = new Map(observed.map((s) => [s.name, s]));
  const actions: SecretAction[] = [];
  for (const want of desired) {
    const { registry, secretName } = want;
    const secret = byName.get(secretName);
    if (!secret) {
      actions.push({ kind: 'create', registry, secretName });
      continue;
    }
    const owner = ownershipOf(secret, instance);
    if (owner === 'other-instance') {
      const other = secret.labels[INSTANCE_LABEL] ?? '';
      actions.push({
        kind: 'conflict',
        registry,
        secretName,
        reason: `a Secret with this name is managed by eatr instance "${other}"`,
        owner: other,
      });
      continue;
    }
    const ours = owner === 'ours' || owner === 'unstamped';
    const adoptable = secret.annotations[ADOPT_ANNOTATION] === 'true';
    if (!ours && !adoptable) {
      actions.push({
        kind: 'conflict',
        registry,
        secretName,
        reason: 'a Secret with this name exists and is not managed by eatr',
      });
      continue;
    }
    if (secret.type !== secretTypeOf(want.format)) {
      // A Secret's type is immutable: only a Secret eatr may take over can be replaced.
      actions.push({ kind: 'replace', registry, secretName });
      continue;
    }
    if (!ours) {
      actions.push({ kind: 'renew', registry, secretName, reason: 'adopted' });
      continue;
    }
    const reason =
      renewReason(secret, want, now) ?? (owner === 'unstamped' ? 'unstamped' : undefined);
    actions.push(
      reason
        ? { kind: 'renew', registry, secretName, reason }
        : { kind: 'leave', registry, secretName },
    );
  }
  const wanted = new Set(desired.map((d) => d.secretName));
  for (const secret of observed) {
    const owner = ownershipOf(secret, instance);
    if ((owner === 'ours' || owner === 'unstamped') && !wanted.has(secret.name)) {
      actions.push({
        kind: 'delete',
        secretName: secret.name,
        registry: secret.annotations[REGISTRY_ANNOTATION],
      });
    }
  }
  return actions;
}

/** An operator asked for fresh tokens now: every fresh Secret of eatr's is renewed too (pure). */
export function forceRenewal(actions: readonly SecretAction[]): SecretAction[] {
  return actions.map((a) =>
    a.kind === 'leave'
      ? { kind: 'renew', registry: a.registry, secretName: a.secretName, reason: 'forced' }
      : a,
  );
}

/** Whether any Secret of a namespace needs a write (used by the sweep to enqueue only what is due). */
export function needsSync(
  observed: readonly ObservedSecret[],
  desired: readonly DesiredSecret[],
  now: number,
  instance: string,
): boolean {
  return decideSecrets(observed, desired, now, instance).some(
    (a) => a.kind !== 'leave' && a.kind !== 'conflict',
  );
}

/**
 * When a token fetched at `fetchedAt` and valid until `expiresAt` should be replaced: after the renewal
 * interval, and never later than half its lifetime, so a short-lived token is still renewed in time.
 */
export function renewAfter(
  fetchedAt: number,
  expiresAt: number,
  renewalIntervalMs: number,
): number {
  return Math.min(
    fetchedAt + renewalIntervalMs,
    fetchedAt + Math.max(0, expiresAt - fetchedAt) / 2,
  );
}

/** Renewals of one token's Secrets spread over this share of the renewal interval after it. */
export const RENEWAL_SPREAD = 0.1;

/**
 * When one Secret written from a token should be renewed: `renewAfter` plus a share of
 * RENEWAL_SPREAD of the interval that is fixed per Secret (`spread` in [0, 1), from its name), so
 * Secrets written in one wave come due over a window instead of in one burst. The window starts when
 * the token itself is due, so the first Secret due fetches the next token and the rest reuse it: ECR
 * is still called once per interval. Never later than 55 % of the token's lifetime.
 */
export function spreadRenewAfter(
  fetchedAt: number,
  expiresAt: number,
  renewalIntervalMs: number,
  spread: number,
): number {
  const base = renewAfter(fetchedAt, expiresAt, renewalIntervalMs);
  const share = Math.min(Math.max(spread, 0), 1) * RENEWAL_SPREAD * (base - fetchedAt);
  return Math.min(base + share, fetchedAt + 0.55 * Math.max(0, expiresAt - fetchedAt));
}

/** A stable number in [0, 1) for a Secret (FNV-1a of `namespace/name`): its place in the window. */
export function renewalSpread(namespace: string, name: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${namespace}/${name}`) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}
