import { describe, expect, it } from 'vitest';
import {
  ALLOWED_NAMESPACES_ANNOTATION,
  accessRuleOf,
  parseDefaultAccess,
  parseRegistryHost,
} from '@eatr/core';
import { judgeAccess, judgeNearMisses, judgeSecretName, judgeServed } from './access-checks.js';

const EU = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const US = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const labels = { 'kubernetes.io/metadata.name': 'team-a', team: 'a' };

describe('judgeAccess', () => {
  it('passes where the rule allows the namespace and says which rule refused where not, with the fix', () => {
    const rules = new Map([
      [EU, accessRuleOf({ [ALLOWED_NAMESPACES_ANNOTATION]: 'team=a' }, parseDefaultAccess('none'))],
      [US, parseDefaultAccess('none')],
    ]);
    const checks = judgeAccess(
      'team-a',
      labels,
      [EU, US],
      (h) => rules.get(h) ?? parseDefaultAccess('*'),
      'ci-cd',
    );
    expect(checks).toEqual([
      {
        id: `access:${EU}`,
        ok: true,
        message: `namespace team-a may use the credentials of ${EU} (eatr.io/allowed-namespaces="team=a" on Secret eatr-aws-credentials-${EU})`,
      },
      {
        id: `access:${US}`,
        ok: false,
        message: `namespace team-a may not use the credentials of ${US}: the release allows no namespace by default (--default-allowed-namespaces=none) and Secret eatr-aws-credentials-${US} has no eatr.io/allowed-namespaces annotation, which it does not match; it gets no Secret`,
        fix: `an eatr admin can allow it: kubectl -n ci-cd annotate secret eatr-aws-credentials-${US} eatr.io/allowed-namespaces='<a selector team-a matches, e.g. kubernetes.io/metadata.name in (team-a)>' --overwrite; or label the namespace to match the selector`,
      },
    ]);
  });
});

describe('judgeServed', () => {
  it.each<[string, ReadonlySet<string> | undefined, string[], string[]]>([
    ['no list: nothing to say', undefined, [EU], []],
    ['asks for nothing: nothing to say', new Set(['b']), [], []],
    [
      'listed',
      new Set(['a']),
      [EU],
      ['ok: namespace a is among the namespaces this install serves'],
    ],
    [
      'not listed: the fix names the value',
      new Set(['b']),
      [EU],
      [
        `FAIL: namespace a asks for ${EU} but is not among the namespaces this install serves (config.servedNamespaces): eatr leaves it alone -> an eatr admin can add a to config.servedNamespaces and run helm upgrade (the chart then grants the renewer Secrets there)`,
      ],
    ],
  ])('%s', (_name, served, asked, expected) => {
    expect(
      judgeServed('a', served, asked).map(
        (c) => `${c.ok ? 'ok' : 'FAIL'}: ${c.message}${c.ok ? '' : ` -> ${c.fix}`}`,
      ),
    ).toEqual(expected);
  });
});

describe('judgeNearMisses', () => {
  it('fails once per registry label set to a yes other than "true", with the command that fixes it', () => {
    const registry = parseRegistryHost(EU);
    if (!registry) throw new Error('not a registry host');
    expect(judgeNearMisses('a', [{ registry, value: 'True' }])).toEqual([
      {
        id: `label:${EU}`,
        ok: false,
        message: `namespace a has the label ${EU}="True": eatr serves only the value "true" (exactly, lower case), so it ignores this label`,
        fix: `kubectl label namespace a ${EU}=true --overwrite`,
      },
    ]);
    expect(judgeNearMisses('a', [])).toEqual([]);
  });
});

describe('judgeSecretName', () => {
  const registry = parseRegistryHost(EU);
  it.each<[string, string | undefined, string[]]>([
    ['no annotation: nothing to say', undefined, []],
    [
      'a name: ok, naming the Secret',
      'ecr-pull',
      ['ok: namespace a names its Secrets itself (eatr.io/secret-name): ecr-pull'],
    ],
    [
      'no Secret name: fails with the fix',
      'Ecr_Pull',
      [
        `FAIL: namespace a: annotation eatr.io/secret-name="Ecr_Pull" gives "Ecr_Pull", which is not a Secret name (lower-case letters, digits, '-' and '.', at most 253; placeholders {{registry}}, {{account}}, {{region}}); the Secrets keep their names from the chart's template -> kubectl annotate namespace a eatr.io/secret-name=<a Secret name, e.g. ecr-pull> --overwrite (or remove it: eatr.io/secret-name-)`,
      ],
    ],
  ])('%s', (_name, annotation, expected) => {
    expect(
      judgeSecretName('a', annotation, '{{registry}}', registry ? [registry] : []).map(
        (c) => `${c.ok ? 'ok' : 'FAIL'}: ${c.message}${c.ok ? '' : ` -> ${c.fix}`}`,
      ),
    ).toEqual(expected);
  });
});
