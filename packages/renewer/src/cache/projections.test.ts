import { describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import {
  projectCredentials,
  projectNamespace,
  projectSecret,
  projectWatchedSecret,
} from './projections.js';

const REG = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function credentialSecret(
  overrides: Partial<V1Secret['metadata']> = {},
  data?: Record<string, string>,
): V1Secret {
  return {
    metadata: {
      name: `eatr-aws-credentials-${REG}`,
      uid: 'u-1',
      resourceVersion: '10',
      ...overrides,
    },
    data: data ?? {
      aws_access_key_id: b64('AKIAEATRTESTKEY00001'),
      aws_secret_access_key: b64('secret/abc'),
      aws_region: b64('eu-west-1'),
    },
  };
}

describe('projectCredentials', () => {
  const base = projectCredentials(credentialSecret());

  it('parses the keys once and versions them by content', () => {
    expect(base.registry).toBe(REG);
    expect(base.parsed.ok).toBe(true);
    expect(base.parsed.version).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(base.acceptedVersions).toEqual(['u-1/10']);
  });

  it("keys the version with the install's key, and still accepts the unkeyed one (no rewrite on upgrade)", () => {
    const key = Buffer.from('an-install-key-of-32-characters!');
    const keyed = projectCredentials(credentialSecret(), key);
    expect(keyed.parsed.version).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(keyed.acceptedVersions).toEqual(['u-1/10', base.parsed.version]);
    expect(projectCredentials(credentialSecret(), key).parsed.version).toBe(keyed.parsed.version);
    const otherInstall = projectCredentials(
      credentialSecret(),
      Buffer.from('another-install-key-0123456789ab'),
    );
    expect(otherInstall.parsed.version).not.toBe(keyed.parsed.version);
    // Unusable content is keyed too.
    const broken = projectCredentials(credentialSecret({}, { nothing: b64('x') }), key);
    expect(broken.parsed.version).toMatch(/^invalid:hmac:[0-9a-f]{32}$/);
  });

  it.each<[string, V1Secret, boolean]>([
    [
      'a label or annotation edit',
      credentialSecret({ resourceVersion: '11', labels: { a: 'b' }, annotations: { c: 'd' } }),
      true,
    ],
    [
      'the Secret recreated with the same keys',
      credentialSecret({ uid: 'u-2', resourceVersion: '99' }),
      true,
    ],
    [
      'the Rancher key names for the same keys',
      credentialSecret(
        {},
        {
          AWS_ACCESS_KEY_ID: b64('AKIAEATRTESTKEY00001'),
          AWS_SECRET_ACCESS_KEY: b64('secret/abc'),
        },
      ),
      true,
    ],
    [
      'another secret key',
      credentialSecret(
        {},
        { aws_access_key_id: b64('AKIAEATRTESTKEY00001'), aws_secret_access_key: b64('other') },
      ),
      false,
    ],
    [
      'a role to assume',
      credentialSecret(
        {},
        {
          aws_access_key_id: b64('AKIAEATRTESTKEY00001'),
          aws_secret_access_key: b64('secret/abc'),
          aws_role_arn: b64('arn:aws:iam::123456789012:role/x'),
        },
      ),
      false,
    ],
  ])('%s: same version %s', (_name, secret, same) => {
    expect(projectCredentials(secret).parsed.version === base.parsed.version).toBe(same);
  });

  it('keeps no key material in a version, and names the bad key of an unusable Secret', () => {
    expect(base.parsed.version).not.toContain('AKIA');
    const broken = projectCredentials(
      credentialSecret({}, { aws_access_key_id: b64('AKIAEATRTESTKEY00001') }),
    );
    expect(broken.parsed.ok).toBe(false);
    if (!broken.parsed.ok) {
      expect(broken.parsed.error.reason).toBe('malformed-credentials');
      expect(broken.parsed.error.message).not.toContain('AKIA');
      expect(broken.parsed.version).toMatch(/^invalid:/);
    }
  });
});

describe('projectNamespace', () => {
  it('keeps every label: access policies may select namespaces by any of them', () => {
    const ns = projectNamespace({
      metadata: {
        name: 'team-a',
        resourceVersion: '5',
        creationTimestamp: '2026-11-29T10:00:00Z',
        labels: {
          [REG]: 'true',
          team: 'a',
          'kubernetes.io/metadata.name': 'team-a',
          '12345.dkr.ecr.x.amazonaws.com': 'true',
        },
      },
    });
    expect(ns.metadata.labels).toEqual({
      [REG]: 'true',
      team: 'a',
      'kubernetes.io/metadata.name': 'team-a',
      '12345.dkr.ecr.x.amazonaws.com': 'true',
    });
    expect(ns.metadata.createdAt).toBe(Date.parse('2026-11-29T10:00:00Z'));
    expect(ns.metadata.terminating).toBe(false);
  });
});

describe('projectSecret', () => {
  it("keeps eatr's metadata for the decisions, never the data nor anyone else's labels and annotations", () => {
    const projected = projectSecret({
      type: 'kubernetes.io/dockerconfigjson',
      metadata: {
        name: REG,
        namespace: 'a',
        resourceVersion: '7',
        labels: { x: 'y', 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': 'eatr' },
        annotations: { 'eatr.io/registry': REG, 'tenant.example/blob': 'x'.repeat(200_000) },
        managedFields: [{ manager: 'kubectl', operation: 'Update' }],
      },
      data: { '.dockerconfigjson': b64('{"auths":{}}') },
    });
    expect(projected).toEqual({
      metadata: { name: REG, namespace: 'a', resourceVersion: '7' },
      observed: {
        name: REG,
        type: 'kubernetes.io/dockerconfigjson',
        labels: { 'app.kubernetes.io/managed-by': 'eatr', 'eatr.io/instance': 'eatr' },
        annotations: { 'eatr.io/registry': REG },
      },
    });
  });

  it('takes the type of a watched Secret from the watch field selector (metadata carries none)', () => {
    const watched = projectWatchedSecret({
      kind: 'PartialObjectMetadata',
      metadata: { name: REG, namespace: 'a', resourceVersion: '8', labels: {}, annotations: {} },
    });
    expect(watched.observed.type).toBe('kubernetes.io/dockerconfigjson');
  });
});
