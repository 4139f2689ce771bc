import {
  LOCAL_REASONS,
  blockedFingerprint,
  serviceAccountFingerprint,
} from '../blocked/blocked-entry.js';
import type { BlockedEntry } from '../blocked/blocked-entry.js';
import { serviceAccountKey } from '../blocked/blocked-key.js';
import {
  desiredRegistries,
  type GlobalRegistries,
  type LabelNearMiss,
} from '../decide/desired-registries.js';
import {
  decideSecrets,
  forceRenewal,
  ownershipOf,
  type ObservedSecret,
  type SecretAction,
} from '../decide/secret-decision.js';
import {
  decideServiceAccounts,
  type ObservedServiceAccount,
  type ServiceAccountChange,
} from '../decide/service-account-decision.js';
import type { RegistryHost } from '../registry/registry-host.js';
import {
  SECRET_NAME_ANNOTATION,
  nameOutputSecrets,
  namespaceSecretNameTemplate,
  type NamedRegistry,
  type SecretNameCollision,
} from '../naming.js';
import { desiredSecretFor, type CredentialStatus } from './credential-status.js';
import { accessAllows, type AccessRule } from '../access/credential-access.js';
import { argoCdSecretName, type ArgoCdPlan } from './argocd-output.js';
import type { SecretFormat } from '../decide/output-format.js';
import {
  tenantRoleOf,
  type TenantRole,
  type TenantRoleAllowlist,
  type TenantRoleDecision,
} from '../access/tenant-role.js';

/**
 * How often a registry AWS refused is asked again through one of its namespaces when nothing else
 * changed. The registry's probe chain asks every minute (enqueueProbe); this only restarts a chain
 * that was lost (Redis flushed).
 */
export const AWS_RECHECK_MS = 10 * 60_000;

/** The settings that decide what a namespace needs (both components share them). */
export interface PlanSettings {
  /** This eatr release (the INSTANCE_LABEL on its Secrets): another release's Secrets are never touched. */
  readonly instance: string;
  readonly global: GlobalRegistries;
  readonly secretNameTemplate: string;
  /**
   * The ServiceAccounts eatr wires: `*` for all, or names (none: only those labelled
   * eatr.io/pull-secrets=true). A ServiceAccount's own label overrides it.
   */
  readonly serviceAccounts: '*' | readonly string[];
  /** The most registries one namespace is served (global ones first, then labels in host order). */
  readonly maxRegistries: number;
  /** The IAM roles namespaces may name (--tenant-roles); empty: tenant roles are off. */
  readonly tenantRoles: TenantRoleAllowlist;
  /**
   * The only namespaces this install serves (--served-namespaces; its RBAC grants Secrets there
   * alone); undefined: every namespace.
   */
  readonly servedNamespaces?: ReadonlySet<string> | undefined;
  /** Argo CD repository credentials to keep in Argo CD's namespace; undefined: none. */
  readonly argoCd?: ArgoCdPlan | undefined;
}

/** A wired ServiceAccount as observed, with the version a refusal of its change is tied to. */
export interface ViewedServiceAccount extends ObservedServiceAccount {
  readonly resourceVersion: string;
}

/** What the caller sees of one namespace. */
export interface NamespaceView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>> | undefined;
  /** eatr's annotations on the namespace (NAMESPACE_ANNOTATIONS); others may be left out. */
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly terminating: boolean;
  /**
   * eatr's Secrets in the namespace, plus any Secret named like a wanted one. Undefined when the
   * caller does not watch Secrets (the watcher): the plan then says nothing about Secret writes and
   * takes a wanted Secret to be served unless a blocked record says it is absent.
   */
  readonly secrets?: readonly ObservedSecret[];
  /** The ServiceAccounts the caller watches in the namespace (those eatr wires). */
  readonly serviceAccounts: readonly ViewedServiceAccount[];
}

