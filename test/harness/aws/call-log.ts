import type { AwsService } from './aws-errors.js';
import type { FailureKind } from './failure-injector.js';

/** How a request reached the endpoint when it came through it acting as a forward proxy. */
export type ProxyMode = 'absolute-form' | 'connect';

/** One request the endpoint received, whatever it was answered with. */
export interface AwsCall {
  /** 1, 2, 3... in arrival order. */
  readonly seq: number;
  readonly at: Date;
  readonly service: AwsService;
  /** `GetAuthorizationToken`, `AssumeRole`, `AssumeRoleWithWebIdentity`, or what an unknown call named. */
  readonly action: string;
  /** The key named in the Authorization header (also when it was then rejected). */
  readonly accessKeyId: string | undefined;
  /** The region of the credential scope. */
  readonly region: string | undefined;
  /** Set when the request came through the endpoint's proxy side, undefined for direct requests. */
  readonly viaProxy: ProxyMode | undefined;
  /** The failure injected into this call, if one was. */
  readonly injected: FailureKind | undefined;
  /** HTTP status answered; undefined while in progress or when the client left before the answer. */
  readonly status: number | undefined;
  /** The AWS error code answered (`ThrottlingException`, ...), undefined on success. */
  readonly errorCode: string | undefined;
}

export interface CallFilter {
  readonly service?: AwsService;
  readonly action?: string;
  readonly accessKeyId?: string;
  readonly region?: string;
}

export function matchesFilter(
  call: Pick<AwsCall, 'service' | 'action' | 'accessKeyId' | 'region'>,
  filter: CallFilter | undefined,
): boolean {
  if (filter === undefined) return true;
  return (
    (filter.service === undefined || filter.service === call.service) &&
    (filter.action === undefined || filter.action === call.action) &&
    (filter.accessKeyId === undefined || filter.accessKeyId === call.accessKeyId) &&
    (filter.region === undefined || filter.region === call.region)
  );
}

type MutableCall = { -readonly [K in keyof AwsCall]: AwsCall[K] };

/** The handle the endpoint keeps while answering, to fill in the outcome. */
export interface CallRecord {
  readonly call: AwsCall;
  update(changes: Partial<Pick<AwsCall, 'injected' | 'status' | 'errorCode'>>): void;
}

export class CallLog {
  private calls: MutableCall[] = [];
  private seq = 0;

  record(
    entry: Pick<AwsCall, 'at' | 'service' | 'action' | 'accessKeyId' | 'region' | 'viaProxy'>,
  ): CallRecord {
    const call: MutableCall = {
      ...entry,
      seq: ++this.seq,
      injected: undefined,
      status: undefined,
      errorCode: undefined,
    };
    this.calls.push(call);
    return {
      call,
      update: (changes) => {
        Object.assign(call, changes);
      },
    };
  }

  /** Copies, so a test's snapshot does not change under it. */
  list(filter?: CallFilter): AwsCall[] {
    return this.calls.filter((c) => matchesFilter(c, filter)).map((c) => ({ ...c }));
  }

  count(filter?: CallFilter): number {
    return this.calls.filter((c) => matchesFilter(c, filter)).length;
  }

  clear(): void {
    this.calls = [];
  }
}
