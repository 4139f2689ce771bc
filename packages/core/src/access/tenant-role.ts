import { LabelSelectorError, parseLabelSelector, type LabelSelector } from './label-selector.js';

/**
 * On a Namespace: the IAM role its ECR tokens come from, instead of the registries' credential
 * Secrets. Used only where the admin's allowlist (--tenant-roles) permits it.
 */
export const ROLE_ARN_ANNOTATION = 'eatr.io/role-arn';
/** On a Namespace: the ServiceAccount whose token eatr exchanges for the role (default `default`). */
export const ROLE_SERVICE_ACCOUNT_ANNOTATION = 'eatr.io/role-service-account';
export const DEFAULT_ROLE_SERVICE_ACCOUNT = 'default';
/** The audience of the ServiceAccount tokens eatr requests: what IAM expects of an OIDC provider. */
export const STS_AUDIENCE = 'sts.amazonaws.com';

const PARTITION = '(aws|aws-cn|aws-us-gov|aws-eusc)';
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:role/[\\w+=,.@\\-/]{1,512}$`);

/** Whether `text` is an IAM role ARN (any partition); a namespace's role and a credential Secret's. */
export function isRoleArn(text: string): boolean {
  return ROLE_ARN.test(text);
}
// A pattern: the same shape, with * (any run) and ? (one character) in the account and the name.
const ROLE_ARN_PATTERN = new RegExp(
  `^arn:${PARTITION}:iam::[\\d*?]{1,12}:role/[\\w+=,.@\\-/*?]{1,512}$`,
);
// A DNS-1123 subdomain, as Kubernetes validates ServiceAccount names.
const SERVICE_ACCOUNT =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** An allowlist that cannot be parsed; the message names the entry and the part that is wrong. */
export class TenantRolesError extends Error {}

/** One allowlist entry: namespaces matching `namespaces` may use roles matching `roleArns`. */
export interface TenantRoleRule {
  readonly namespaces: LabelSelector;
  readonly roleArns: readonly string[];
  /** The ServiceAccounts whose tokens eatr may request for those roles. */
  readonly serviceAccounts: readonly string[];
}

/** The admin's allowlist (--tenant-roles); empty: tenant roles are off. */
export type TenantRoleAllowlist = readonly TenantRoleRule[];

/** A role a namespace may use, with the ServiceAccount that proves it is that namespace. */
export interface TenantRole {
  readonly roleArn: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** What a namespace's role annotations come to. */
export type TenantRoleDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'allowed'; readonly role: TenantRole }
  | {
      readonly kind: 'refused';
      readonly roleArn: string;
      readonly serviceAccount: string;
      /** `malformed`: the annotations; `not-allowed`: no allowlist entry permits them. */
      readonly reason: 'malformed' | 'not-allowed';
      readonly message: string;
    };

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const patternCache = new Map<string, RegExp>();
function arnMatches(pattern: string, arn: string): boolean {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    re = globToRegExp(pattern);
    patternCache.set(pattern, re);
  }
  return re.test(arn);
}

/**
 * Parses --tenant-roles: a JSON list of `{"namespaces": "<label selector>", "roleArns": ["<ARN
 * pattern>"], "serviceAccounts": ["<name>"]}` (serviceAccounts defaults to `["default"]`). Throws
 * TenantRolesError naming the first entry and part that is wrong.
 */
