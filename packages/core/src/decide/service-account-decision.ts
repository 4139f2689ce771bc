import { PULL_SECRETS_LABEL } from '../naming.js';

/** What the decision needs to know about a ServiceAccount. */
export interface ObservedServiceAccount {
  readonly name: string;
  readonly imagePullSecrets: readonly string[];
  /** Entries eatr added earlier (from its annotation); only these may be removed. */
  readonly addedByEatr: readonly string[];
  /** Its PULL_SECRETS_LABEL value, if any: `true` opts it in, `false` out, anything else is ignored. */
  readonly pullSecretsLabel?: string | undefined;
}

/** Whether eatr wires a ServiceAccount: its own label decides, else the configured list (pure). */
export function isWired(
  sa: Pick<ObservedServiceAccount, 'name' | 'pullSecretsLabel'>,
  targets: '*' | readonly string[],
): boolean {
  if (sa.pullSecretsLabel === 'true') return true;
  if (sa.pullSecretsLabel === 'false') return false;
  return targets === '*' || targets.includes(sa.name);
}

/** A PULL_SECRETS_LABEL value that is neither `true` nor `false` (ignored, and worth a Warning). */
export function isMalformedPullSecretsLabel(value: string | undefined): value is string {
  return value !== undefined && value !== 'true' && value !== 'false';
}

export interface ServiceAccountChange {
  readonly name: string;
  readonly imagePullSecrets: readonly string[];
  readonly addedByEatr: readonly string[];
}

/**
 * Which ServiceAccounts change, and how. `targets` is the configured list or `*` for all (a
 * ServiceAccount's own PULL_SECRETS_LABEL overrides it);
 * `pullSecrets` the eatr Secret names the namespace should use; `otherInstances` the names of Secrets
 * in the namespace that another eatr release manages: their entries are that release's to remove
 * (one annotation records what every release added, so 0.1.x renewers read it too). Appends,
 * never replaces, and removes only entries eatr added that are no longer wanted.
 */
export function decideServiceAccounts(
  observed: readonly ObservedServiceAccount[],
  targets: '*' | readonly string[],
  pullSecrets: readonly string[],
  otherInstances: ReadonlySet<string> = new Set(),
): ServiceAccountChange[] {
  const changes: ServiceAccountChange[] = [];
  for (const sa of observed) {
    const wanted = isWired(sa, targets) ? pullSecrets : [];
    const stale = new Set(
      sa.addedByEatr.filter((name) => !wanted.includes(name) && !otherInstances.has(name)),
    );
    const kept = sa.imagePullSecrets.filter((name) => !stale.has(name));
    const missing = wanted.filter((name) => !kept.includes(name));
    const imagePullSecrets = [...kept, ...missing];
    // eatr owns what it added before and still wants, plus what it adds now; an entry a user put there
    // first stays the user's and survives opt-out.
    const addedByEatr = [...sa.addedByEatr.filter((n) => !stale.has(n)), ...missing];
    const same =
      imagePullSecrets.length === sa.imagePullSecrets.length &&
      imagePullSecrets.every((n, i) => n === sa.imagePullSecrets[i]) &&
      addedByEatr.length === sa.addedByEatr.length &&
      addedByEatr.every((n, i) => n === sa.addedByEatr[i]);
    if (!same) changes.push({ name: sa.name, imagePullSecrets, addedByEatr });
  }
  return changes;
}

/** Configured ServiceAccounts that do not exist (yet): a new namespace gets its `default` a moment later. */
export function missingServiceAccounts(
  observed: readonly ObservedServiceAccount[],
  targets: '*' | readonly string[],
): string[] {
  if (targets === '*') return [];
  const present = new Set(observed.map((sa) => sa.name));
  return targets.filter((name) => !present.has(name));
}

/** A list/watch selector over ServiceAccounts. */
export interface ServiceAccountSelector {
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
}

/**
 * The ServiceAccount watches that see every one eatr may wire (pure; the watcher and the renewer
 * both follow it): all of them for `*` or several names; else the one name (a field selector) and
 * those labelled PULL_SECRETS_LABEL (a label selector), so the API server filters the rest.
 */
export function serviceAccountSelectors(
  targets: '*' | readonly string[],
): ServiceAccountSelector[] {
  if (targets === '*' || targets.length > 1) return [{}];
  const [only] = targets;
  return [
    ...(only === undefined ? [] : [{ fieldSelector: `metadata.name=${only}` }]),
    { labelSelector: PULL_SECRETS_LABEL },
  ];
}
