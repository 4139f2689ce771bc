import { describe, expect, it } from 'vitest';
import { PermanentError } from '@eatr/core';
import { classifyAwsError, toEatrError, tokenFailureEventMessage } from './aws-errors.js';

const sdkError = (name: string, httpStatusCode?: number, message = 'm') =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

describe('classifyAwsError', () => {
  it.each([
    [sdkError('ThrottlingException', 400), 'throttled', true],
    [sdkError('Unknown', 429), 'throttled', true],
    [sdkError('AccessDeniedException', 400), 'denied', false],
    [sdkError('UnrecognizedClientException', 403), 'invalid-credentials', false],
    [sdkError('InvalidSignatureException', 403), 'invalid-credentials', false],
    [sdkError('ExpiredTokenException', 400), 'invalid-credentials', false],
    [sdkError('InvalidIdentityTokenException', 400), 'invalid-credentials', false],
    [sdkError('CredentialsProviderError'), 'no-credentials', false],
    [
      sdkError(
        'CredentialsProviderError',
        undefined,
        'Could not load credentials from any providers',
      ),
      'no-credentials',
      false,
    ],
    [
      sdkError('CredentialsProviderError', undefined, 'Server responded with status: 404'),
      'no-credentials',
      false,
    ],
    [
      sdkError('CredentialsProviderError', undefined, 'Server responded with status: 503'),
      'error',
      true,
    ],
    [
      sdkError(
        'CredentialsProviderError',
        undefined,
        'Error: connect ECONNREFUSED 169.254.170.2:80',
      ),
      'error',
      true,
    ],
    [sdkError('ServerException', 500), 'error', true],
    [sdkError('InternalFailure', 503), 'error', true],
    [sdkError('TimeoutError'), 'error', true],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      'error',
      true,
    ],
    [sdkError('InvalidParameterException', 400), 'error', false],
  ])('%s -> %s, retry %s', (error, failure, retry) => {
    expect(classifyAwsError(error)).toEqual({ failure, retry });
  });

  it('wraps with context and no request details', () => {
    const wrapped = toEatrError(
      sdkError('AccessDeniedException', 400, 'User is not authorized\nRequestId: x'),
      { namespace: 'a', registry: 'r' },
    );
    expect(wrapped.errorClass).toBe('permanent');
    expect(wrapped.message).toBe('ECR token for r: AccessDeniedException: User is not authorized');
    expect(wrapped.context).toEqual({ namespace: 'a', registry: 'r' });
  });
});

describe('tokenFailureEventMessage', () => {
  const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
  const ARN = 'arn:aws:iam::999888777666:user/ci';
  const aws = (name: string, status: number) =>
    toEatrError(sdkError(name, status, `User: ${ARN} is not authorized to perform: ecr:X`), {
      registry: REGISTRY,
    });

  it.each([
    [
      aws('AccessDeniedException', 400),
      `AWS denied the ECR token request for registry ${REGISTRY} (AccessDeniedException); see the renewer log`,
    ],
    [
      aws('AccessDenied', 403),
      `AWS denied the ECR token request for registry ${REGISTRY} (AccessDenied); see the renewer log`,
    ],
    [
      aws('UnrecognizedClientException', 403),
      `AWS rejected the credentials for registry ${REGISTRY} (UnrecognizedClientException); check its credential Secret, and see the renewer log`,
    ],
    [
      aws('CredentialsProviderError', 0),
      `No AWS credentials for registry ${REGISTRY}: no credential Secret, and the pod's own identity gave none (CredentialsProviderError); see the renewer log`,
    ],
    [
      aws('ValidationException', 400),
      `Could not get an ECR token for registry ${REGISTRY} (ValidationException); see the renewer log`,
    ],
    [
      // Web identity with a token for another audience (STS AssumeRoleWithWebIdentity).
      aws('InvalidIdentityTokenException', 400),
      `AWS rejected the credentials for registry ${REGISTRY} (InvalidIdentityTokenException); check its credential Secret, and see the renewer log`,
    ],
    [
      // A name that is not a bare error code is left out.
      aws('Error: arn:aws:iam::999888777666', 403),
      `AWS denied the ECR token request for registry ${REGISTRY}; see the renewer log`,
    ],
    [
      new PermanentError(
        'credential Secret x: aws_role_arn is not an IAM role ARN',
        'malformed-credentials',
      ),
      'credential Secret x: aws_role_arn is not an IAM role ARN',
    ],
  ])('%s: a fixed message without AWS text', (error, message) => {
    const text = tokenFailureEventMessage(error, REGISTRY);
    expect(text).toBe(message);
    expect(text).not.toContain('arn:');
    expect(text).not.toContain('999888777666');
  });
});
