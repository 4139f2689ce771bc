import { describe, expect, it } from 'vitest';
import {
  formatBlockedKey,
  parseBlockedKey,
  serviceAccountKey,
  type BlockedKey,
} from './blocked-key.js';

describe('blocked keys', () => {
  it.each<[string, BlockedKey]>([
    [
      'team-a/registry-secret',
      { namespace: 'team-a', subject: { kind: 'secret', name: 'registry-secret' } },
    ],
    [
      'team-a/123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      {
        namespace: 'team-a',
        subject: { kind: 'secret', name: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
      },
    ],
    [
      'team-b/serviceaccount:default',
      { namespace: 'team-b', subject: { kind: 'serviceaccount', name: 'default' } },
    ],
  ])('%s parses and formats back', (field, key) => {
    expect(parseBlockedKey(field)).toEqual(key);
    expect(formatBlockedKey(key)).toBe(field);
  });

  it.each(['', 'no-slash', '/secret', 'namespace/'])('rejects %j', (field) => {
    expect(parseBlockedKey(field)).toBeUndefined();
  });

  it('names a ServiceAccount subject so that it cannot be a Secret name', () => {
    expect(serviceAccountKey('default')).toBe('serviceaccount:default');
  });
});
