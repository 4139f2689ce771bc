import { LEGACY_QUEUE_NAME } from '../jobs/job-data.js';
import type { RedisClient } from '../runtime/redis.js';
import {
  formatBlockedKey,
  parseBlockedKey,
  parseBlockedSubject,
  type BlockedKey,
} from './blocked-key.js';
import { LOCAL_REASONS, type BlockedEntry } from './blocked-entry.js';

/** `subject` is a Secret name or a serviceAccountKey(), as the per-namespace maps key them. */
const field = (namespace: string, subject: string) =>
  formatBlockedKey({ namespace, subject: parseBlockedSubject(subject) });

/**
 * The Redis key of the blocked records under a queue prefix. Named after the first queue and kept so:
 * renewers of every release share one set of records.
 */
export function blockedStoreKey(prefix: string): string {
  return `${prefix}:${LEGACY_QUEUE_NAME}:blocked`;
}

/**
 * Blocked pairs, in one Redis hash beside the queue (same hash tag, so Redis Cluster keeps it in the
 * queue's slot). Holds names, reasons and versions only, never secret values. Shared by every renewer.
 */
export class BlockedStore {
  private readonly key: string;

  /** `redis` is a producer connection this store does not own; `prefix` the queue's key prefix. */
  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.key = blockedStoreKey(prefix);
  }

  /** The entries of some Secrets of one namespace. */
  async get(namespace: string, secretNames: readonly string[]): Promise<Map<string, BlockedEntry>> {
    const out = new Map<string, BlockedEntry>();
    if (secretNames.length === 0) return out;
    const { redis } = this;
    const values = await redis.hmget(this.key, ...secretNames.map((n) => field(namespace, n)));
    secretNames.forEach((name, i) => {
      const entry = parse(values[i] ?? null);
      if (entry) out.set(name, entry);
    });
    return out;
  }

  /** Every entry, by `namespace/secretName`. */
  async all(): Promise<Map<string, BlockedEntry>> {
    const { redis } = this;
    const raw = await redis.hgetall(this.key);
    const out = new Map<string, BlockedEntry>();
    for (const [key, value] of Object.entries(raw)) {
      const entry = parse(value);
      if (entry) out.set(key, entry);
    }
    return out;
  }

  async set(namespace: string, secretName: string, entry: BlockedEntry): Promise<void> {
    const { redis } = this;
    await redis.hset(this.key, field(namespace, secretName), JSON.stringify(entry));
  }

  async clear(namespace: string, secretNames: readonly string[]): Promise<void> {
    if (secretNames.length === 0) return;
    const { redis } = this;
    await redis.hdel(this.key, ...secretNames.map((n) => field(namespace, n)));
  }

  /** Forgets every pair of a namespace (deleted, or terminating). */
  async clearNamespace(namespace: string): Promise<void> {
    const fields: string[] = [];
    let cursor = '0';
    do {
      // Namespace names are DNS labels: nothing in them is special to MATCH.
      const [next, found] = await this.redis.hscan(
        this.key,
        cursor,
        'MATCH',
        `${namespace}/*`,
        'COUNT',
        500,
      );
      cursor = next;
      for (let i = 0; i < found.length; i += 2) fields.push(found[i] ?? '');
    } while (cursor !== '0');
    if (fields.length > 0) await this.redis.hdel(this.key, ...fields);
  }

  /** Forgets pairs by their `namespace/secretName` keys (the sweep prunes what is no longer wanted). */
  async clearKeys(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.redis.hdel(this.key, ...keys);
  }

  /** The keys of pairs blocked for `registry` by an AWS-side reason. */
  async blockedByAws(registry: string): Promise<BlockedKey[]> {
    const entries = await this.all();
    return [...entries]
      .filter(([, e]) => e.registry === registry && !LOCAL_REASONS.has(e.reason))
      .flatMap(([field]) => parseBlockedKey(field) ?? []);
  }

  /**
   * Forgets every pair blocked for `registry` by an AWS-side reason (its credentials work again);
   * returns their keys.
   */
  async clearRegistry(registry: string): Promise<BlockedKey[]> {
    const keys = await this.blockedByAws(registry);
    if (keys.length > 0) await this.redis.hdel(this.key, ...keys.map(formatBlockedKey));
    return keys;
  }
}

function parse(value: string | null | undefined): BlockedEntry | undefined {
  if (!value) return undefined;
  try {
    const entry = JSON.parse(value) as Partial<BlockedEntry>;
    return typeof entry.fingerprint === 'string' &&
      typeof entry.reason === 'string' &&
      typeof entry.registry === 'string' &&
      typeof entry.since === 'number'
      ? (entry as BlockedEntry)
      : undefined;
  } catch {
    return undefined;
  }
}
