import { describe, expect, it } from 'vitest';
import { looksLikeRegistryHost, parseRegistryHost } from './registry-host.js';

describe('parseRegistryHost', () => {
  it.each([
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      '123456789012',
      'eu-west-1',
      'aws',
      false,
      false,
    ],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      '123456789012',
      'us-east-1',
      'aws',
      false,
      false,
    ],
    [
      '123456789012.dkr.ecr.ap-southeast-7.amazonaws.com',
      '123456789012',
      'ap-southeast-7',
      'aws',
      false,
      false,
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      '123456789012',
      'cn-north-1',
      'aws-cn',
      false,
      false,
    ],
    [
      '123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn',
      '123456789012',
      'cn-northwest-1',
      'aws-cn',
      false,
      false,
    ],
    [
      '123456789012.dkr-ecr-fips.us-east-1.amazonaws.com',
      '123456789012',
      'us-east-1',
      'aws',
      true,
      false,
    ],
    [
      '123456789012.dkr.ecr-fips.us-west-2.amazonaws.com',
      '123456789012',
      'us-west-2',
      'aws',
      true,
      false,
    ],
    [
      '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com',
      '123456789012',
      'us-gov-west-1',
      'aws-us-gov',
      false,
      false,
    ],
    [
      '123456789012.dkr-ecr-fips.us-gov-east-1.amazonaws.com',
      '123456789012',
      'us-gov-east-1',
      'aws-us-gov',
      true,
      false,
    ],
    [
      '123456789012.dkr-ecr.eu-central-1.on.aws',
      '123456789012',
      'eu-central-1',
      'aws',
      false,
      true,
    ],
    ['123456789012.dkr-ecr-fips.us-east-2.on.aws', '123456789012', 'us-east-2', 'aws', true, true],
    [
      '123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu',
      '123456789012',
      'eusc-de-east-1',
      'aws-eusc',
      false,
      false,
    ],
    [
      '123456789012.DKR.ECR.EU-WEST-1.AMAZONAWS.COM',
      '123456789012',
      'eu-west-1',
      'aws',
      false,
      false,
    ],
  ])('accepts %s', (host, accountId, region, partition, fips, dualStack) => {
    expect(parseRegistryHost(host)).toEqual({
      host: host.toLowerCase(),
      accountId,
      region,
      partition,
      fips,
      dualStack,
      service: 'ecr',
    });
  });

  it.each([
    ['11-digit account', '12345678901.dkr.ecr.eu-west-1.amazonaws.com'],
    ['13-digit account', '1234567890123.dkr.ecr.eu-west-1.amazonaws.com'],
    ['letters in account', '12345678901a.dkr.ecr.eu-west-1.amazonaws.com'],
    ['no region', '123456789012.dkr.ecr.amazonaws.com'],
    ['region without number', '123456789012.dkr.ecr.eu-west.amazonaws.com'],
    ['wrong service', '123456789012.dkr.ecs.eu-west-1.amazonaws.com'],
    ['a public ECR repository path', 'public.ecr.aws/nginx'],
    ['a look-alike of ECR Public', 'public.ecr.aws.evil.example'],
    ['other domain', '123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example'],
    ['prefix', 'x123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
    ['China region on .com', '123456789012.dkr.ecr.cn-north-1.amazonaws.com'],
    ['non-China region on .com.cn', '123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn'],
    ['non-sovereign region on .eu', '123456789012.dkr.ecr.eu-west-1.amazonaws.eu'],
    ['dual-stack with dots', '123456789012.dkr.ecr.eu-west-1.on.aws'],
    ['kubernetes label', 'kubernetes.io/metadata.name'],
    ['empty', ''],
  ])('rejects %s', (_why, host) => {
    expect(parseRegistryHost(host)).toBeUndefined();
  });
});

describe('parseRegistryHost: ECR Public', () => {
  it('takes public.ecr.aws, served by the ecr-public API in us-east-1', () => {
    expect(parseRegistryHost(' Public.ECR.aws ')).toEqual({
      host: 'public.ecr.aws',
      accountId: 'public',
      region: 'us-east-1',
      partition: 'aws',
      fips: false,
      dualStack: false,
      service: 'ecr-public',
    });
    expect(parseRegistryHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com')?.service).toBe('ecr');
  });
});

describe('looksLikeRegistryHost', () => {
  it.each([
    ['12345678901.dkr.ecr.eu-west-1.amazonaws.com', true],
    ['123456789012.dkr.ecr.amazonaws.com', true],
    ['public.ecr.aws.example', true],
    ['team', false],
    ['kubernetes.io/metadata.name', false],
  ])('%s -> %s', (key, expected) => {
    expect(looksLikeRegistryHost(key)).toBe(expected);
  });
});
