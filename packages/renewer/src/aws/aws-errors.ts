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
  // STS's web identity errors as the SDK names them (AssumeRoleWithWebIdentity, e.g. a wrong audience).
  'InvalidIdentityTokenException',
  'IDPRejectedClaimException',
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

/** An AWS error code as it may appear in an Event: a bare word, never free text. */
const ERROR_CODE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/**
 * The short, fixed text a `TokenFailed` Event in a tenant namespace carries for a failure (pure).
 * AWS's own message can name IAM ARNs and other accounts' ids, which a namespace's users must not
 * see: it goes to the renewer's log only, and the Event says what failed, the AWS error code, and
 * where to look. eatr's own messages about a credential Secret (which key is missing) hold no AWS
 * text and are kept.
 */
export function tokenFailureEventMessage(
  error: {
    readonly reason: string;
    readonly message: string;
    readonly cause?: unknown;
    readonly context?: ErrorContext;
  },
  registry: string,
): string {
  const name = (error.cause as { name?: unknown } | undefined)?.name;
  const code = typeof name === 'string' && ERROR_CODE.test(name) ? ` (${name})` : '';
  switch (error.reason) {
    case 'role-denied':
    case 'role-service-account-missing':
      return roleFailureText(error);
    case 'missing-credentials':
    case 'malformed-credentials':
      return error.message;
    case 'denied':
      return `AWS denied the ECR token request for registry ${registry}${code}; see the renewer log`;
    case 'invalid-credentials':
      return `AWS rejected the credentials for registry ${registry}${code}; check its credential Secret, and see the renewer log`;
    case 'no-credentials':
      return `No AWS credentials for registry ${registry}: no credential Secret, and the pod's own identity gave none${code}; see the renewer log`;
    case 'throttled':
      return `AWS throttled the ECR token request for registry ${registry}${code}; see the renewer log`;
    default:
      return `Could not get an ECR token for registry ${registry}${code || ` (${error.reason})`}; see the renewer log`;
  }
}

/**
 * What the namespace's own role failure means, for its Events: its own ServiceAccount and role are
 * named (the namespace chose them), AWS's text is not (it may name other accounts).
 */
export function roleFailureText(error: {
  readonly reason: string;
  readonly message: string;
  readonly cause?: unknown;
  readonly context?: ErrorContext;
}): string {
  if (error.reason === 'role-service-account-missing')
    return `${error.message}; create it, or name another with eatr.io/role-service-account`;
  const name = (error.cause as { name?: unknown } | undefined)?.name;
  const code = typeof name === 'string' && ERROR_CODE.test(name) ? ` (${name})` : '';
  const { roleArn = 'the role', namespace = '', serviceAccount = '' } = error.context ?? {};
  return `AWS refused role ${roleArn} for ServiceAccount ${namespace}/${serviceAccount}${code}: its trust policy must allow sub system:serviceaccount:${namespace}:${serviceAccount} with aud sts.amazonaws.com from this cluster's OIDC issuer; see the renewer log`;
}
