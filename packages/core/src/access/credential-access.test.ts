import { describe, expect, it } from 'vitest';
import {
  ALLOWED_NAMESPACES_ANNOTATION,
  accessAllows,
  accessRuleOf,
  defaultAccessText,
  describeAccessRule,
  parseDefaultAccess,
} from './credential-access.js';
import { LabelSelectorError } from './label-selector.js';

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const labels = (name: string, extra: Record<string, string> = {}) => ({
  'kubernetes.io/metadata.name': name,
  ...extra,
});
const ALL = parseDefaultAccess('*');
const NONE = parseDefaultAccess('none');

describe('credential access', () => {
  it.each<[string, Record<string, string> | undefined, typeof ALL, boolean, boolean]>([
    // case, credential Secret annotations, release default, allows team-a (team=a), allows team-b
    ['no annotation, default every namespace (0.1.x behaviour)', undefined, ALL, true, true],
    ['no annotation, deny by default', undefined, NONE, false, false],
    ['no annotation, default selector', undefined, parseDefaultAccess('team=a'), true, false],
    [
      'annotation wins over deny by default',
      { [ALLOWED_NAMESPACES_ANNOTATION]: 'team in (a)' },
      NONE,
      true,
      false,
    ],
    [
      'annotation wins over allow by default',
      { [ALLOWED_NAMESPACES_ANNOTATION]: 'kubernetes.io/metadata.name=team-b' },
      ALL,
      false,
      true,
    ],
    [
      'an empty annotation allows every namespace',
      { [ALLOWED_NAMESPACES_ANNOTATION]: '' },
      NONE,
      true,
      true,
    ],
    [
      'a malformed annotation allows none',
      { [ALLOWED_NAMESPACES_ANNOTATION]: 'team in a' },
      ALL,
      false,
      false,
    ],
  ])('%s', (_case, annotations, fallback, a, b) => {
    const rule = accessRuleOf(annotations, fallback);
    expect(accessAllows(rule, labels('team-a', { team: 'a' }))).toBe(a);
    expect(accessAllows(rule, labels('team-b', { team: 'b' }))).toBe(b);
  });

  it('says which rule refused, and how to change it', () => {
    expect(describeAccessRule(NONE, REGISTRY)).toBe(
      `the release allows no namespace by default (--default-allowed-namespaces=none) and Secret eatr-aws-credentials-${REGISTRY} has no eatr.io/allowed-namespaces annotation`,
    );
    expect(describeAccessRule(ALL, REGISTRY)).toBe(
      `the release's default --default-allowed-namespaces=* (every namespace)`,
    );
    expect(describeAccessRule(parseDefaultAccess('team=a'), REGISTRY)).toBe(
      `the release's default --default-allowed-namespaces="team=a"`,
    );
    expect(
      describeAccessRule(
        accessRuleOf({ [ALLOWED_NAMESPACES_ANNOTATION]: 'team=a' }, ALL),
        REGISTRY,
      ),
    ).toBe(`eatr.io/allowed-namespaces="team=a" on Secret eatr-aws-credentials-${REGISTRY}`);
    expect(
      describeAccessRule(
        accessRuleOf({ [ALLOWED_NAMESPACES_ANNOTATION]: 'team=' + 'x'.repeat(70) }, ALL),
        REGISTRY,
      ),
    ).toMatch(
      /annotation of Secret .* cannot be parsed \(.*is not a label value\), so it allows no namespace$/,
    );
  });

  it.each(['*', 'none', 'team in (a,b)'])('gives back the default %j it parsed', (text) => {
    expect(defaultAccessText(parseDefaultAccess(text))).toBe(text);
  });

  it('refuses a default that is not a selector, naming it', () => {
    expect(() => parseDefaultAccess('team in a')).toThrow(LabelSelectorError);
  });
});
