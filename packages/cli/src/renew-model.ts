import { formatBlockedKey } from '@eatr/core';

/** A Secret as `eatr renew` compares it before and after: its version and its token's expiry. */
export interface SecretSnapshot {
  readonly resourceVersion: string | undefined;
  readonly expiresAt: string | undefined;
}

export type RenewResult = 'renewed' | 'created' | 'unchanged' | 'pending';

export interface RenewRow {
  readonly namespace: string;
  readonly registry: string;
  readonly secret: string;
  readonly result: RenewResult;
  /** Why not renewed: the blocked reason the renewer recorded, or that the sync did not finish. */
  readonly reason: string | undefined;
  readonly expiresBefore: string | undefined;
  readonly expiresAt: string | undefined;
}

export interface RenewTarget {
  readonly namespace: string;
  readonly registry: string;
  readonly secret: string;
}

/**
 * What a forced renewal changed, one row per Secret (pure): a new resourceVersion is a write; none
 * is explained by the blocked record, or by the sync not having finished.
 */
export function renewRows(
  targets: readonly RenewTarget[],
  before: ReadonlyMap<string, SecretSnapshot>,
  after: ReadonlyMap<string, SecretSnapshot>,
  blocked: ReadonlyMap<string, { readonly reason: string }>,
  unfinished: ReadonlySet<string>,
): RenewRow[] {
  return targets.map((t) => {
    const key = formatBlockedKey({
      namespace: t.namespace,
      subject: { kind: 'secret', name: t.secret },
    });
    const was = before.get(key);
    const now = after.get(key);
    const written =
      now?.resourceVersion !== undefined && now.resourceVersion !== was?.resourceVersion;
    const result: RenewResult = written
      ? was?.resourceVersion === undefined
        ? 'created'
        : 'renewed'
      : unfinished.has(t.namespace)
        ? 'pending'
        : 'unchanged';
    const reason =
      result === 'pending'
        ? 'the sync has not finished'
        : written
          ? undefined
          : (blocked.get(key)?.reason ?? undefined);
    return {
      ...t,
      result,
      reason,
      expiresBefore: was?.expiresAt,
      expiresAt: now?.expiresAt,
    };
  });
}

/** Every Secret written; otherwise the command exits 1. */
export function allRenewed(rows: readonly RenewRow[]): boolean {
  return rows.every((r) => r.result === 'renewed' || r.result === 'created');
}
