/**
 * How a failure should be handled, as in Kubernetes controllers: retry with backoff, stop (permanent:
 * only a change of input can fix it), or nothing to do (the object is gone).
 */
export type ErrorClass = 'retry' | 'permanent' | 'gone';

/** Where a failure happened. Never holds a secret value. */
export interface ErrorContext {
  readonly namespace?: string;
  readonly registry?: string;
  /** A tenant role the namespace named, and the ServiceAccount (in `namespace`) that proves it. */
  readonly roleArn?: string;
  readonly serviceAccount?: string;
}

/** Base of eatr's classified errors. `reason` is a short machine-readable word for metrics and Events. */
export abstract class EatrError extends Error {
  abstract readonly errorClass: ErrorClass;
  readonly reason: string;
  readonly context: ErrorContext;

  constructor(
    message: string,
    reason: string,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
    this.context = context;
  }

  /**
   * The same failure attributed to another place: one token error is shared by every registry and
   * namespace its credentials serve, and each must report it under its own name.
   */
  withContext(context: ErrorContext): this {
    const Same = this.constructor as new (
      message: string,
      reason: string,
      context: ErrorContext,
      options?: { cause?: unknown },
    ) => this;
    return new Same(
      this.message,
      this.reason,
      { ...this.context, ...context },
      {
        cause: this.cause,
      },
    );
  }
}

/** Throttling, 5xx, timeouts, connection errors, optimistic-concurrency conflicts: retry with backoff. */
export class RetryableError extends EatrError {
  readonly errorClass = 'retry';
}

/** Bad keys, access denied, a malformed credential Secret: do not retry until the input changes. */
export class PermanentError extends EatrError {
  readonly errorClass = 'permanent';
}

/** The object the job is about no longer exists: nothing to do. */
export class GoneError extends EatrError {
  readonly errorClass = 'gone';
}

/** The HTTP status of a Kubernetes API error (`ApiException.code`), or undefined for other errors. */
export function kubeStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'number' && code >= 100 && code < 600) return code;
  }
  return undefined;
}

/** Classifies a Kubernetes API error: 404 gone, 4xx (but 408/409/429) permanent, everything else retry. */
export function classifyKubeError(error: unknown): ErrorClass {
  const status = kubeStatus(error);
  if (status === 404) return 'gone';
  if (status === undefined || status === 408 || status === 409 || status === 429 || status >= 500)
    return 'retry';
  return 'permanent';
}

/** A short description of any error, safe for logs (messages of our errors never hold secret values). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status = kubeStatus(error);
    const message = error.message.split('\n')[0] ?? error.name;
    return status === undefined ? message : `HTTP ${status}: ${kubeReason(error) ?? message}`;
  }
  return String(error);
}

// ApiException bodies are the API server's Status JSON; its message is the useful part.
function kubeReason(error: Error): string | undefined {
  const body = (error as { body?: unknown }).body;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}
