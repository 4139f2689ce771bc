import type { Check } from '../doctor-model.js';
import { fail, ok } from './check.js';

/**
 * What eatr supports: the chart's `kubeVersion` (the APIs it uses are GA from 1.25: metadata-only
 * lists, PodDisruptionBudget v1, Lease v1), where its admission policies start (ValidatingAdmission
 * Policy v1 is GA in 1.30), and the minors its tests run on (test/tools/kube-binaries.sh).
 */
export const KUBERNETES_SUPPORT = { oldestMinor: 25, admissionPolicyMinor: 30, testedMinors: [34] };

/** The API server's Kubernetes version against the supported range (pure). */
export function judgeKubernetesVersion(version: {
  readonly major: string;
  readonly minor: string;
  readonly gitVersion: string;
}): Check {
  const id = 'kubernetes-version';
  // Managed offerings report minors such as "30+".
  const major = Number.parseInt(version.major, 10);
  const minor = Number.parseInt(version.minor, 10);
  const { oldestMinor, admissionPolicyMinor, testedMinors } = KUBERNETES_SUPPORT;
  const tested = testedMinors.map((m) => `1.${m}`).join(', ');
  if (major !== 1 || Number.isNaN(minor))
    return fail(
      id,
      `cannot tell the Kubernetes version from "${version.gitVersion}"`,
      'check kubectl version; eatr supports Kubernetes 1.25 and later',
    );
  if (minor < oldestMinor)
    return fail(
      id,
      `Kubernetes ${version.gitVersion} is older than 1.${oldestMinor}, the oldest eatr supports (the chart's kubeVersion)`,
      `upgrade the cluster to 1.${oldestMinor} or later (1.${admissionPolicyMinor}+ for the admission policies)`,
    );
  const policies =
    minor < admissionPolicyMinor
      ? `; below 1.${admissionPolicyMinor} the chart's admission policies cannot be installed (admissionPolicy.enabled=auto skips them, and RBAC alone bounds the renewer)`
      : '';
  const newer =
    minor > Math.max(...testedMinors)
      ? `; newer than the versions eatr is tested on (${tested})`
      : '';
  return ok(
    id,
    `Kubernetes ${version.gitVersion} is supported (1.${oldestMinor}+; tested on ${tested})${policies}${newer}`,
  );
}
