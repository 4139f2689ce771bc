import { PermanentError, cappedExponential, renewAfter } from '@eatr/core';
import type { EcrToken } from '../aws/ecr-token-client.js';

export interface TokenCacheOptions {
  /** A cached token is reused until it is this old (or half its lifetime): the Secrets' renewal rule. */
  readonly renewalIntervalMs: number;
  /**
   * How long a permanent failure (bad keys, access denied) is remembered, so a wave of syncs causes
   * no retry storm: `firstMs` after the first failure, doubling with each failure in a row up to
   * `maxMs`. Defaults 5 s and 1 minute: a cause fixed outside the cluster is seen within a minute.
   */
  readonly failureBackoff?: { readonly firstMs: number; readonly maxMs: number };
  readonly now?: () => number;
  /** Most entries kept; the oldest go first. Default 10,000. */
  readonly maxEntries?: number;
}

/** What the cache keeps: anything with a lifetime (an ECR token, an assumed role's session). */
export interface Expiring {
  readonly expiresAt: number;
  /** When it was received (local clock). */
  readonly fetchedAt: number;
}

type Entry<T> =
  | { readonly kind: 'token'; readonly token: T }
  | {
      readonly kind: 'failure';
      readonly error: PermanentError;
      readonly until: number;
      /** Failures in a row, for the growing TTL. */
      readonly count: number;
    };

export interface TokenRequestOptions {
  /** Ask AWS even if a failure is remembered (a forced sync, a probe). */
  readonly ignoreFailure?: boolean;
  /** Do not reuse a token fetched before this time (ms since the epoch): a forced renewal. */
  readonly fetchedSince?: number;
}

/**
 * In-process cache of ECR tokens keyed by (credentials, region): one ECR call serves every namespace
 * and registry those credentials reach in that region. Concurrent requests for a key share one call
 * (single flight). Tokens live only in this process's memory: never in Redis, logs or job data.
 */
export class TokenCache<T extends Expiring = EcrToken> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly inFlight = new Map<string, Promise<T>>();
  private readonly now: () => number;
  private readonly failureBackoff: { readonly firstMs: number; readonly maxMs: number };
  private readonly maxEntries: number;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.now ?? Date.now;
    this.failureBackoff = options.failureBackoff ?? { firstMs: 5000, maxMs: 60_000 };
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /**
   * A token that is not itself due for renewal, from the cache or from `fetch`. A permanent failure is
   * remembered (see `failureBackoff`) and thrown again without calling ECR, unless `ignoreFailure`.
   */
  async get(key: string, fetch: () => Promise<T>, options: TokenRequestOptions = {}): Promise<T> {
    const now = this.now();
    const entry = this.entries.get(key);
    if (
      entry?.kind === 'token' &&
      entry.token.fetchedAt >= (options.fetchedSince ?? 0) &&
      now < renewAfter(entry.token.fetchedAt, entry.token.expiresAt, this.options.renewalIntervalMs)
    ) {
      return entry.token;
    }
    if (entry?.kind === 'failure' && now < entry.until && !options.ignoreFailure) throw entry.error;
    const running = this.inFlight.get(key);
    if (running) return running;
    const call = fetch().then(
      (token) => {
        this.store(key, { kind: 'token', token });
        return token;
      },
      (error: unknown) => {
        if (error instanceof PermanentError) {
          const previous = this.entries.get(key);
          const count = previous?.kind === 'failure' ? previous.count + 1 : 1;
          const { firstMs, maxMs } = this.failureBackoff;
          const ttl = cappedExponential(count - 1, firstMs, maxMs);
          this.store(key, { kind: 'failure', error, until: this.now() + ttl, count });
        } else this.entries.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, call);
    try {
      return await call;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Number of cached entries (tokens and remembered failures). */
  get size(): number {
    return this.entries.size;
  }

  private store(key: string, entry: Entry<T>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