export interface PlanInput<C extends CredentialStatus> {
  /** Undefined when the namespace does not exist. */
  readonly namespace: NamespaceView | undefined;
  readonly settings: PlanSettings;
  /** Each registry's credentials; absent when the caller cannot see them (the watcher). */
  readonly credentials?: (registryHost: string) => C;
  /**
   * Which namespaces may use each registry's credentials (accessRuleOf). Absent when the caller
   * cannot see the credential Secrets' annotations (the watcher): every registry is then planned.
   */
  readonly access?: (registryHost: string) => AccessRule;
  /**
   * The credentials of a tenant role the namespace may use (its registries' credential Secrets and
   * their access rules then do not apply). Absent when the caller cannot tell (the watcher, the CLI).
   */
  readonly roleCredentials?: (role: TenantRole) => C;
  /**
   * What is recorded as blocked in this namespace, by Secret name or serviceAccountKey(). With it,
   * work whose cause has not changed is held back instead of planned again.
   */
  readonly blocked?: ReadonlyMap<string, BlockedEntry>;
  /** Each Secret blocked by a foreign Secret of its name: that Secret's version now (`gone` if absent). */
  readonly foreignVersions?: ReadonlyMap<string, string>;
  readonly now: number;
  /** `renew`: fresh Secrets get a new token too (an operator asked). */
  readonly force?: 'renew' | 'retry';
}

/** A registry the namespace asked for and may not have, and the rule that says so. */
export interface RefusedRegistry {
  readonly registry: RegistryHost;
  readonly rule: AccessRule;
}

/** One registry the namespace needs a Secret for, with what that Secret should record. */
export interface PlannedSecret<C extends CredentialStatus> extends NamedRegistry {
  readonly credentials: C | undefined;
  /** A pull Secret (ServiceAccounts reference it) or Argo CD repository credentials. */
  readonly format: SecretFormat;
}

/** A write the plan holds back because the cause that blocked it has not changed. */
export interface HeldAction {
  readonly action: SecretAction;
  readonly entry: BlockedEntry;
  /** AWS refused it long enough ago (AWS_RECHECK_MS) that one namespace should ask again. */
  readonly awsRecheckDue: boolean;
}

export interface NamespacePlan<C extends CredentialStatus> {
  /** The namespace is gone or terminating: nothing to do, forget what was recorded about it. */
  readonly gone: boolean;
  /** Label keys that look like a registry host but are not one. */
  readonly ignoredLabels: readonly string[];
  /** Registry labels set to a yes that is not exactly `true` (`True`, `yes`): not served. */
  readonly nearMisses: readonly LabelNearMiss[];
  /** Registries asked for by label beyond PlanSettings.maxRegistries: not served. */
  readonly overCap: readonly RegistryHost[];
  /** Registries asked for whose credentials this namespace may not use: not served. */
  readonly refused: readonly RefusedRegistry[];
  /** The IAM role the namespace names (eatr.io/role-arn), and whether it may use it. */
  readonly role: TenantRoleDecision;
  /** Registries asked for and not served because the namespace's role is refused. */
  readonly roleRefused: readonly RegistryHost[];
  /**
   * Registries asked for in a namespace outside PlanSettings.servedNamespaces: eatr touches nothing
   * there (no Secret, no ServiceAccount entry) and reports it.
   */
  readonly notServed: readonly RegistryHost[];
  /** Registries left unserved because the name template gives them another registry's Secret name. */
  readonly collisions: readonly SecretNameCollision[];
  /**
   * Why the namespace's eatr.io/secret-name annotation is not used (the configured template is);
   * undefined when it has none or it is used.
   */
  readonly secretNameProblem: string | undefined;
  /** The Secrets the namespace needs, in registry host order. */
  readonly secrets: readonly PlannedSecret<C>[];
  /** What to do with each needed Secret and each of eatr's Secrets no longer needed. */
  readonly actions: readonly SecretAction[];
  /** The actions that need a write now (not `leave`, not `conflict`, not held by a block). */
  readonly work: readonly SecretAction[];
  /** Writes held back by an unchanged block (only when `blocked` was given). */
  readonly held: readonly HeldAction[];
  /** The Secret names wired ServiceAccounts should reference: needed and (expected to be) served. */
  readonly pullSecrets: readonly string[];
  /** The wired ServiceAccounts whose imagePullSecrets must change (refused changes left out). */
  readonly serviceAccounts: readonly ServiceAccountChange[];
  /** Secrets in the namespace that another eatr release manages: their ServiceAccount entries stay. */
  readonly otherInstances: ReadonlySet<string>;
}

const NOTHING: NamespacePlan<never> = {
  gone: true,
  ignoredLabels: [],
  nearMisses: [],
  overCap: [],
  refused: [],
  role: { kind: 'none' },
  roleRefused: [],
  notServed: [],
  collisions: [],
  secretNameProblem: undefined,
  secrets: [],
  actions: [],
  work: [],
  held: [],
  pullSecrets: [],
  serviceAccounts: [],
  otherInstances: new Set(),
};

