import type { V1ServiceAccount } from '@kubernetes/client-node';
import { PULL_SECRETS_LABEL, SERVICE_ACCOUNT_ANNOTATION } from '@eatr/core';

/** A wired ServiceAccount as the watcher keeps it: its pull Secret names. */
export interface WatchedServiceAccount {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion: string;
  };
  readonly pullSecrets: readonly string[];
  /** The entries eatr recorded as its own (its annotation). */
  readonly addedByEatr: readonly string[];
  /** Its eatr.io/pull-secrets label, if any (opts it in or out). */
  readonly pullSecretsLabel?: string | undefined;
}

export function projectServiceAccount(raw: unknown): WatchedServiceAccount {
  const sa = raw as V1ServiceAccount;
  return {
    metadata: {
      name: sa.metadata?.name ?? '',
      namespace: sa.metadata?.namespace ?? '',
      resourceVersion: sa.metadata?.resourceVersion ?? '',
    },
    pullSecrets: (sa.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n !== ''),
    addedByEatr: (sa.metadata?.annotations?.[SERVICE_ACCOUNT_ANNOTATION] ?? '')
      .split(',')
      .filter((n) => n !== ''),
    pullSecretsLabel: sa.metadata?.labels?.[PULL_SECRETS_LABEL],
  };
}
