import { describe, expect, it } from 'vitest';
import {
  decideServiceAccounts,
  isMalformedPullSecretsLabel,
  isWired,
  missingServiceAccounts,
  serviceAccountSelectors,
  type ObservedServiceAccount,
} from './service-account-decision.js';

const sa = (
  name: string,
  imagePullSecrets: string[],
  addedByEatr: string[] = [],
): ObservedServiceAccount => ({ name, imagePullSecrets, addedByEatr });

describe('decideServiceAccounts', () => {
  it.each<
    [
      string,
      ObservedServiceAccount[],
      '*' | string[],
      string[],
      { name: string; imagePullSecrets: string[]; addedByEatr: string[] }[],
    ]
  >([
    [
      'appends to default',
      [sa('default', [])],
      ['default'],
      ['reg'],
      [{ name: 'default', imagePullSecrets: ['reg'], addedByEatr: ['reg'] }],
    ],
    [
      'keeps other entries',
      [sa('default', ['mine'])],
      ['default'],
      ['reg'],
      [{ name: 'default', imagePullSecrets: ['mine', 'reg'], addedByEatr: ['reg'] }],
    ],
    ['no change when present', [sa('default', ['mine', 'reg'], ['reg'])], ['default'], ['reg'], []],
    [
      'user entry of the same name is not claimed',
      [sa('default', ['reg'])],
      ['default'],
      ['reg'],
      [],
    ],
    [
      'opt-out removes only eatr entries',
      [sa('default', ['mine', 'reg'], ['reg'])],
      ['default'],
      [],
      [{ name: 'default', imagePullSecrets: ['mine'], addedByEatr: [] }],
    ],
    ['opt-out leaves a user-added same name', [sa('default', ['reg'])], ['default'], [], []],
    ['untargeted SA is left', [sa('builder', [])], ['default'], ['reg'], []],
    [
      'untargeted SA loses eatr entries',
      [sa('builder', ['reg', 'x'], ['reg'])],
      ['default'],
      ['reg'],
      [{ name: 'builder', imagePullSecrets: ['x'], addedByEatr: [] }],
    ],
    [
      'all SAs with *',
      [sa('a', []), sa('b', ['reg'], ['reg'])],
      '*',
      ['reg'],
      [{ name: 'a', imagePullSecrets: ['reg'], addedByEatr: ['reg'] }],
    ],
    ['empty list: none', [sa('default', [])], [], ['reg'], []],
    [
      'two registries, one removed',
      [sa('default', ['r1', 'u', 'r2'], ['r1', 'r2'])],
      ['default'],
      ['r2'],
      [{ name: 'default', imagePullSecrets: ['u', 'r2'], addedByEatr: ['r2'] }],
    ],
  ])('%s', (_name, observed, targets, pullSecrets, expected) => {
    expect(decideServiceAccounts(observed, targets, pullSecrets)).toEqual(expected);
  });

  // Two eatr releases in one namespace share the annotation: each removes only its own entries.
  it.each<
    [
      string,
      ObservedServiceAccount[],
      string[],
      { imagePullSecrets: string[]; addedByEatr: string[] }[],
    ]
  >([
    [
      "opt-out keeps another release's entry",
      [sa('default', ['mine', 'theirs'], ['mine', 'theirs'])],
      [],
      [{ imagePullSecrets: ['theirs'], addedByEatr: ['theirs'] }],
    ],
    [
      "appending keeps another release's entry and records both",
      [sa('default', ['theirs'], ['theirs'])],
      ['mine'],
      [{ imagePullSecrets: ['theirs', 'mine'], addedByEatr: ['theirs', 'mine'] }],
    ],
    [
      "nothing to do: another release's entry is not stale",
      [sa('default', ['theirs'], ['theirs'])],
      [],
      [],
    ],
  ])('%s', (_name, observed, pullSecrets, expected) => {
    expect(decideServiceAccounts(observed, ['default'], pullSecrets, new Set(['theirs']))).toEqual(
      expected.map((e) => ({ name: 'default', ...e })),
    );
  });
});

describe('decideServiceAccounts: the eatr.io/pull-secrets label on a ServiceAccount', () => {
  const labelled = (
    name: string,
    label: string,
    entries: string[] = [],
    added: string[] = [],
  ): ObservedServiceAccount => ({
    name,
    imagePullSecrets: entries,
    addedByEatr: added,
    pullSecretsLabel: label,
  });
  it.each<[string, ObservedServiceAccount, '*' | string[], string[] | undefined]>([
    [
      'true opts in a ServiceAccount the list leaves out',
      labelled('builder', 'true'),
      ['default'],
      ['reg'],
    ],
    [
      'true opts in with an empty list (no ServiceAccount by default)',
      labelled('builder', 'true'),
      [],
      ['reg'],
    ],
    ['false opts out of *: nothing added', labelled('ci', 'false'), '*', undefined],
    [
      'false takes out what eatr added, and only that',
      labelled('default', 'false', ['mine', 'reg'], ['reg']),
      ['default'],
      ['mine'],
    ],
    [
      'a malformed value is ignored: the list decides',
      labelled('default', 'True'),
      ['default'],
      ['reg'],
    ],
    [
      'a malformed value on an unlisted one: nothing',
      labelled('builder', 'yes'),
      ['default'],
      undefined,
    ],
    [
      'no label any more (it was removed): what eatr added goes',
      { name: 'builder', imagePullSecrets: ['reg'], addedByEatr: ['reg'] },
      ['default'],
      [],
    ],
  ])('%s', (_name, account, targets, entries) => {
    const [change] = decideServiceAccounts([account], targets, ['reg']);
    expect(change?.imagePullSecrets).toEqual(entries);
  });

  it('isWired: the label wins over the list, both ways', () => {
    expect(isWired({ name: 'a', pullSecretsLabel: 'true' }, [])).toBe(true);
    expect(isWired({ name: 'a', pullSecretsLabel: 'false' }, '*')).toBe(false);
    expect(isWired({ name: 'a', pullSecretsLabel: 'on' }, ['a'])).toBe(true);
    expect(isWired({ name: 'a' }, ['b'])).toBe(false);
    expect([undefined, 'true', 'false', 'True', ''].map(isMalformedPullSecretsLabel)).toEqual([
      false,
      false,
      false,
      true,
      true,
    ]);
  });
});

describe('missingServiceAccounts', () => {
  it('lists configured names that do not exist', () => {
    expect(missingServiceAccounts([sa('other', [])], ['default', 'other'])).toEqual(['default']);
    expect(missingServiceAccounts([], '*')).toEqual([]);
  });
});

describe('serviceAccountSelectors: the watches that see every ServiceAccount eatr may wire', () => {
  it.each<['*' | string[], object[]]>([
    ['*', [{}]],
    [['default', 'builder'], [{}]],
    [
      ['default'],
      [{ fieldSelector: 'metadata.name=default' }, { labelSelector: 'eatr.io/pull-secrets' }],
    ],
    [[], [{ labelSelector: 'eatr.io/pull-secrets' }]],
  ])('%j', (targets, selectors) => {
    expect(serviceAccountSelectors(targets)).toEqual(selectors);
  });
});
