import { parseRegistryHost } from '../registry/registry-host.js';

/** Waiting reasons of a container whose image the kubelet could not pull. */
export const PULL_FAILURE_REASONS: ReadonlySet<string> = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
]);

/** Waiting reasons of a container of a Pending Pod whose image the kubelet has not pulled yet. */
const NOT_PULLED_YET: ReadonlySet<string> = new Set(['ContainerCreating', 'PodInitializing']);

/** What the decision needs to know about a Pod (no spec beyond its images). */
export interface ObservedPod {
  readonly name: string;
  readonly uid: string;
  readonly createdAt: number;
  /** Set while the Pod is being deleted. */
  readonly deleting: boolean;
  /** The kind of its controlling owner (ReplicaSet, StatefulSet, Job...), if it has one. */
  readonly controller: string | undefined;
  /** Phase Pending: not every container has started (or the Pod is not scheduled yet). */
  readonly pending: boolean;
  /** The Secrets its spec names in `imagePullSecrets`. */
  readonly pullSecrets: readonly string[];
  /** Each container (init ones too): its image and, if it waits, why. */
  readonly containers: readonly { readonly image: string; readonly waitingReason?: string }[];
}

export interface StuckPods {
  /** Controller-owned Pods stuck pulling from a served registry: delete once, the controller recreates them. */
  readonly recreate: readonly ObservedPod[];
  /** Stuck the same way but with no controller: eatr leaves them alone and says so. */
  readonly bare: readonly ObservedPod[];
}

/** The registry host of an image reference (`<host>/<path>:<tag>`), lower case; undefined for Docker Hub short names. */
export function imageRegistry(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const host = image.slice(0, slash).toLowerCase();
  return parseRegistryHost(host)?.host;
}

/**
 * Which Pods of a namespace eatr should recreate after it served registries there at `servedAt`
 * (pure; `secrets` maps each served registry host to its pull Secret's name there). A Pod created
 * before then took its ServiceAccount's imagePullSecrets without eatr's entry, so a container of
 * it that pulls from one of those registries has failed (ImagePullBackOff, ErrImagePull) or, if the
 * Pod is still Pending, will fail: both are stuck. Left out: Pods created later (they got the entry,
 * so a failure of theirs is not eatr's to fix, and a recreated Pod is never deleted twice), Pods
 * being deleted, and Pods that name the registry's Secret themselves (the kubelet reads it at its
 * next pull attempt).
 */
export function stuckPods(
  pods: readonly ObservedPod[],
  secrets: ReadonlyMap<string, string>,
  servedAt: number,
): StuckPods {
  const recreate: ObservedPod[] = [];
  const bare: ObservedPod[] = [];
  for (const pod of pods) {
    if (pod.deleting || pod.createdAt >= servedAt) continue;
    const stuck = pod.containers.some((c) => {
      const secret = secrets.get(imageRegistry(c.image) ?? '');
      if (secret === undefined || pod.pullSecrets.includes(secret)) return false;
      if (c.waitingReason !== undefined && PULL_FAILURE_REASONS.has(c.waitingReason)) return true;
      // Not pulled yet (any other waiting reason comes after the pull: the image was there).
      return pod.pending && (c.waitingReason === undefined || NOT_PULLED_YET.has(c.waitingReason));
    });
    if (!stuck) continue;
    (pod.controller === undefined ? bare : recreate).push(pod);
  }
  return { recreate, bare };
}