/**
 * What one namespace needs from eatr and what to do about it: the single rule that the renewer's
 * sync and sweep, the watcher's event rules and `eatr doctor` all follow. Pure: from the namespace
 * as the caller sees it, the settings, the credentials, what is recorded as blocked and the clock.
 */
export function planNamespace<C extends CredentialStatus>(input: PlanInput<C>): NamespacePlan<C> {
  const { namespace: ns, settings, now } = input;
  if (ns === undefined || ns.terminating) return NOTHING;
  const asked = desiredRegistries(ns.name, ns.labels, settings.global, settings.maxRegistries);
  const { overCap, ignoredLabels, nearMisses } = asked;
  // Outside the served namespaces eatr has no right to Secrets (the chart's RBAC): hands off.
  if (settings.servedNamespaces && !settings.servedNamespaces.has(ns.name))
    return { ...NOTHING, gone: false, ignoredLabels, nearMisses, notServed: asked.registries };
  // A namespace that names a role is served through it alone (not by the shared credentials, whose
  // access rules then do not apply), or, when the role is refused, not at all.
  const role = tenantRoleOf(ns.name, ns.labels, ns.annotations, settings.tenantRoles);
  // A refused registry is planned as not wanted: a Secret eatr wrote before the policy changed goes.
  const refused: RefusedRegistry[] = [];
  const registries =
    role.kind === 'none'
      ? asked.registries.filter((registry) => {
          const rule = input.access?.(registry.host);
          if (rule === undefined || accessAllows(rule, ns.labels)) return true;
          refused.push({ registry, rule });
          return false;
        })
      : role.kind === 'allowed'
        ? asked.registries
        : [];
  const roleRefused = role.kind === 'refused' ? asked.registries : [];
  const credentialsOf = (host: string): C | undefined =>
    role.kind === 'allowed' ? input.roleCredentials?.(role.role) : input.credentials?.(host);
  // The namespace may name its Secrets itself (a fixed name other tools expect).
  const naming = namespaceSecretNameTemplate(
    ns.annotations?.[SECRET_NAME_ANNOTATION],
    settings.secretNameTemplate,
    registries,
  );
  const { named, collisions } = nameOutputSecrets(naming.template, registries);
  const repoCreds = argoCdOutputs(ns.name, settings.argoCd, named, collisions);
  const secrets: PlannedSecret<C>[] = [
    ...named.map((n) => ({
      ...n,
      credentials: credentialsOf(n.registry.host),
      format: 'pull' as const,
    })),
    // The operator configured these for Argo CD: the shared credentials serve them, whatever the
    // namespace's labels, role or the credentials' access rules say.
    ...repoCreds.map((n) => ({
      ...n,
      credentials: input.credentials?.(n.registry.host),
      format: 'argocd-repo-creds' as const,
    })),
  ];

  let actions: SecretAction[] = [];
  let pullSecrets: string[];
  const otherInstances = new Set(
    (ns.secrets ?? [])
      .filter((s) => ownershipOf(s, settings.instance) === 'other-instance')
      .map((s) => s.name),
  );
  if (ns.secrets === undefined) {
    // No view of the Secrets: served unless a record says the namespace has no usable one.
    pullSecrets = named
      .filter((n) => input.blocked?.get(n.secretName)?.present !== false)
      .map((n) => n.secretName);
  } else {
    const byName = new Map(ns.secrets.map((s) => [s.name, s]));
    const desired = secrets.map((s) => ({
      ...desiredSecretFor(s.registry.host, s.secretName, s.credentials, byName.get(s.secretName)),
      format: s.format,
    }));
    const decided = decideSecrets(ns.secrets, desired, now, settings.instance);
    actions = input.force === 'renew' ? forceRenewal(decided) : decided;
    const conflicts = new Set(
      actions.filter((a) => a.kind === 'conflict').map((a) => a.secretName),
    );
    pullSecrets = named
      .map((n) => n.secretName)
      .filter((name) => byName.has(name) && !conflicts.has(name));
  }

  const work: SecretAction[] = [];
  const held: HeldAction[] = [];
  for (const action of actions) {
    if (action.kind === 'leave' || action.kind === 'conflict') continue;
    const entry = action.kind === 'delete' ? undefined : input.blocked?.get(action.secretName);
    if (entry === undefined || !stillBlocked(entry, action.secretName, secrets, input)) {
      work.push(action);
      continue;
    }
    const awsRecheckDue =
      !LOCAL_REASONS.has(entry.reason) && now - (entry.checkedAt ?? entry.since) >= AWS_RECHECK_MS;
    held.push({ action, entry, awsRecheckDue });
  }

  return {
    gone: false,
    ignoredLabels,
    nearMisses,
    overCap,
    refused,
    role,
    roleRefused,
    notServed: [],
    collisions,
    secretNameProblem: naming.problem,
    secrets,
    actions,
    work,
    held,
    pullSecrets,
    serviceAccounts: planServiceAccounts(ns.serviceAccounts, {
      targets: settings.serviceAccounts,
      pullSecrets,
      otherInstances,
      ...(input.blocked ? { blocked: input.blocked } : {}),
    }),
    otherInstances,
  };
}

