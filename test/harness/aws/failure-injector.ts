import { matchesFilter } from './call-log.js';
import type { AwsCall, CallFilter } from './call-log.js';

/**
 * What a test can make the endpoint do to an otherwise good call:
 * - `throttle`: ECR ThrottlingException / STS Throttling (the SDK retries these)
 * - `server-error`: HTTP 500 (ECR ServerException, STS InternalFailure; retried as transient)
 * - `access-denied`: ECR AccessDeniedException / STS AccessDenied (not retried)
 * - `slow`: answer normally, but only after the configured delay (to trip client timeouts)
 * - `bad-signature`: answer as if the signature did not match (as after a key rotation on AWS's side)
 */
export type FailureKind = 'throttle' | 'server-error' | 'access-denied' | 'slow' | 'bad-signature';

export const FAILURE_KINDS: readonly FailureKind[] = [
  'throttle',
  'server-error',
  'access-denied',
  'slow',
  'bad-signature',
];

interface Pending {
  remaining: number;
  readonly kind: FailureKind;
  readonly filter: CallFilter | undefined;
}

/** Decides, per authenticated call, whether a failure is injected into it. */
export class FailureInjector {
  private pending: Pending[] = [];
  private readonly behaviours = new Map<string, FailureKind>();

  /** The next `count` calls matching `filter` fail with `kind`; queued after earlier requests. */
  failNext(count: number, kind: FailureKind, filter?: CallFilter): void {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`failNext count must be a positive integer, got ${count}`);
    }
    this.pending.push({ remaining: count, kind, filter });
  }

  /** Every call signed with `accessKeyId` fails with `kind` until cleared with `undefined`. */
  setBehaviour(accessKeyId: string, kind: FailureKind | undefined): void {
    if (kind === undefined) this.behaviours.delete(accessKeyId);
    else this.behaviours.set(accessKeyId, kind);
  }

  /** The failure for this call, consuming one `failNext` slot when one applies. */
  take(
    call: Pick<AwsCall, 'service' | 'action' | 'accessKeyId' | 'region'>,
  ): FailureKind | undefined {
    if (call.accessKeyId !== undefined) {
      const persistent = this.behaviours.get(call.accessKeyId);
      if (persistent !== undefined) return persistent;
    }
    const index = this.pending.findIndex((p) => matchesFilter(call, p.filter));
    const entry = this.pending[index];
    if (entry === undefined) return undefined;
    entry.remaining--;
    if (entry.remaining === 0) this.pending.splice(index, 1);
    return entry.kind;
  }

  /** How many queued `failNext` failures have not been used yet. */
  pendingCount(): number {
    return this.pending.reduce((sum, p) => sum + p.remaining, 0);
  }

  reset(): void {
    this.pending = [];
    this.behaviours.clear();
  }
}
