import { isDeepStrictEqual } from 'node:util';
import { isObject } from './support.js';

/** The part of JSON Schema (draft-07) that values.schema.json uses to describe the values' shape. */
export interface JsonSchema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly default?: unknown;
  readonly definitions?: Readonly<Record<string, JsonSchema>>;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The types a node allows (through oneOf/anyOf), or undefined when any type goes. */
function allowedTypes(
  node: JsonSchema,
  resolve: (n: JsonSchema) => JsonSchema,
): string[] | undefined {
  if (node.type !== undefined) return typeof node.type === 'string' ? [node.type] : [...node.type];
  const branches = node.oneOf ?? node.anyOf;
  if (branches === undefined) return undefined;
  const types: string[] = [];
  for (const branch of branches) {
    const inner = allowedTypes(resolve(branch), resolve);
    if (inner === undefined) return undefined;
    types.push(...inner);
  }
  return types;
}

function typeAllowed(value: unknown, types: readonly string[]): boolean {
  const type = jsonType(value);
  return types.includes(type) || (type === 'integer' && types.includes('number'));
}

/**
 * Where values.yaml and values.schema.json disagree, one line each (empty when they agree):
 *
 * - a value in values.yaml with no schema entry, unless the object holding it is free-form: a schema
 *   `{"type": "object"}` with no `properties` (e.g. a securityContext passed through), or one whose
 *   `additionalProperties` is `true` or a schema (then each entry is checked against it);
 * - a schema property that values.yaml leaves out, unless its JSON pointer is in `optional` (and then
 *   it must have no `default`, which values.yaml would contradict by omission);
 * - a schema `default` that differs from the values.yaml value, or a values.yaml value of a type the
 *   schema does not allow.
 *
 * List items are checked against `items`, but a list's example items need not set every property.
 * An `optional` pointer that nothing needed is reported too, so the list cannot go stale.
 */
export function schemaDisagreements(
  values: unknown,
  schema: JsonSchema,
  optional: ReadonlySet<string> = new Set(),
): string[] {
  const problems: string[] = [];
  const optionalUsed = new Set<string>();

  /** Follows `$ref`s (only `#/definitions/<name>`); returns the node and the pointer it lives at. */
  const locate = (node: JsonSchema, pointer: string): { node: JsonSchema; pointer: string } => {
    let current = { node, pointer };
    for (let hops = 0; current.node.$ref !== undefined; hops++) {
      const ref = current.node.$ref;
      const name = /^#\/definitions\/([^/]+)$/.exec(ref)?.[1];
      const target = name === undefined ? undefined : schema.definitions?.[name];
      if (target === undefined || hops > 20) throw new Error(`unresolvable $ref ${ref}`);
      current = { node: target, pointer: ref };
    }
    return current;
  };
  const resolve = (node: JsonSchema): JsonSchema => locate(node, '').node;

  const walk = (
    value: unknown,
    raw: JsonSchema,
    rawPointer: string,
    path: string,
    inItem: boolean,
  ) => {
    const located = locate(raw, rawPointer);
    const pointer = located.pointer;
    let node = located.node;
    const name = path === '' ? '(root)' : path;
    if ('default' in node && !isDeepStrictEqual(node.default, value))
      problems.push(
        `${name}: schema default ${JSON.stringify(node.default)}, values.yaml ${JSON.stringify(value)}`,
      );
    const types = allowedTypes(node, resolve);
    if (types !== undefined && !typeAllowed(value, types)) {
      problems.push(
        `${name}: values.yaml has ${jsonType(value)}, schema (${pointer}) allows ${types.join(', ')}`,
      );
      return;
    }
    // A oneOf/anyOf node: descend into the first branch that takes this type of value.
    const branches = node.oneOf ?? node.anyOf;
    if (branches !== undefined && node.properties === undefined && node.items === undefined) {
      const branch = branches.find((b) => {
        const t = allowedTypes(resolve(b), resolve);
        return t === undefined || typeAllowed(value, t);
      });
      if (branch !== undefined) node = resolve(branch);
    }
    const child = (key: string) => (path === '' ? key : `${path}.${key}`);

    if (Array.isArray(value)) {
      if (node.items !== undefined)
        value.forEach((item, index) => {
          walk(item, node.items ?? {}, `${pointer}/items`, `${path}[${index}]`, true);
        });
      return;
    }
    if (!isObject(value)) return;

    const properties = node.properties;
    const extra = node.additionalProperties;
    for (const [key, inner] of Object.entries(value)) {
      const entry = properties?.[key];
      if (entry !== undefined)
        walk(inner, entry, `${pointer}/properties/${key}`, child(key), inItem);
      else if (typeof extra === 'object')
        walk(inner, extra, `${pointer}/additionalProperties`, child(key), inItem);
      else if (extra === true || (properties === undefined && extra === undefined)) continue;
      else
        problems.push(
          `${child(key)}: in values.yaml but not in the schema (${pointer} lists its properties${extra === false ? ' and allows no others' : ' but does not say others may be added'})`,
        );
    }
    if (inItem || properties === undefined) return;
    for (const [key, entry] of Object.entries(properties)) {
      if (key in value) continue;
      const at = `${pointer}/properties/${key}`;
      if (!optional.has(at))
        problems.push(`${child(key)}: in the schema (${at}) but not in values.yaml`);
      else {
        optionalUsed.add(at);
        if ('default' in resolve(entry))
          problems.push(
            `${child(key)}: optional, but the schema gives it a default values.yaml lacks`,
          );
      }
    }
  };

  walk(values, schema, '#', '', false);
  for (const at of optional)
    if (!optionalUsed.has(at))
      problems.push(`optional ${at}: no value leaves it out; drop it from the list`);
  return problems;
}
