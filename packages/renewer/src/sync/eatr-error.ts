import {
  GoneError,
  PermanentError,
  RetryableError,
  classifyKubeError,
  describeError,
  kubeStatus,
  type EatrError,
  type ErrorContext,
} from '@eatr/core';

/** Any error as eatr's classified error (Kubernetes API errors by status; unknown errors retry). */
export function asEatrError(error: unknown, context: ErrorContext): EatrError {
  if (
    error instanceof RetryableError ||
    error instanceof PermanentError ||
    error instanceof GoneError
  )
    return error.withContext(context);
  const message = describeError(error);
  switch (classifyKubeError(error)) {
    case 'gone':
      return new GoneError(message, 'gone', context, { cause: error });
    case 'permanent':
      return new PermanentError(message, `http-${kubeStatus(error) ?? 'error'}`, context, {
        cause: error,
      });
    default:
      return new RetryableError(
        message,
        kubeStatus(error) === 409 ? 'conflict' : 'kube-error',
        context,
        { cause: error },
      );
  }
}
