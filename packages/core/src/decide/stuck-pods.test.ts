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
  containers: [{ image: `${EU}/team/app:v1`, waitingReason: 'ImagePullBackOff' }],
  ...over,
});

describe('stuckPods: which Pods eatr recreates after serving a registry', () => {
  it.each<[string, ObservedPod, 'recreate' | 'bare' | 'none']>([
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
    ['running', pod({ containers: [{ image: `${EU}/app:v1` }] }), 'none'],
  ])('%s', (_name, observed, expected) => {
    const { recreate, bare } = stuckPods([observed], new Set([EU]), SERVED_AT);
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
