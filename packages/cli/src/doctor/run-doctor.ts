import type { Cli } from '../context.js';
import type { Check } from '../doctor-model.js';
import type { OutputFormat } from '../output.js';
import { admissionPolicyCheck } from './admission-policy-check.js';
import { apiServerCheck, clockCheck } from './cluster-checks.js';
import { credentialChecks } from './credential-checks.js';
import { leaseCheck } from './lease-check.js';
import { queueChecks } from './queue-checks.js';
import { rbacCheck } from './rbac-checks.js';
import { redisChecks } from './redis-checks.js';
import { accessChecks } from './access-checks.js';

export interface DoctorOptions {
  /** Check the watcher's / renewer's RBAC as this ServiceAccount (`namespace/name`) instead of as the caller. */
  readonly watcherServiceAccount: string | undefined;
  readonly renewerServiceAccount: string | undefined;
  /** Check only what this namespace needs (its registries' credentials); default: every namespace. */
  readonly namespace: string | undefined;
  readonly output: OutputFormat;
}

/**
 * Every check that explains "why is my namespace not getting its Secret". Reads only: the
 * credential check asks ECR for a token and throws it away; nothing is written to the cluster,
 * Redis or the queue (access reviews are requests, not objects).
 */
export async function runDoctor(cli: Cli, options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const [api, ...version] = await apiServerCheck(cli);
  if (api) checks.push(api, ...version);
  if (api?.ok) {
    checks.push(await clockCheck(cli));
    for (const component of ['watcher', 'renewer'] as const)
      checks.push(
        await rbacCheck(
          cli,
          component,
          component === 'watcher' ? options.watcherServiceAccount : options.renewerServiceAccount,
        ),
      );
    checks.push(await admissionPolicyCheck(cli));
  }
  const redis = await redisChecks(cli);
  checks.push(...redis);
  if (redis[0]?.ok) checks.push(...(await queueChecks(cli)));
  if (api?.ok) {
    checks.push(await leaseCheck(cli));
    checks.push(...(await credentialChecks(cli, options.namespace)));
    if (options.namespace !== undefined)
      checks.push(...(await accessChecks(cli, options.namespace)));
  }
  return checks;
}
