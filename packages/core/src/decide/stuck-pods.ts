import { parseRegistryHost } from '../registry/registry-host.js';

/** Waiting reasons of a container whose image the kubelet could not pull. */
export const PULL_FAILURE_REASONS: ReadonlySet<string> = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
]);

/** What the decision needs to know about a Pod (no spec beyond its images). */
export interface ObservedPod {
  readonly name: string;
  readonly uid: string;
  readonly createdAt: number;
  /** Set while the Pod is being deleted. */
  readonly deleting: boolean;
  /** The kind of its controlling owner (ReplicaSet, StatefulSet, Job...), if it has one. */
  readonly controller: string | undefined;
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
 * Which Pods of a namespace eatr should recreate after it served `registries` there at `servedAt`
 * (pure): those created before then (a Pod created later got its ServiceAccount's entries, so a pull
 * failure of its own is not eatr's to fix, and a recreated Pod is never deleted twice), not being
 * deleted, with a container waiting on a pull from one of those registries.
 */
export function stuckPods(
  pods: readonly ObservedPod[],
  registries: ReadonlySet<string>,
  servedAt: number,
): StuckPods {
  const recreate: ObservedPod[] = [];
  const bare: ObservedPod[] = [];
  for (const pod of pods) {
    if (pod.deleting || pod.createdAt >= servedAt) continue;
    const stuck = pod.containers.some(
      (c) =>
        c.waitingReason !== undefined &&
        PULL_FAILURE_REASONS.has(c.waitingReason) &&
        registries.has(imageRegistry(c.image) ?? ''),
    );
    if (!stuck) continue;
    (pod.controller === undefined ? bare : recreate).push(pod);
  }
  return { recreate, bare };
}
