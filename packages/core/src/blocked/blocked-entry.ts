/**
 * Why one (namespace, Secret) cannot be served, and the inputs that decision depended on. A sweep
 * skips the pair while `fingerprint` still matches what it would compute now: a namespace blocked by
 * missing or denied credentials or a foreign Secret costs nothing until one of those changes.
 */
export interface BlockedEntry {
  /** The inputs: registry, credential state and, for a conflict, the foreign Secret's version. */
  readonly fingerprint: string;
  /** The error reason, e.g. `missing-credentials`, `access-denied`, `conflict`. */
  readonly reason: string;
  readonly registry: string;
  /** When it was first recorded with this fingerprint (ms since the epoch). */
  readonly since: number;
  /** When a sync last found it still blocked (ms since the epoch); AWS causes are re-checked from it. */
  readonly checkedAt?: number;
  /** For a conflict: the foreign Secret's resourceVersion when it was seen. */
  readonly foreignVersion?: string;
  /**
   * Whether the namespace still has a usable Secret of eatr's by that name (a fresh one whose
   * credentials broke since): its ServiceAccounts keep referencing it. Absent in records written
   * before this field existed, which readers treat as present (the older, cautious reading).
   */
  readonly present?: boolean;
}

/** Reasons that the API server or the cluster's own objects decide; others (AWS) can change outside. */
export const LOCAL_REASONS: ReadonlySet<string> = new Set([
  'missing-credentials',
  'malformed-credentials',
  'conflict',
]);

/** The inputs a blocked pair depends on (pure). */
export function blockedFingerprint(
  registry: string,
  credentialState: string,
  foreignVersion?: string,
): string {
  return JSON.stringify([registry, credentialState, foreignVersion ?? null]);
}

/** What a refused ServiceAccount change depended on: its version and the entries wanted (pure). */
export function serviceAccountFingerprint(
  resourceVersion: string,
  imagePullSecrets: readonly string[],
): string {
  return JSON.stringify([resourceVersion, imagePullSecrets]);
}
