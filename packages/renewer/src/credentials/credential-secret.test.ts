import { describe, expect, it } from 'vitest';
import { PermanentError } from '@eatr/core';
import { parseCredentialSecret } from './credential-secret.js';

const b64 = (record: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
const ctx = { registry: 'r', secretName: 'eatr-aws-credentials-r' };
const KEY = 'AKIAIOSFODNN7EXAMPLE';

describe('parseCredentialSecret', () => {
  it.each([
    [
      'seed key names',
      { aws_access_key_id: KEY, aws_secret_access_key: 's', aws_region: 'eu-west-1' },
      { keys: { accessKeyId: KEY, secretAccessKey: 's' } },
    ],
    [
      'Rancher key names',
      {
        AWS_ACCESS_KEY_ID: KEY,
        AWS_SECRET_ACCESS_KEY: 's',
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_ACCOUNT_NUMBER: '123456789012',
        EMAIL: 'a@b.c',
      },
      { keys: { accessKeyId: KEY, secretAccessKey: 's' }, email: 'a@b.c' },
    ],
    [
      'session token',
      { aws_access_key_id: KEY, aws_secret_access_key: 's', aws_session_token: 't' },
      { keys: { accessKeyId: KEY, secretAccessKey: 's', sessionToken: 't' } },
    ],
    [
      'assume role with external id',
      {
        aws_access_key_id: KEY,
        aws_secret_access_key: 's',
        aws_role_arn: 'arn:aws:iam::210987654321:role/ecr-pull',
        aws_external_id: 'x1',
      },
      {
        keys: { accessKeyId: KEY, secretAccessKey: 's' },
        roleArn: 'arn:aws:iam::210987654321:role/ecr-pull',
        externalId: 'x1',
      },
    ],
    [
      'role only (pod identity as caller)',
      { aws_role_arn: 'arn:aws:iam::210987654321:role/ecr-pull' },
      { keys: undefined, roleArn: 'arn:aws:iam::210987654321:role/ecr-pull' },
    ],
    [
      'values are trimmed',
      { aws_access_key_id: `${KEY}\n`, aws_secret_access_key: ' s ' },
      { keys: { accessKeyId: KEY, secretAccessKey: 's' } },
    ],
  ])('reads %s', (_name, data, expected) => {
    expect(parseCredentialSecret(b64(data), ctx)).toEqual(expected);
  });

  it.each([
    ['empty', {}, /needs aws_access_key_id/],
    [
      'secret without id',
      { aws_secret_access_key: 's' },
      /has aws_secret_access_key but no aws_access_key_id/,
    ],
    [
      'id without secret',
      { AWS_ACCESS_KEY_ID: KEY },
      /has aws_access_key_id but no aws_secret_access_key/,
    ],
    [
      'bad key id',
      { aws_access_key_id: 'not a key', aws_secret_access_key: 's' },
      /not an AWS access key id/,
    ],
    [
      'bad role',
      { aws_access_key_id: KEY, aws_secret_access_key: 's', aws_role_arn: 'role/x' },
      /not an IAM role ARN/,
    ],
    [
      'external id without role',
      { aws_access_key_id: KEY, aws_secret_access_key: 's', aws_external_id: 'x' },
      /without aws_role_arn/,
    ],
  ])('rejects %s with a message naming the key and no value', (_name, data, message) => {
    const parse = () => parseCredentialSecret(b64(data), ctx);
    expect(parse).toThrow(PermanentError);
    expect(parse).toThrow(message);
    try {
      parse();
    } catch (error) {
      expect((error as Error).message).not.toContain('"s"');
      expect((error as PermanentError).reason).toBe('malformed-credentials');
    }
  });
});
