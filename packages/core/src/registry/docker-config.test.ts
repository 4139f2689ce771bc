import { describe, expect, it } from 'vitest';
import {
  buildDockerConfigJson,
  passwordFromAuthorizationToken,
  type DockerConfigJson,
} from './docker-config.js';

describe('buildDockerConfigJson', () => {
  const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

  it('holds username AWS, the password and auth = base64(AWS:password)', () => {
    const config = JSON.parse(buildDockerConfigJson(host, 's3cr3t')) as DockerConfigJson;
    expect(config).toEqual({
      auths: {
        [host]: {
          username: 'AWS',
          password: 's3cr3t',
          auth: Buffer.from('AWS:s3cr3t').toString('base64'),
        },
      },
    });
  });

  it('adds email only when configured', () => {
    const config = JSON.parse(
      buildDockerConfigJson(host, 'p', 'ops@example.com'),
    ) as DockerConfigJson;
    expect(config.auths[host]?.email).toBe('ops@example.com');
  });
});

describe('passwordFromAuthorizationToken', () => {
  it.each([
    [Buffer.from('AWS:abc').toString('base64'), 'abc'],
    [Buffer.from('AWS:a:b').toString('base64'), 'a:b'],
    [Buffer.from('AWS:').toString('base64'), undefined],
    [Buffer.from('root:abc').toString('base64'), undefined],
    ['', undefined],
  ])('%s -> %s', (token, expected) => {
    expect(passwordFromAuthorizationToken(token)).toBe(expected);
  });
});
