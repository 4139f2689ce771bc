import { describe, expect, it } from 'vitest';
import { classifyAwsError, toEatrError } from './aws-errors.js';

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
