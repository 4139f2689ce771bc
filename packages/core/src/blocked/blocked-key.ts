/**
 * What a blocked record is about: one output Secret, or one ServiceAccount whose imagePullSecrets the
 * API server refused to change. Both live in one Redis hash under `namespace/subject`, where a
 * ServiceAccount's subject carries the prefix `serviceaccount:` (a Secret name cannot contain ':').
 */
export type BlockedSubject =
  | { readonly kind: 'secret'; readonly name: string }
  | { readonly kind: 'serviceaccount'; readonly name: string };

export interface BlockedKey {
  readonly namespace: string;
  readonly subject: BlockedSubject;
}

const SERVICE_ACCOUNT_PREFIX = 'serviceaccount:';

/** The subject's part of the key: a Secret's name, or `serviceaccount:<name>`. */
export function formatBlockedSubject(subject: BlockedSubject): string {
  return subject.kind === 'secret' ? subject.name : `${SERVICE_ACCOUNT_PREFIX}${subject.name}`;
}

export function parseBlockedSubject(text: string): BlockedSubject {
  return text.startsWith(SERVICE_ACCOUNT_PREFIX)
    ? { kind: 'serviceaccount', name: text.slice(SERVICE_ACCOUNT_PREFIX.length) }
    : { kind: 'secret', name: text };
}

/** The subject key of a ServiceAccount's record (what the per-namespace maps are keyed by). */
export function serviceAccountKey(name: string): string {
  return formatBlockedSubject({ kind: 'serviceaccount', name });
}

/** `namespace/subject`, the Redis hash field. */
export function formatBlockedKey(key: BlockedKey): string {
  return `${key.namespace}/${formatBlockedSubject(key.subject)}`;
}

/** The key of a hash field, or undefined for a field that is not one (written by something else). */
export function parseBlockedKey(field: string): BlockedKey | undefined {
  const slash = field.indexOf('/');
  if (slash <= 0 || slash === field.length - 1) return undefined;
  return {
    namespace: field.slice(0, slash),
    subject: parseBlockedSubject(field.slice(slash + 1)),
  };
}
