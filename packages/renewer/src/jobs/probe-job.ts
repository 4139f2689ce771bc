import type { Job } from 'bullmq';
import { RetryableError, parseRegistryHost, type ProbeJobData } from '@eatr/core';
import { asEatrError } from '../sync/eatr-error.js';
import type { JobContext } from './job-context.js';

/**
 * One step of a registry's probe chain: ask AWS for a token with the registry's credentials, ignoring
 * the refusal this process remembers. When one comes, forget the registry's blocked records and sync
 * its namespaces now; while AWS still refuses, throw, and BullMQ runs the probe again after the probe
 * backoff (5 s, 10 s... 1 minute). A probe writes nothing itself, so no namespace is synced twice at once.
 */
export async function runProbe(job: Job, data: ProbeJobData, c: JobContext): Promise<unknown> {
  const { registry } = data;
  const host = parseRegistryHost(registry);
  const credentials = host && c.credentials.resolve(host.host);
  if ((await c.blocked.blockedByAws(registry)).length === 0 || !host || !credentials?.ok)
    return { result: 'nothing-to-probe' }; // unblocked meanwhile, or now blocked by local causes
  const log = c.log.child({ registry, attempt: job.attemptsMade + 1, decision: 'probe' });
  try {
    await c.tokens.token(credentials.value, host, { ignoreFailure: true });
  } catch (error) {
    const failure = asEatrError(error, { registry });
    log.info({ reason: failure.reason }, 'AWS still refuses; will ask again');
    throw new RetryableError(`AWS still refuses registry ${registry}`, failure.reason, {
      registry,
    });
  }
  const cleared = await c.blocked.clearRegistry(registry);
  const namespaces = [...new Set(cleared.map((key) => key.namespace))];
  for (const namespace of namespaces)
    await c.jobs.enqueueSync({ namespace, reason: 'recovered', force: 'retry' });
  log.info({ enqueued: namespaces.length }, 'registry works again; syncing its namespaces');
  return { result: 'recovered', namespaces: namespaces.length };
}
