import { AdmissionregistrationV1Api, describeError, kubeStatus } from '@eatr/core';
import type { Cli } from '../context.js';
import type { Check } from '../doctor-model.js';
import { fail, ok } from './check.js';

/** What the decision reads of a ValidatingAdmissionPolicy and of a binding. */
export interface PolicySeen {
  readonly name: string;
  readonly variables: readonly { readonly name: string; readonly expression: string }[];
}
export interface BindingSeen {
  readonly policyName: string;
  readonly validationActions: readonly string[];
}

const ID = 'admission-policy';
const SECRETS = '-renewer-secrets';
const ACCOUNTS = '-renewer-serviceaccounts';
const FIX =
  'install or upgrade with the chart (admissionPolicy.enabled: auto or true) on Kubernetes 1.30+; see docs/deploy.md, What the admission policy enforces';

/**
 * Whether the chart's two renewer policies guard this release (pure): the Secrets policy whose
 * `instance` variable names it, the ServiceAccounts policy of the same release, each bound with Deny.
 */
export function judgeAdmissionPolicies(
  policies: readonly PolicySeen[],
  bindings: readonly BindingSeen[],
  instance: string,
): Check {
  const secrets = policies.find(
    (p) =>
      p.name.endsWith(SECRETS) &&
      p.variables.some((v) => v.name === 'instance' && v.expression === `'${instance}'`),
  );
  if (!secrets)
    return fail(
      ID,
      `no ValidatingAdmissionPolicy guards the renewer's Secret writes for instance ${instance}: RBAC alone bounds it`,
      FIX,
    );
  const accounts = `${secrets.name.slice(0, -SECRETS.length)}${ACCOUNTS}`;
  const unbound = [secrets.name, accounts].filter(
    (name) =>
      !policies.some((p) => p.name === name) ||
      !bindings.some((b) => b.policyName === name && b.validationActions.includes('Deny')),
  );
  return unbound.length === 0
    ? ok(
        ID,
        `admission policies ${secrets.name} and ${accounts} are bound (Deny) for instance ${instance}`,
      )
    : fail(ID, `admission policies missing or not bound with Deny: ${unbound.join(', ')}`, FIX);
}

/** Reads the cluster's ValidatingAdmissionPolicies and bindings, and judges them. */
export async function admissionPolicyCheck(cli: Cli): Promise<Check> {
  const api = cli.kc.makeApiClient(AdmissionregistrationV1Api);
  try {
    const [policies, bindings] = await Promise.all([
      api.listValidatingAdmissionPolicy(),
      api.listValidatingAdmissionPolicyBinding(),
    ]);
    return judgeAdmissionPolicies(
      policies.items.map((p) => ({
        name: p.metadata?.name ?? '',
        variables: (p.spec?.variables ?? []).map((v) => ({
          name: v.name,
          expression: v.expression,
        })),
      })),
      bindings.items.map((b) => ({
        policyName: b.spec.policyName,
        validationActions: b.spec.validationActions,
      })),
      cli.watcher.instance,
    );
  } catch (error) {
    if (kubeStatus(error) === 404)
      return fail(
        ID,
        'the API server does not serve ValidatingAdmissionPolicy (before Kubernetes 1.30): RBAC alone bounds the renewer',
        'upgrade the cluster to Kubernetes 1.30+ and then the release; until then, keep the renewer ServiceAccount for eatr only',
      );
    return fail(
      ID,
      `cannot read ValidatingAdmissionPolicies: ${describeError(error)}`,
      'run eatr doctor as a user who may list validatingadmissionpolicies and their bindings',
    );
  }
}
