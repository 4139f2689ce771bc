import { describe, expect, it } from 'vitest';
import { ROLE_ARN_ANNOTATION, ROLE_SERVICE_ACCOUNT_ANNOTATION, parseTenantRoles } from '@eatr/core';
import { judgeRole, type RoleFacts } from './role-checks.js';

const ROLE = 'arn:aws:iam::111122223333:role/team-a-pull';
const facts = (over: Partial<RoleFacts> = {}): RoleFacts => ({
  namespace: 'team-a',
  labels: { team: 'a' },
  annotations: { [ROLE_ARN_ANNOTATION]: ROLE },
  allowlist: parseTenantRoles(
    '[{"namespaces":"team=a","roleArns":["arn:aws:iam::111122223333:role/team-a-*"]}]',
  ),
  serviceAccountExists: true,
  blockedReasons: [],
  ...over,
});
const summary = (f: RoleFacts) => judgeRole(f).map((c) => `${c.id} ${c.ok ? 'ok' : 'FAIL'}`);

describe('judgeRole', () => {
  it.each<[string, Partial<RoleFacts>, string[]]>([
    ['no role annotation: nothing to check', { annotations: {} }, []],
    [
      'allowed, its ServiceAccount there, AWS never refused',
      {},
      ['role ok', 'role-service-account ok', 'role-trust ok'],
    ],
    ['not on the allowlist', { labels: { team: 'b' } }, ['role FAIL']],
    ['malformed', { annotations: { [ROLE_ARN_ANNOTATION]: 'nope' } }, ['role FAIL']],
    [
      'its ServiceAccount missing',
      { serviceAccountExists: false },
      ['role ok', 'role-service-account FAIL', 'role-trust ok'],
    ],
    [
      'AWS refused (the trust policy)',
      { blockedReasons: ['role-denied'] },
      ['role ok', 'role-service-account ok', 'role-trust FAIL'],
    ],
    [
      'Redis and the ServiceAccount unreadable: only what is known',
      { serviceAccountExists: undefined, blockedReasons: undefined },
      ['role ok'],
    ],
  ])('%s', (_name, over, expected) => {
    expect(summary(facts(over))).toEqual(expected);
  });

  it('names the trust policy conditions to set, and the allowlist rule to add', () => {
    const trust = judgeRole(facts({ blockedReasons: ['role-denied'] })).find(
      (c) => c.id === 'role-trust',
    );
    expect(trust?.fix).toContain('"<issuer>:sub": "system:serviceaccount:team-a:default"');
    expect(trust?.fix).toContain('"<issuer>:aud": "sts.amazonaws.com"');
    const refused = judgeRole(
      facts({
        annotations: { [ROLE_ARN_ANNOTATION]: ROLE, [ROLE_SERVICE_ACCOUNT_ANNOTATION]: 'puller' },
      }),
    )[0];
    expect(refused?.fix).toContain(`roleArns: ["${ROLE}"], serviceAccounts: ["puller"]`);
  });
});
