import { credentialSecretName } from '../naming.js';
import { LabelSelectorError, parseLabelSelector, type LabelSelector } from './label-selector.js';

/**
 * On a credential Secret: a label selector over namespaces that may use these credentials. Without
 * it, the release's default (`--default-allowed-namespaces`) applies.
 */
export const ALLOWED_NAMESPACES_ANNOTATION = 'eatr.io/allowed-namespaces';

/** `--default-allowed-namespaces` values besides a label selector. */
export const ALL_NAMESPACES = '*';
export const NO_NAMESPACES = 'none';

/** Which namespaces may use one registry's credentials, and where that was said. */
export interface AccessRule {
  /** Undefined: no namespace (deny by default, or an annotation eatr cannot parse). */
  readonly selector: LabelSelector | undefined;
  /** `annotation`: the credential Secret's; `default`: the release's setting. */
  readonly source: 'annotation' | 'default';
  /** Why nothing is allowed when the annotation cannot be parsed. */
  readonly error?: string;
}

/** What the release allows where a credential Secret says nothing. */
export type DefaultAccess = AccessRule & { readonly source: 'default' };

/** Parses `--default-allowed-namespaces`: `*`, `none` or a label selector (throws LabelSelectorError). */
export function parseDefaultAccess(text: string): DefaultAccess {
  const trimmed = text.trim();
  if (trimmed === ALL_NAMESPACES) return { selector: parseLabelSelector(''), source: 'default' };
  if (trimmed === NO_NAMESPACES) return { selector: undefined, source: 'default' };
  return { selector: parseLabelSelector(trimmed), source: 'default' };
}

/** The `--default-allowed-namespaces` value a parsed default came from (`*`, `none` or the selector). */
export function defaultAccessText(access: DefaultAccess): string {
  if (access.selector === undefined) return NO_NAMESPACES;
  return access.selector.text === '' ? ALL_NAMESPACES : access.selector.text;
}

/**
 * The rule a credential Secret's annotations state, parsed once per version of the Secret; undefined
 * when they state none (the release's default applies). An annotation that does not parse allows
 * nothing: a typo must not open the credentials to every namespace.
 */
export function annotatedAccess(
  annotations: Readonly<Record<string, string>> | undefined,
): AccessRule | undefined {
  const text = annotations?.[ALLOWED_NAMESPACES_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    return { selector: parseLabelSelector(text), source: 'annotation' };
  } catch (error) {
    if (!(error instanceof LabelSelectorError)) throw error;
    return { selector: undefined, source: 'annotation', error: error.message };
  }
}

/**
 * The rule of one credential Secret: its annotation's (annotatedAccess), else the release's default
 * (also with no Secret at all, as with pod identity).
 */
export function accessRuleOf(
  annotations: Readonly<Record<string, string>> | undefined,
  fallback: DefaultAccess,
): AccessRule {
  return annotatedAccess(annotations) ?? fallback;
}

/** Whether a namespace (by its labels; the API server adds `kubernetes.io/metadata.name`) may use the credentials. */
export function accessAllows(
  rule: AccessRule,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return rule.selector?.matches(labels) ?? false;
}

/** The rule in words, for Events, `eatr status` and `eatr doctor`. */
export function describeAccessRule(rule: AccessRule, registryHost: string): string {
  if (rule.source === 'default')
    return rule.selector === undefined
      ? `the release allows no namespace by default (--default-allowed-namespaces=none) and Secret ${credentialSecretName(registryHost)} has no ${ALLOWED_NAMESPACES_ANNOTATION} annotation`
      : rule.selector.text === ''
        ? `the release's default --default-allowed-namespaces=${ALL_NAMESPACES} (every namespace)`
        : `the release's default --default-allowed-namespaces="${rule.selector.text}"`;
  return rule.error !== undefined
    ? `the ${ALLOWED_NAMESPACES_ANNOTATION} annotation of Secret ${credentialSecretName(registryHost)} cannot be parsed (${rule.error}), so it allows no namespace`
    : `${ALLOWED_NAMESPACES_ANNOTATION}="${rule.selector?.text ?? ''}" on Secret ${credentialSecretName(registryHost)}`;
}
