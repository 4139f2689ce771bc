import { describe, expect, it } from 'vitest';
import {
  judgeAdmissionPolicies,
  type BindingSeen,
  type PolicySeen,
} from './admission-policy-check.js';

const policy = (name: string, instance?: string): PolicySeen => ({
  name,
  variables: instance === undefined ? [] : [{ name: 'instance', expression: `'${instance}'` }],
});
const bound = (policyName: string, actions = ['Deny']): BindingSeen => ({
  policyName,
  validationActions: actions,
});
const release = [policy('eatr-renewer-secrets', 'eatr'), policy('eatr-renewer-serviceaccounts')];

describe('judgeAdmissionPolicies', () => {
  it.each<[string, PolicySeen[], BindingSeen[], boolean, string]>([
    [
      'both policies bound with Deny',
      release,
      [bound('eatr-renewer-secrets'), bound('eatr-renewer-serviceaccounts')],
      true,
      'admission policies eatr-renewer-secrets and eatr-renewer-serviceaccounts are bound (Deny) for instance eatr',
    ],
    ['none installed', [], [], false, 'no ValidatingAdmissionPolicy guards'],
    [
      "another release's policy only",
      [policy('team-b-eatr-renewer-secrets', 'team-b')],
      [bound('team-b-eatr-renewer-secrets')],
      false,
      'for instance eatr',
    ],
    [
      'bound in Warn or Audit only',
      release,
      [bound('eatr-renewer-secrets', ['Warn']), bound('eatr-renewer-serviceaccounts')],
      false,
      'missing or not bound with Deny: eatr-renewer-secrets',
    ],
    [
      'the ServiceAccount policy missing',
      [policy('eatr-renewer-secrets', 'eatr')],
      [bound('eatr-renewer-secrets')],
      false,
      'eatr-renewer-serviceaccounts',
    ],
  ])('%s', (_name, policies, bindings, passes, message) => {
    const check = judgeAdmissionPolicies(policies, bindings, 'eatr');
    expect(check.ok).toBe(passes);
    expect(check.message).toContain(message);
  });
});
