type Requirement =
  | { readonly op: 'exists' | 'notexists'; readonly key: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: ReadonlySet<string> };

/** A selector that cannot be parsed; the message names the part that is wrong. */
export class LabelSelectorError extends Error {}

// Qualified names as Kubernetes validates label keys and values.
const NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const KEY = new RegExp(
  `^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${NAME}$`,
);
const VALUE = new RegExp(`^(${NAME})?$`);

/** Whether `key` is a label key (or an annotation key: the same rule) as Kubernetes validates it. */
export function isLabelKey(key: string): boolean {
  return KEY.test(key) && key.length <= 253 + 1 + 63;
}

/** Whether `value` is a label value as Kubernetes validates it (empty included). */
export function isLabelValue(value: string): boolean {
  return VALUE.test(value);
}

function checkKey(key: string, selector: string): string {
  if (!isLabelKey(key))
    throw new LabelSelectorError(`"${key}" in selector "${selector}" is not a label key`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!isLabelValue(value))
    throw new LabelSelectorError(`"${value}" in selector "${selector}" is not a label value`);
  return value;
}

/** Splits on commas outside parentheses. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

function parseRequirement(part: string, selector: string): Requirement {
  if (part === '') throw new LabelSelectorError(`selector "${selector}" has an empty requirement`);
  const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = list.split(',').map((v) => checkValue(v.trim(), selector));
    return {
      op: op === 'in' ? 'in' : 'notin',
      key: checkKey(key, selector),
      values: new Set(values),
    };
  }
  const bare = /^(\S+)\s+(in|notin)\s+([^(].*)$/.exec(part);
  if (bare)
    throw new LabelSelectorError(
      `"${part}" in selector "${selector}": the values of "${bare[2] ?? 'in'}" go in parentheses, e.g. ${bare[1] ?? 'key'} ${bare[2] ?? 'in'} (${bare[3] ?? 'value'})`,
    );
  const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
  if (equality) {
    const [, key = '', op, value = ''] = equality;
    const values = new Set([checkValue(value, selector)]);
    return { op: op === '!=' ? 'notin' : 'in', key: checkKey(key, selector), values };
  }
  if (part.startsWith('!'))
    return { op: 'notexists', key: checkKey(part.slice(1).trim(), selector) };
  return { op: 'exists', key: checkKey(part, selector) };
}

function matchesRequirement(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const value = Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
  switch (r.op) {
    case 'exists':
      return value !== undefined;
    case 'notexists':
      return value === undefined;
    case 'in':
      return value !== undefined && r.values.has(value);
    case 'notin':
      return value === undefined || !r.values.has(value);
  }
}

/**
 * A Kubernetes label selector (`kubectl get -l` syntax), parsed once and matched against label maps.
 * Same grammar and meaning as apimachinery's `labels.Parse`: requirements joined by commas, each one
 * of `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (v1,v2)`, `key notin (v1,v2)`.
 * The empty selector matches everything; `!=` and `notin` match objects without the key too.
 */
export class LabelSelector {
  private constructor(
    /** The selector as written (trimmed), for messages. */
    readonly text: string,
    private readonly requirements: readonly Requirement[],
  ) {}

  /** Parses a selector; throws LabelSelectorError naming what is wrong. */
  static parse(text: string): LabelSelector {
    const trimmed = text.trim();
    const requirements =
      trimmed === '' ? [] : splitRequirements(trimmed).map((p) => parseRequirement(p, trimmed));
    return new LabelSelector(trimmed, requirements);
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    return this.requirements.every((r) => matchesRequirement(r, labels ?? {}));
  }
}

/** Parses a selector; throws LabelSelectorError naming what is wrong. */
export function parseLabelSelector(text: string): LabelSelector {
  return LabelSelector.parse(text);
}
