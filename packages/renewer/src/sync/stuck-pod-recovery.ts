import { EventReason, LogMessage, kubeStatus, stuckPods, type Logger } from '@eatr/core';
import { asEatrError } from './eatr-error.js';
import type { EventSink, PodAccess } from './ports.js';

/**
 * --recover-stuck-pods, after a sync gave the namespace a pull Secret or a ServiceAccount its entry
 * at `servedAt`: a Pod created before then took its ServiceAccount's imagePullSecrets without it and
 * never pulls (it failed already, or it is still Pending and will), so each one a controller owns is
 * deleted once (its controller recreates it, with the entry); a bare Pod is left alone and
 * reported. `secrets` maps each served registry to its pull Secret's name. One list request, one
 * delete per stuck Pod. Best effort: a failure is logged, never fails the sync (the Secret is served
 * either way).
 */
export async function recoverStuckPods(
  d: { readonly pods: PodAccess; readonly events: EventSink },
  namespace: string,
  secrets: ReadonlyMap<string, string>,
  servedAt: number,
  log: Logger,
): Promise<void> {
  let found;
  try {
    found = stuckPods(await d.pods.listPods(namespace), secrets, servedAt);
  } catch (error) {
    log.warn(
      { decision: 'recover-pods', err: asEatrError(error, { namespace }).message },
      'could not list Pods to recover stuck ones',
    );
    return;
  }
  for (const pod of found.recreate) {
    try {
      await d.pods.deletePod(namespace, pod.name, pod.uid);
    } catch (error) {
      // Gone or replaced meanwhile: nothing left to recover.
      const status = kubeStatus(error);
      if (status !== 404 && status !== 409)
        log.warn(
          { pod: pod.name, err: asEatrError(error, { namespace }).message },
          'could not delete a stuck Pod',
        );
      continue;
    }
    log.info(
      { pod: pod.name, controller: pod.controller, decision: 'recreate-pod' },
      LogMessage.stuckPodRecreated,
    );
    await d.events.record({
      namespace,
      type: 'Normal',
      reason: EventReason.StuckPodRecreated,
      message: `Pod ${pod.name} could not pull its image (created before this namespace's image pull Secret existed, so it does not reference it); deleted so its ${pod.controller ?? 'controller'} recreates it with the Secret`,
    });
  }
  for (const pod of found.bare) {
    log.warn({ pod: pod.name, decision: 'leave-pod' }, LogMessage.stuckPodLeft);
    await d.events.record({
      namespace,
      type: 'Warning',
      reason: EventReason.StuckPodLeft,
      message: `Pod ${pod.name} cannot pull its image: it was created before this namespace's image pull Secret existed and has no controller to recreate it, so eatr leaves it alone. Delete and create it again.`,
    });
  }
}