export function parseTenantRoles(text: string): TenantRoleAllowlist {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch (error) {
    throw new TenantRolesError(`is not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new TenantRolesError('must be a JSON list of rules');
  return raw.map((entry: unknown, i): TenantRoleRule => {
    const where = `rule ${i + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new TenantRolesError(`${where} is not an object`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e))
      if (!['namespaces', 'roleArns', 'serviceAccounts'].includes(key))
        throw new TenantRolesError(`${where} has an unknown key "${key}"`);
    if (typeof e.namespaces !== 'string')
      throw new TenantRolesError(`${where} needs "namespaces", a label selector over namespaces`);
    let namespaces: LabelSelector;
    try {
      namespaces = parseLabelSelector(e.namespaces);
    } catch (error) {
      if (error instanceof LabelSelectorError)
        throw new TenantRolesError(`${where}: ${error.message}`);
      throw error;
    }
    const strings = (key: string): string[] | undefined => {
      const v = e[key];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string'))
        throw new TenantRolesError(`${where}: "${key}" must be a non-empty list of strings`);
      return v;
    };
    const roleArns = strings('roleArns');
    if (roleArns === undefined)
      throw new TenantRolesError(`${where} needs "roleArns", a list of IAM role ARN patterns`);
    for (const p of roleArns)
      if (!ROLE_ARN_PATTERN.test(p))
        throw new TenantRolesError(
          `${where}: "${p}" is not an IAM role ARN pattern (arn:aws:iam::<account>:role/<name>, * and ? allowed)`,
        );
    const serviceAccounts = strings('serviceAccounts') ?? [DEFAULT_ROLE_SERVICE_ACCOUNT];
    for (const s of serviceAccounts)
      if (!SERVICE_ACCOUNT.test(s))
        throw new TenantRolesError(`${where}: "${s}" is not a ServiceAccount name`);
    return { namespaces, roleArns, serviceAccounts };
  });
}

/** The allowlist as --tenant-roles takes it (for fingerprints and the CLI). */
export function tenantRolesText(allowlist: TenantRoleAllowlist): string {
  return allowlist.length === 0
    ? ''
    : JSON.stringify(
        allowlist.map((r) => ({
          namespaces: r.namespaces.text,
          roleArns: r.roleArns,
          serviceAccounts: r.serviceAccounts,
        })),
      );
}

/**
 * The role a namespace's annotations ask for, judged against the allowlist (pure). A namespace
 * that names a role is served only through it: a malformed or unpermitted one refuses the namespace
 * every registry rather than falling back to shared credentials it did not ask for.
 */
export function tenantRoleOf(
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
  annotations: Readonly<Record<string, string>> | undefined,
  allowlist: TenantRoleAllowlist,
): TenantRoleDecision {
  const roleArn = annotations?.[ROLE_ARN_ANNOTATION]?.trim();
  if (roleArn === undefined) return { kind: 'none' };
  const serviceAccount =
    annotations?.[ROLE_SERVICE_ACCOUNT_ANNOTATION]?.trim() || DEFAULT_ROLE_SERVICE_ACCOUNT;
  const refuse = (reason: 'malformed' | 'not-allowed', message: string): TenantRoleDecision => ({
    kind: 'refused',
    roleArn,
    serviceAccount,
    reason,
    message,
  });
  if (!isRoleArn(roleArn))
    return refuse(
      'malformed',
      `${ROLE_ARN_ANNOTATION}=${quoted(roleArn)} is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)`,
    );
  if (!SERVICE_ACCOUNT.test(serviceAccount))
    return refuse(
      'malformed',
      `${ROLE_SERVICE_ACCOUNT_ANNOTATION}=${quoted(serviceAccount)} is not a ServiceAccount name`,
    );
  if (allowlist.length === 0)
    return refuse(
      'not-allowed',
      `this eatr release allows no tenant roles (--tenant-roles is empty), so ${ROLE_ARN_ANNOTATION} cannot be used`,
    );
  const permitted = allowlist.some(
    (rule) =>
      rule.namespaces.matches(labels) &&
      rule.serviceAccounts.includes(serviceAccount) &&
      rule.roleArns.some((p) => arnMatches(p, roleArn)),
  );
  if (!permitted)
    return refuse(
      'not-allowed',
      `no --tenant-roles rule lets namespace ${namespace} use role ${roleArn} through ServiceAccount ${serviceAccount}`,
    );
  return { kind: 'allowed', role: { roleArn, namespace, serviceAccount } };
}

/**
 * The longest role annotation value kept: an IAM role ARN has at most 2,048 characters. A tenant may
 * write up to 256 KiB; a longer value is cut (and so refused as malformed), so it cannot grow the
 * caches of every component or the Events that quote it.
 */
export const MAX_ROLE_ANNOTATION_LENGTH = 2048;

/** A tenant's value as quoted in messages: at most 120 characters. */
const quoted = (value: string) => `"${value.length > 120 ? `${value.slice(0, 120)}…` : value}"`;
