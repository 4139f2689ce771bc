import { errorCodeFor } from './aws-errors.js';
import type { AwsServiceError } from './aws-errors.js';
import type { WireResponse } from './wire-response.js';

/**
 * ECR's wire format: AWS JSON 1.1. The operation is named by X-Amz-Target, errors carry their code
 * in both `__type` and `x-amzn-ErrorType` (the SDK reads `__type` first).
 */
export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921';
export const ECR_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** ECR Public's X-Amz-Target prefix (its API's service name). */
export const ECR_PUBLIC_TARGET_PREFIX = 'SpencerFrontendService';

/** The operation an X-Amz-Target header names, or undefined when it is not an ECR target. */
export function ecrAction(target: string): string | undefined {
  const [prefix, action, ...rest] = target.split('.');
  return prefix === ECR_TARGET_PREFIX && action && rest.length === 0 ? action : undefined;
}

/** The operation an ECR Public X-Amz-Target names, or undefined when it is not one. */
export function ecrPublicAction(target: string): string | undefined {
  const [prefix, action, ...rest] = target.split('.');
  return prefix === ECR_PUBLIC_TARGET_PREFIX && action && rest.length === 0 ? action : undefined;
}

export function ecrSuccess(payload: unknown, requestId: string): WireResponse {
  return {
    status: 200,
    headers: { 'content-type': ECR_CONTENT_TYPE, 'x-amzn-requestid': requestId },
    body: JSON.stringify(payload),
  };
}

export function ecrError(error: AwsServiceError, requestId: string): WireResponse {
  const { code, status } = errorCodeFor(error.kind, 'ecr');
  return {
    status,
    headers: {
      'content-type': ECR_CONTENT_TYPE,
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': code,
    },
    body: JSON.stringify({ __type: code, message: error.message }),
    errorCode: code,
  };
}
