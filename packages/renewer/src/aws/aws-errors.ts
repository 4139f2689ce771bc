import { PermanentError, RetryableError, type EatrError, type ErrorContext } from '@eatr/core';

/** Result label of `eatr_ecr_calls_total`, and the reason of credential errors. */
export type AwsFailure =
  'throttled' | 'denied' | 'invalid-credentials' | 'no-credentials' | 'error';

const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'Throttling',
  'SlowDown',
]);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);
const INVALID = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'IncompleteSignature',
  'InvalidIdentityToken',
]);
const NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|socket hang up|timeout/i;

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Classifies an AWS SDK (ECR or STS) error: what to count, and whether to retry. */
export function classifyAwsError(error: unknown): { failure: AwsFailure; retry: boolean } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING.has(name) || status === 429) return { failure: 'throttled', retry: true };
  if (DENIED.has(name)) return { failure: 'denied', retry: false };
  if (INVALID.has(name)) return { failure: 'invalid-credentials', retry: false };
  if (name === 'CredentialsProviderError') {
    // The SDK's HTTP and process providers wrap transient failures (network errors, "Server
    // responded with status: 503") in this error too: those are retried, not reported as missing.
    const message = e.message ?? '';
    return NETWORK.test(message) || /status: 5\d\d\b/.test(message)
      ? { failure: 'error', retry: true }
      : { failure: 'no-credentials', retry: false };
  }
  if (status !== undefined && status >= 500) return { failure: 'error', retry: true };
  if (
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    NETWORK.test(`${e.code ?? ''} ${e.message ?? ''}`)
  ) {
    return { failure: 'error', retry: true };
  }
  if (status === 403) return { failure: 'denied', retry: false };
  if (status !== undefined && status >= 400) return { failure: 'error', retry: false };
  return { failure: 'error', retry: true };
}

/** Wraps an AWS error as eatr's classified error, keeping only its name and message (no request data). */
export function toEatrError(error: unknown, context: ErrorContext): EatrError {
  const { failure, retry } = classifyAwsError(error);
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const message = `ECR token for ${context.registry ?? 'registry'}: ${e.name ?? 'Error'}: ${(e.message ?? String(error)).split('\n')[0]}`;
  return retry
    ? new RetryableError(message, failure, context, { cause: error })
    : new PermanentError(message, failure, context, { cause: error });
}