/**
 * The Argo CD repository credentials Secrets a namespace needs: in Argo CD's namespace, one per
 * configured registry. A name a pull Secret already has stays the pull Secret's (a collision).
 */
function argoCdOutputs(
  namespace: string,
  argoCd: ArgoCdPlan | undefined,
  named: readonly NamedRegistry[],
  collisions: SecretNameCollision[],
): NamedRegistry[] {
  if (argoCd?.namespace !== namespace) return [];
  const taken = new Map(named.map((n) => [n.secretName, n.registry.host]));
  const outputs: NamedRegistry[] = [];
  for (const registry of argoCd.registries) {
    const secretName = argoCdSecretName(registry);
    const heldBy = taken.get(secretName);
    if (heldBy === undefined) outputs.push({ registry, secretName });
    else collisions.push({ registry, secretName, heldBy });
  }
  return outputs;
}

/** A block holds while the inputs it was recorded with are what the plan sees now. */
function stillBlocked<C extends CredentialStatus>(
  entry: BlockedEntry,
  secretName: string,
  secrets: readonly PlannedSecret<C>[],
  input: PlanInput<C>,
): boolean {
  const state = secrets.find((s) => s.secretName === secretName)?.credentials?.state ?? '';
  const foreignVersion =
    entry.reason === 'conflict' ? (input.foreignVersions?.get(secretName) ?? 'gone') : undefined;
  return entry.fingerprint === blockedFingerprint(entry.registry, state, foreignVersion);
}

/**
 * The ServiceAccount changes that make the wired ones reference exactly `pullSecrets` (of what eatr
 * added). A change the API server refused is left out while the ServiceAccount and the wanted
 * entries are what they were.
 */
export function planServiceAccounts(
  accounts: readonly ViewedServiceAccount[],
  want: {
    readonly targets: '*' | readonly string[];
    readonly pullSecrets: readonly string[];
    /** Secrets of other eatr releases in the namespace (NamespacePlan.otherInstances). */
    readonly otherInstances: ReadonlySet<string>;
    readonly blocked?: ReadonlyMap<string, BlockedEntry>;
  },
): ServiceAccountChange[] {
  const { targets, pullSecrets, otherInstances, blocked } = want;
  return decideServiceAccounts(accounts, targets, pullSecrets, otherInstances).filter((change) => {
    const entry = blocked?.get(serviceAccountKey(change.name));
    const sa = accounts.find((a) => a.name === change.name);
    return (
      entry?.fingerprint !==
      serviceAccountFingerprint(sa?.resourceVersion ?? '', change.imagePullSecrets)
    );
  });
}

/**
 * One Secret decided again from a fresh read (after a write lost a race), by the same rule as the
 * whole plan: `planned` is what the namespace needs for that name (undefined: nothing, so only a
 * delete of eatr's Secret can follow). Undefined when nothing is left to do.
 */
export function planSecret<C extends CredentialStatus>(
  observed: ObservedSecret | undefined,
  planned: PlannedSecret<C> | undefined,
  secretName: string,
  now: number,
  instance: string,
): SecretAction | undefined {
  const desired = planned
    ? [
        {
          ...desiredSecretFor(planned.registry.host, secretName, planned.credentials, observed),
          format: planned.format,
        },
      ]
    : [];
  return decideSecrets(observed ? [observed] : [], desired, now, instance).find(
    (a) => a.secretName === secretName,
  );
}
