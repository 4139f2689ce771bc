export { FakeAwsEndpoint } from './fake-aws-endpoint.js';
export type { FakeAwsEndpointOptions } from './fake-aws-endpoint.js';
export { AwsServiceError, errorCodeFor } from './aws-errors.js';
export type { AwsErrorCode, AwsErrorKind, AwsService } from './aws-errors.js';
export type { AwsCall, CallFilter, ProxyMode } from './call-log.js';
export { DEFAULT_ACCOUNT_ID } from './credential-store.js';
export type { CredentialConfig, IssuedSession, RoleConfig } from './credential-store.js';
export { DEFAULT_TOKEN_LIFETIME_MS, registryEndpoint } from './ecr-token-issuer.js';
export type { IssuedToken } from './ecr-token-issuer.js';
export { FAILURE_KINDS } from './failure-injector.js';
export type { FailureKind } from './failure-injector.js';
export {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  parseAuthorizationHeader,
  SigV4VerificationError,
  verifySigV4,
} from './sigv4-verifier.js';
export type { ReceivedRequest, SigV4FailureReason, VerifiedSignature } from './sigv4-verifier.js';
