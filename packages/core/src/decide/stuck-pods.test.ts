import { describe, expect, it } from 'vitest';
import { imageRegistry, stuckPods, type ObservedPod } from './stuck-pods.js';

const EU = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const US = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const SERVED_AT = 1_000_000;

const pod = (over: Partial<ObservedPod> = {}): ObservedPod => ({
  name: 'app-1',
  uid: 'u1',
  createdAt: SERVED_AT - 60_000,
  deleting: false,
  controller: 'ReplicaSet',
  pending: true,
  pullSecrets: [],
  containers: [{ image: `${EU}/team/app:v1`, waitingReason: 'ImagePullBackOff' }],
  ...over,
});

describe('stuckPods: which Pods eatr recreates after serving a registry', () => {
  // Registries served in the namespace (host -> Secret name): EU unless a row says otherwise.
  it.each<[string, ObservedPod, 'recreate' | 'bare' | 'none', string[]?]>([
    ['a ReplicaSet Pod in ImagePullBackOff from the registry', pod(), 'recreate'],
    [
      'ErrImagePull counts too (before the first back-off)',
      pod({ containers: [{ image: `${EU}/app`, waitingReason: 'ErrImagePull' }] }),
      'recreate',
    ],
    [
      'an init container stuck counts',
      pod({
        containers: [
          { image: `${EU}/init:v1`, waitingReason: 'ImagePullBackOff' },
          { image: `${EU}/app:v1`, waitingReason: 'PodInitializing' },
        ],
      }),
      'recreate',
    ],
    ['a bare Pod: left alone, reported', pod({ controller: undefined }), 'bare'],
    [
      "created after the Secret was served: not eatr's to fix (and never deleted twice)",
      pod({ createdAt: SERVED_AT }),
      'none',
    ],
    ['already being deleted', pod({ deleting: true }), 'none'],
    [
      'stuck on another registry',
      pod({ containers: [{ image: `${US}/app:v1`, waitingReason: 'ImagePullBackOff' }] }),
      'none',
    ],
    [
      'failing for another reason (a crash)',
      pod({ containers: [{ image: `${EU}/app:v1`, waitingReason: 'CrashLoopBackOff' }] }),
      'none',
    ],
    ['running', pod({ pending: false, containers: [{ image: `${EU}/app:v1` }] }), 'none'],
    [
      'Pending, not failed yet (created with the label, before the entry): it will fail',
      pod({ containers: [{ image: `${EU}/app:v1`, waitingReason: 'ContainerCreating' }] }),
      'recreate',
    ],
    [
      'Pending and not scheduled yet (no container status)',
      pod({ containers: [{ image: `${EU}/app:v1` }] }),
      'recreate',
    ],
    [
      'a bare Pod, Pending: left alone, reported',
      pod({ controller: undefined, containers: [{ image: `${EU}/app:v1` }] }),
      'bare',
    ],
    ['Pending on another registry only', pod({ containers: [{ image: `${US}/app:v1` }] }), 'none'],
    [
      "naming the registry's Secret itself: the kubelet's next attempt uses it",
      pod({ pullSecrets: [EU] }),
      'none',
    ],
    [
      'Pending, its image pulled (a missing ConfigMap): not a pull problem',
      pod({ containers: [{ image: `${EU}/app:v1`, waitingReason: 'CreateContainerConfigError' }] }),
      'none',
    ],
    ['naming another Secret does not help', pod({ pullSecrets: ['regcred'] }), 'recreate'],
    [
      'a Pod named the Secret of one registry but also pulls from another served one',
      pod({
        pullSecrets: [EU],
        containers: [
          { image: `${EU}/app:v1` },
          { image: `${US}/sidecar:v1`, waitingReason: 'ImagePullBackOff' },
        ],
      }),
      'recreate',
      [EU, US],
    ],
  ])('%s', (_name, observed, expected, served = [EU]) => {
    const secrets = new Map(served.map((host) => [host, host]));
    const { recreate, bare } = stuckPods([observed], secrets, SERVED_AT);
    const got = recreate.length > 0 ? 'recreate' : bare.length > 0 ? 'bare' : 'none';
    expect(got).toBe(expected);
  });

  it.each([
    [`${EU}/team/app:v1`, EU],
    [`${EU.toUpperCase()}/app@sha256:abc`, EU],
    ['public.ecr.aws/team/app:v1', 'public.ecr.aws'],
    ['nginx:1.27', undefined],
    ['docker.io/library/nginx', undefined],
  ])('imageRegistry(%s) is %s', (image, host) => {
    expect(imageRegistry(image)).toBe(host);
  });
});
