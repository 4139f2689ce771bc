import {
  EXPIRES_AT_ANNOTATION,
  RENEW_AFTER_ANNOTATION,
  describeAccessRule,
  formatBlockedKey,
  isWired,
  planNamespace,
  type AccessRule,
  type ArgoCdPlan,
  type TenantRoleAllowlist,
  type GlobalRegistries,
  type ObservedSecret,
} from '@eatr/core';

/** What `eatr status` says about one (namespace, registry). */
export const SECRET_STATES = [
  'fresh',
  'due',
  'expiring',
  'expired',
  'missing',
  'conflict',
  'blocked',
  'refused',
  'ignored',
] as const;
export type SecretState = (typeof SECRET_STATES)[number];

/** A due Secret whose token has less than this left is `expiring`: its renewal is late. */
export const EXPIRING_WITHIN_MS = 3_600_000;

export interface NamespaceInput {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Its eatr.io/role-* annotations (others may be left out). */
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface SecretInput extends ObservedSecret {
  readonly namespace: string;
  /** When the Secret was last written (its newest managedFields time), ms since the epoch. */
  readonly writtenAt: number | undefined;
}

export interface ServiceAccountInput {
  readonly namespace: string;
  readonly name: string;
  readonly imagePullSecrets: readonly string[];
  /** Its eatr.io/pull-secrets label (opts it in or out of the list's rule). */
  readonly pullSecretsLabel?: string | undefined;
}

/** Why eatr could not serve a pair, as the renewers recorded it (the blocked hash in Redis). */
export interface BlockedInput {
  readonly reason: string;
  readonly since: number;
}

export interface StatusInput {
  readonly namespaces: readonly NamespaceInput[];
  readonly secrets: readonly SecretInput[];
  readonly serviceAccounts: readonly ServiceAccountInput[];
  /** By `namespace/secretName`; undefined when Redis could not be read. */
  readonly blocked: ReadonlyMap<string, BlockedInput> | undefined;
  readonly global: GlobalRegistries;
  readonly secretNameTemplate: string;
  /** The components' --instance: another release's Secrets show as conflicts. */
  readonly instance: string;
  /** The components' --max-registries-per-namespace. */
  readonly maxRegistries: number;
  /** The components' --service-accounts. */
  readonly wantedServiceAccounts: '*' | readonly string[];
  /** The components' --tenant-roles (empty: off). */
  readonly tenantRoles?: TenantRoleAllowlist;
  /** --served-namespaces: the only namespaces served; undefined: every namespace. */
  readonly servedNamespaces?: ReadonlySet<string> | undefined;
  /** --argocd-registries and --argocd-namespace (undefined: off). */
  readonly argoCd?: ArgoCdPlan | undefined;
  /**
   * Which namespaces may use each registry's credentials (their Secret's annotation, else the
   * components' --default-allowed-namespaces); undefined when the credential Secrets could not be read.
   */
  readonly access?: (registryHost: string) => AccessRule;
  /** Where each registry's tokens come from (`<namespace>/<Secret>`, `pod identity`, `none`). */
  readonly credentialSource?: (registryHost: string) => string;
  readonly now: number;
}

export interface StatusRow {
  readonly namespace: string;
  readonly registry: string;
  readonly secret: string;
  /** What the operator sees; `blocked` hides the Secret's own state, kept in `secretState`. */
  readonly state: SecretState;
  readonly secretState: SecretState;
  /** Why: the blocked reason, the conflict, or why the Secret is due. */
  readonly reason: string | undefined;
  readonly expiresAt: string | undefined;
  readonly renewAfter: string | undefined;
  readonly lastRenewal: string | undefined;
  readonly serviceAccounts: { readonly wired: number; readonly wanted: number };
  /** Where the registry's tokens come from (never a secret value); undefined when unknown. */
  readonly credentials: string | undefined;
}

export interface StatusSummary {
  readonly secrets: number;
  readonly namespaces: number;
  readonly byState: Readonly<Partial<Record<SecretState, number>>>;
  /** Any Secret expired or missing: the exit code is 1. */
  readonly unhealthy: boolean;
}

const time = (value: string | undefined): number | undefined => {
  const ms = value === undefined ? Number.NaN : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * One row per (opted-in namespace, registry), decided with the renewer's own plan
 * (planNamespace), so the CLI and the renewer never disagree about what "due" means. Pure.
 */
export function statusRows(input: StatusInput): StatusRow[] {
  const rows: StatusRow[] = [];
  const secretsByNs = group(input.secrets, (s) => s.namespace);
  const accountsByNs = group(input.serviceAccounts, (s) => s.namespace);
  const namespaces = [...input.namespaces].sort((a, b) => a.name.localeCompare(b.name));
  for (const ns of namespaces) {
    const secrets = secretsByNs.get(ns.name) ?? [];
    const byName = new Map(secrets.map((s) => [s.name, s]));
    // The CLI cannot see the credentials' digest (only the renewer reads their content): without
    // credentials the plan takes the recorded version as current, so only time decides here.
    const {
      secrets: planned,
      actions,
      collisions,
      refused,
      role,
      roleRefused,
      notServed,
      nearMisses,
    } = planNamespace({
      namespace: {
        name: ns.name,
        labels: ns.labels,
        annotations: ns.annotations,
        terminating: false,
        secrets,
        serviceAccounts: [],
      },
      settings: {
        instance: input.instance,
        maxRegistries: input.maxRegistries,
        global: input.global,
        secretNameTemplate: input.secretNameTemplate,
        serviceAccounts: input.wantedServiceAccounts,
        tenantRoles: input.tenantRoles ?? [],
        servedNamespaces: input.servedNamespaces,
        argoCd: input.argoCd,
      },
      ...(input.access ? { access: input.access } : {}),
      now: input.now,
    });
    if (
      planned.length === 0 &&
      refused.length === 0 &&
      roleRefused.length === 0 &&
      notServed.length === 0 &&
      nearMisses.length === 0
    )
      continue;
    // A namespace's own role replaces the registries' credential Secrets.
    const credentialsOf = (registry: string) =>
      role.kind === 'allowed'
        ? `role ${role.role.roleArn} (ServiceAccount ${role.role.serviceAccount})`
        : input.credentialSource?.(registry);
    const accounts = accountsByNs.get(ns.name) ?? [];
    const wanted = accounts.filter((a) => isWired(a, input.wantedServiceAccounts));
    // Argo CD reads its repository credentials by label: no ServiceAccount references them.
    const repoCreds = new Set(planned.filter((p) => p.format !== 'pull').map((p) => p.secretName));
    for (const action of actions) {
      if (action.kind === 'delete') continue;
      const secret = byName.get(action.secretName);
      const expiresAt = secret?.annotations[EXPIRES_AT_ANNOTATION];
      let secretState: SecretState;
      let reason: string | undefined;
      switch (action.kind) {
        case 'create':
          secretState = 'missing';
          break;
        case 'conflict':
          secretState = 'conflict';
          reason = action.reason;
          break;
        case 'replace':
          secretState = 'due';
          reason = 'type-changed';
          break;
        case 'leave':
          secretState = 'fresh';
          break;
        case 'renew': {
          const left = (time(expiresAt) ?? 0) - input.now;
          secretState =
            action.reason === 'expired'
              ? 'expired'
              : action.reason === 'due' && left < EXPIRING_WITHIN_MS
                ? 'expiring'
                : 'due';
          reason = action.reason;
          break;
        }
      }
      const blocked = input.blocked?.get(
        formatBlockedKey({
          namespace: ns.name,
          subject: { kind: 'secret', name: action.secretName },
        }),
      );
      rows.push({
        namespace: ns.name,
        registry: action.registry,
        secret: action.secretName,
        state: blocked && secretState !== 'conflict' ? 'blocked' : secretState,
        secretState,
        reason: blocked ? blocked.reason : reason,
        expiresAt,
        renewAfter: secret?.annotations[RENEW_AFTER_ANNOTATION],
        lastRenewal:
          secret?.writtenAt === undefined ? undefined : new Date(secret.writtenAt).toISOString(),
        serviceAccounts: repoCreds.has(action.secretName)
          ? { wired: 0, wanted: 0 }
          : {
              wired: wanted.filter((a) => a.imagePullSecrets.includes(action.secretName)).length,
              wanted: wanted.length,
            },
        // Someone else's Secret was not issued from eatr's credentials.
        credentials: secretState === 'conflict' ? undefined : credentialsOf(action.registry),
      });
    }
    // Registries the namespace asks for and gets no Secret for, by decision (not a failure).
    const unserved = (
      registry: string,
      state: 'refused' | 'ignored',
      reason: string | undefined,
      credentials: string | undefined,
      wantedAccounts = wanted.length,
    ) =>
      rows.push({
        namespace: ns.name,
        registry,
        secret: '-',
        state,
        secretState: state,
        reason,
        expiresAt: undefined,
        renewAfter: undefined,
        lastRenewal: undefined,
        serviceAccounts: { wired: 0, wanted: wantedAccounts },
        credentials,
      });
    for (const r of refused)
      unserved(
        r.registry.host,
        'refused',
        `not allowed by ${describeAccessRule(r.rule, r.registry.host)}`,
        input.credentialSource?.(r.registry.host),
      );
    for (const registry of roleRefused)
      unserved(
        registry.host,
        'refused',
        role.kind === 'refused' ? role.message : undefined,
        role.kind === 'refused' ? `role ${role.roleArn} (refused)` : undefined,
      );
    for (const { registry, value } of nearMisses)
      unserved(
        registry.host,
        'ignored',
        `label value ${JSON.stringify(value)} is not "true", so eatr ignores it: kubectl label namespace ${ns.name} ${registry.host}=true --overwrite`,
        undefined,
        0,
      );
    for (const registry of notServed)
      unserved(
        registry.host,
        'refused',
        'not among the served namespaces (config.servedNamespaces)',
        undefined,
        0,
      );
    for (const c of collisions) {
      rows.push({
        namespace: ns.name,
        registry: c.registry.host,
        secret: c.secretName,
        state: 'conflict',
        secretState: 'conflict',
        reason: `the Secret name is already used for ${c.heldBy} (--secret-name-template)`,
        expiresAt: undefined,
        renewAfter: undefined,
        lastRenewal: undefined,
        serviceAccounts: { wired: 0, wanted: wanted.length },
        credentials: undefined,
      });
    }
  }
  return rows;
}

export function summarize(rows: readonly StatusRow[]): StatusSummary {
  const byState: Partial<Record<SecretState, number>> = {};
  for (const row of rows) byState[row.state] = (byState[row.state] ?? 0) + 1;
  return {
    secrets: rows.length,
    namespaces: new Set(rows.map((r) => r.namespace)).size,
    byState,
    unhealthy: rows.some((r) => r.secretState === 'expired' || r.secretState === 'missing'),
  };
}

function group<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
