import {
  LogMessage,
  kubeStatus,
  planServiceAccounts,
  serviceAccountFingerprint,
  serviceAccountKey,
  type Logger,
} from '@eatr/core';
import type { CachedServiceAccount } from '../cache/projections.js';
import { asEatrError } from './eatr-error.js';
import type { Blocked } from './blocked-report.js';
import type { ClusterView, KubeWrites } from './ports.js';

/** Patches that lose a race (409) are decided again from the fresh object this many times. */
const CONFLICT_ATTEMPTS = 3;

/** What became of the wired ServiceAccounts of a namespace. */
export interface ServiceAccountsOutcome {
  /** Changes the API server refused: blocked until the ServiceAccount or the wanted entries change. */
  readonly blocked: Blocked[];
  /** serviceAccountKey() of each ServiceAccount that is as the plan wants it now. */
  readonly ok: string[];
  /** Whether a patch added an entry (Pods created before it lack it). */
  added: boolean;
}

/**
 * Makes each wired ServiceAccount of a namespace reference `pullSecrets` (the Secrets that exist
 * after the Secret writes; entries naming another eatr release's Secrets are left to it), by the plan's rule, one merge patch per ServiceAccount that must change.
 */
export async function syncServiceAccounts(
  d: {
    readonly view: ClusterView;
    readonly kube: KubeWrites;
    readonly targets: '*' | readonly string[];
  },
  namespace: string,
  want: { readonly pullSecrets: readonly string[]; readonly otherInstances: ReadonlySet<string> },
  log: Logger,
): Promise<ServiceAccountsOutcome> {
  const result: ServiceAccountsOutcome = { blocked: [], ok: [], added: false };
  for (const cached of d.view.serviceAccountsIn(namespace)) {
    let sa: CachedServiceAccount | undefined = cached;
    for (let attempt = 1; sa !== undefined; attempt++) {
      const view = { ...sa.observed, resourceVersion: sa.metadata.resourceVersion };
      const change = planServiceAccounts([view], { targets: d.targets, ...want })[0];
      if (!change) {
        result.ok.push(serviceAccountKey(sa.metadata.name));
        break;
      }
      try {
        await d.kube.patchServiceAccount(namespace, change.name, {
          resourceVersion: view.resourceVersion,
          imagePullSecrets: change.imagePullSecrets,
          addedByEatr: change.addedByEatr,
        });
        if (change.imagePullSecrets.some((n) => !view.imagePullSecrets.includes(n)))
          result.added = true;
        log.info(
          {
            decision: 'service-account',
            serviceAccount: change.name,
            imagePullSecrets: change.imagePullSecrets,
          },
          LogMessage.serviceAccountUpdated,
        );
        break;
      } catch (error) {
        const status = kubeStatus(error);
        if (status === 404) break; // deleted meanwhile: nothing to wire
        const failure = asEatrError(error, { namespace });
        if (failure.errorClass === 'permanent') {
          // Refused (an admission policy, say): blocked until the ServiceAccount or the wanted
          // entries change, so sweeps do not patch it again and again.
          result.blocked.push({
            subject: serviceAccountKey(change.name),
            error: failure,
            fingerprint: serviceAccountFingerprint(view.resourceVersion, change.imagePullSecrets),
            present: true,
          });
          break;
        }
        if (status !== 409 || attempt >= CONFLICT_ATTEMPTS) throw failure;
        try {
          sa = await d.kube.readServiceAccount(namespace, change.name);
        } catch (readError) {
          throw asEatrError(readError, { namespace });
        }
      }
    }
  }
  return result;
}
