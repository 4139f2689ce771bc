/**
 * The failures the fake endpoint can answer with, named once and spelled per service: ECR (JSON 1.1)
 * and STS (query/XML) use different codes and HTTP statuses for the same situation, and the AWS SDK
 * decides whether to retry from exactly these codes and statuses.
 */
export type AwsErrorKind =
  | 'throttled'
  | 'server-error'
  | 'access-denied'
  | 'unrecognized-client'
  | 'invalid-signature'
  | 'incomplete-signature'
  | 'missing-authentication'
  | 'expired-token'
  | 'invalid-parameter'
  | 'unknown-operation'
  | 'invalid-identity-token';

export type AwsService = 'ecr' | 'ecr-public' | 'sts';

export interface AwsErrorCode {
  readonly code: string;
  readonly status: number;
}

/**
 * Codes and statuses per service. ECR's ThrottlingException is HTTP 400 as the real service sends
 * it; the SDK retries it because of its name (it is in the SDK's list of throttling codes), not its
 * status. InvalidSignatureException and AccessDeniedException are on the SDK's clock-skew list:
 * they are retried once only when the response's Date header shows the caller's clock is off.
 */
const CODES: Readonly<
  Record<AwsErrorKind, Readonly<Record<Exclude<AwsService, 'ecr-public'>, AwsErrorCode>>>
> = {
  throttled: {
    ecr: { code: 'ThrottlingException', status: 400 },
    sts: { code: 'Throttling', status: 400 },
  },
  'server-error': {
    ecr: { code: 'ServerException', status: 500 },
    sts: { code: 'InternalFailure', status: 500 },
  },
  'access-denied': {
    ecr: { code: 'AccessDeniedException', status: 400 },
    sts: { code: 'AccessDenied', status: 403 },
  },
  'unrecognized-client': {
    ecr: { code: 'UnrecognizedClientException', status: 403 },
    sts: { code: 'InvalidClientTokenId', status: 403 },
  },
  'invalid-signature': {
    ecr: { code: 'InvalidSignatureException', status: 403 },
    sts: { code: 'SignatureDoesNotMatch', status: 403 },
  },
  'incomplete-signature': {
    ecr: { code: 'IncompleteSignatureException', status: 400 },
    sts: { code: 'IncompleteSignature', status: 400 },
  },
  'missing-authentication': {
    ecr: { code: 'MissingAuthenticationTokenException', status: 403 },
    sts: { code: 'MissingAuthenticationToken', status: 403 },
  },
  'expired-token': {
    ecr: { code: 'ExpiredTokenException', status: 403 },
    sts: { code: 'ExpiredToken', status: 403 },
  },
  'invalid-parameter': {
    ecr: { code: 'InvalidParameterException', status: 400 },
    sts: { code: 'ValidationError', status: 400 },
  },
  'unknown-operation': {
    ecr: { code: 'UnknownOperationException', status: 400 },
    sts: { code: 'InvalidAction', status: 400 },
  },
  // Only STS takes web identity tokens; ECR never answers this.
  'invalid-identity-token': {
    ecr: { code: 'InvalidParameterException', status: 400 },
    sts: { code: 'InvalidIdentityToken', status: 400 },
  },
};

/** ECR Public (the same JSON 1.1 protocol) answers with ECR's codes. */
export function errorCodeFor(kind: AwsErrorKind, service: AwsService): AwsErrorCode {
  return CODES[kind][service === 'ecr-public' ? 'ecr' : service];
}

/** Thrown inside the endpoint's handlers; rendered in the wire format of the service called. */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';

  constructor(
    readonly kind: AwsErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** The messages real AWS sends for authentication failures (the SDK reads "Signature expired"). */
export const MESSAGES = {
  invalidToken: 'The security token included in the request is invalid.',
  expiredToken: 'The security token included in the request is expired',
  signatureMismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  missingAuthentication: 'Missing Authentication Token',
  throttled: 'Rate exceeded',
  serverError: 'We encountered an internal error. Please try again.',
} as const;
