import { describe, expect, it } from 'vitest';
import {
  ROLE_ARN_ANNOTATION,
  ROLE_SERVICE_ACCOUNT_ANNOTATION,
  TenantRolesError,
  parseTenantRoles,
  tenantRoleOf,
  tenantRolesText,
} from './tenant-role.js';
import { SECRET_NAME_ANNOTATION } from '../naming.js';
import { namespaceAnnotationsOf } from '../watch/namespace-projection.js';

const TEAM_A = 'arn:aws:iam::111122223333:role/team-a-pull';

describe('parseTenantRoles: the --tenant-roles allowlist', () => {
  it('reads rules, with serviceAccounts defaulting to default; empty is off', () => {
    expect(parseTenantRoles('')).toEqual([]);
    const [rule] = parseTenantRoles(
      '[{"namespaces":"team in (a)","roleArns":["arn:aws:iam::111122223333:role/team-a-*"]}]',
    );
    expect(rule?.namespaces.text).toBe('team in (a)');
    expect(rule?.serviceAccounts).toEqual(['default']);
    // What the fingerprint and the CLI print reads back as the same allowlist.
    const text = tenantRolesText(parseTenantRoles(tenantRolesText(rule ? [rule] : [])));
    expect(JSON.parse(text)).toEqual([
      {
        namespaces: 'team in (a)',
        roleArns: ['arn:aws:iam::111122223333:role/team-a-*'],
        serviceAccounts: ['default'],
      },
    ]);
  });

  it.each([
    ['{', 'is not JSON'],
    ['{"namespaces":"a"}', 'must be a JSON list'],
    ['[1]', 'rule 1 is not an object'],
    ['[{"roleArns":["arn:aws:iam::1:role/x"]}]', 'rule 1 needs "namespaces"'],
    ['[{"namespaces":"a in b","roleArns":["arn:aws:iam::1:role/x"]}]', 'rule 1: "a in b"'],
    ['[{"namespaces":"a"}]', 'rule 1 needs "roleArns"'],
    ['[{"namespaces":"a","roleArns":[]}]', '"roleArns" must be a non-empty list'],
    ['[{"namespaces":"a","roleArns":["arn:aws:s3:::bucket"]}]', 'is not an IAM role ARN pattern'],
    [
      '[{"namespaces":"a","roleArns":["arn:aws:iam::1:role/x"],"serviceAccounts":["Bad_Name"]}]',
      'is not a ServiceAccount name',
    ],
    ['[{"namespaces":"a","roleArns":["arn:aws:iam::1:role/x"],"role":"x"}]', 'unknown key "role"'],
  ])('%s: one line naming the problem', (text, message) => {
    expect(() => parseTenantRoles(text)).toThrow(TenantRolesError);
    expect(() => parseTenantRoles(text)).toThrow(message);
  });
});

describe('tenantRoleOf: what a namespace may use', () => {
  const allowlist = parseTenantRoles(
    JSON.stringify([
      { namespaces: 'team=a', roleArns: ['arn:aws:iam::111122223333:role/team-a-*'] },
      {
        namespaces: 'team=b',
        roleArns: ['arn:aws:iam::4444????????:role/b'],
        serviceAccounts: ['puller'],
      },
    ]),
  );
  it.each<[string, Record<string, string>, Record<string, string> | undefined, string]>([
    ['no annotation', { team: 'a' }, undefined, 'none'],
    [
      'an allowed role, the default ServiceAccount',
      { team: 'a' },
      { [ROLE_ARN_ANNOTATION]: TEAM_A },
      'allowed',
    ],
    [
      'the pattern does not cover the role',
      { team: 'a' },
      { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::111122223333:role/team-b' },
      'not-allowed',
    ],
    [
      '* does not cross accounts it does not name',
      { team: 'a' },
      { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::999999999999:role/team-a-x' },
      'not-allowed',
    ],
    [
      'the namespace is not selected',
      { team: 'c' },
      { [ROLE_ARN_ANNOTATION]: TEAM_A },
      'not-allowed',
    ],
    [
      '? matches one digit each; the named ServiceAccount',
      { team: 'b' },
      {
        [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::444455556666:role/b',
        [ROLE_SERVICE_ACCOUNT_ANNOTATION]: 'puller',
      },
      'allowed',
    ],
    [
      'a ServiceAccount the rule does not name',
      { team: 'b' },
      { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::444455556666:role/b' },
      'not-allowed',
    ],
    ['not an ARN', { team: 'a' }, { [ROLE_ARN_ANNOTATION]: 'team-a' }, 'malformed'],
    [
      'a bad ServiceAccount name',
      { team: 'a' },
      { [ROLE_ARN_ANNOTATION]: TEAM_A, [ROLE_SERVICE_ACCOUNT_ANNOTATION]: 'a b' },
      'malformed',
    ],
  ])('%s: %s', (_name, labels, annotations, expected) => {
    const d = tenantRoleOf('ns', labels, annotations, allowlist);
    expect(d.kind === 'refused' ? d.reason : d.kind).toBe(expected);
  });

  it('cuts a role annotation longer than any ARN, so it is refused and quoted briefly', () => {
    const huge = `${TEAM_A}${'x'.repeat(200_000)}`;
    const kept = namespaceAnnotationsOf({ [ROLE_ARN_ANNOTATION]: huge });
    expect(kept?.[ROLE_ARN_ANNOTATION]?.length).toBe(2049);
    const d = tenantRoleOf('ns', {}, kept, allowlist);
    expect(d.kind === 'refused' && d.reason).toBe('malformed');
    expect(d.kind === 'refused' && d.message.length).toBeLessThan(300);
  });

  it("keeps only eatr's namespace annotations (eatr.io/role-*, eatr.io/secret-name) in caches", () => {
    expect(namespaceAnnotationsOf({ a: 'b' })).toBeUndefined();
    expect(
      namespaceAnnotationsOf({
        a: 'b',
        [ROLE_ARN_ANNOTATION]: TEAM_A,
        [SECRET_NAME_ANNOTATION]: 'ecr',
      }),
    ).toEqual({ [ROLE_ARN_ANNOTATION]: TEAM_A, [SECRET_NAME_ANNOTATION]: 'ecr' });
  });
});
