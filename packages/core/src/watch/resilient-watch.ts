import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { Watch } from '../kube/client.js';
import { describeError, kubeStatus } from '../errors.js';
import type { Logger } from '../runtime/logger.js';
import { isAtLeast } from './resource-version.js';
import { withTimeout } from '../runtime/with-timeout.js';
import { backoffDelay, sleep } from '../runtime/backoff.js';

/**
 * `Accept` headers that make the API server send only the metadata of each object (PartialObjectMetadata,
 * as `kubectl get --show-kind` and client-go's metadata informers use): a watch of Secrets then never
 * carries their data.
 */
export const PARTIAL_OBJECT_METADATA =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
export const PARTIAL_OBJECT_METADATA_LIST =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** The same cluster and credentials, with every request asking for `accept`. */
function withAccept(kubeConfig: KubeConfig, accept: string): KubeConfig {
  const wrapped = Object.create(kubeConfig) as KubeConfig;
  wrapped.applySecurityAuthentication = async (context: RequestContext) => {
    await kubeConfig.applySecurityAuthentication(context);
    context.setHeaderParam('Accept', accept);
  };
  return wrapped;
}

/** The part of a Kubernetes object a watch needs. */
export interface WatchedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ListPage<T> {
  readonly items: T[] | null;
  readonly metadata?: { resourceVersion?: string; _continue?: string };
}

export interface ResilientWatchOptions<T extends WatchedObject> {
  /** Label for logs and the restart metric, e.g. `namespaces`. */
  readonly resource: string;
  /** API path to watch, e.g. `/api/v1/namespaces`. */
  readonly path: string;
  /** Selectors for the watch; `list` must apply the same ones. */
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Watch metadata only (PartialObjectMetadata): events carry no `data`, `spec` or `status`. `list`
   * must then ask for PARTIAL_OBJECT_METADATA_LIST itself.
   */
  readonly metadataOnly?: boolean;
  readonly list: (page: { limit: number; _continue?: string }) => Promise<ListPage<unknown>>;
  /** Objects per list page (default 500): smaller where each object can be large. */
  readonly pageSize?: number;
  /**
   * Turns what the API server sent into what is kept and passed on, e.g. a few metadata fields of a
   * Secret: a cache of 10,000 objects then holds what the decisions read, not whole objects.
   */
  readonly project: (raw: unknown) => T;
  /** Cache key; default the name (use `namespace/name` for a watch across namespaces). */
  readonly keyOf?: (object: T) => string | undefined;
  readonly kubeConfig: KubeConfig;
  /**
   * Called for every change, also for differences found by a relist (so an event missed while the
   * watch was down is still seen). `previous` is the last known version of the object.
   */
  readonly onEvent: (
    type: WatchEventType,
    object: T,
    previous: T | undefined,
  ) => void | Promise<void>;
  /** Called once the first list has been delivered. */
  readonly onSynced?: () => void;
  readonly onRestart?: (reason: string) => void;
  /** Restart a watch that delivered nothing (not even a bookmark) for this long. */
  readonly stallTimeoutMs: number;
  readonly log: Logger;
  /** Backoff after failures: first delay ceiling and maximum. Defaults 500 ms and 30 s. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/** Why one watch ended, and the last resourceVersion it delivered (where a resume starts). */
class WatchEnded extends Error {
  resumeFrom: string | undefined;

  constructor(
    readonly reason: 'expired' | 'gone' | 'stall' | 'error',
    message: string,
  ) {
    super(message);
  }
}

/** A watch shorter than this that ends "normally" is treated as a failure (no hot loop). */
const SHORTEST_HEALTHY_WATCH_MS = 1000;
/** A watch that ran this long was healthy: the next failure backs off from the start again. */
const HEALTHY_WATCH_MS = 10_000;

/**
 * List, then watch from the list's resourceVersion, forever: a watch that ends normally resumes, a 410
 * Gone relists (and reports what changed meanwhile), errors and API server restarts back off with
 * jitter, and a watchdog restarts a watch that went silent (half-open connections). `stop()` ends it.
 */
export class ResilientWatch<T extends WatchedObject> {
  private readonly known = new Map<string, T>();
  private readonly stopper = new AbortController();
  private current: AbortController | undefined;
  private running: Promise<void> | undefined;
  private synced = false;
  private version: string | undefined;
  private readonly versionWaiters = new Set<() => void>();
  private readonly keyOf: (object: T) => string | undefined;

  constructor(private readonly options: ResilientWatchOptions<T>) {
    this.keyOf = options.keyOf ?? ((o) => o.metadata?.name);
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** The last known state of every object, by key. */
  get objects(): ReadonlyMap<string, T> {
    return this.known;
  }

  get(key: string): T | undefined {
    return this.known.get(key);
  }

  /** The newest resourceVersion this watch has delivered (list, event or bookmark). */
  get resourceVersion(): string | undefined {
    return this.version;
  }

  /**
   * Waits until this watch has delivered `resourceVersion` or a later one, so a reader sees at least
   * the change that someone else (the watcher process) saw. Resolves false after `timeoutMs`.
   */
  async waitForVersion(resourceVersion: string, timeoutMs: number): Promise<boolean> {
    const reached = () =>
      this.synced && this.version !== undefined && isAtLeast(this.version, resourceVersion);
    if (reached()) return true;
    return new Promise<boolean>((resolve) => {
      const check = () => {
        if (!reached()) return;
        clearTimeout(timer);
        this.versionWaiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.versionWaiters.delete(check);
        resolve(reached());
      }, timeoutMs);
      this.versionWaiters.add(check);
    });
  }

  /**
   * Records a write this process made, so its own next read sees it before the watch echoes it.
   * Never rolls back: an entry the watch already has in a newer version stays.
   */
  remember(object: T): void {
    const key = this.keyOf(object);
    if (key === undefined) return;
    const known = this.known.get(key)?.metadata?.resourceVersion;
    const incoming = object.metadata?.resourceVersion;
    if (known && incoming && known !== incoming && isAtLeast(known, incoming)) return;
    this.known.set(key, object);
  }

  /** Forgets an object this process deleted. */
  forget(key: string): void {
    this.known.delete(key);
  }

  private advance(version: string | undefined): void {
    if (!version) return;
    if (this.version !== undefined && !isAtLeast(version, this.version)) return;
    this.version = version;
    for (const check of [...this.versionWaiters]) check();
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.current?.abort();
    await this.running;
  }

  // A getter, so the check inside the loop is not narrowed away: stop() flips it while we await.
  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private async loop(): Promise<void> {
    const { log, resource } = this.options;
    let failures = 0;
    let resourceVersion: string | undefined;
    while (!this.stopper.signal.aborted) {
      const started = Date.now();
      let ended: WatchEnded;
      try {
        resourceVersion ??= await this.relist();
        ended = await this.watchOnce(resourceVersion);
      } catch (error) {
        ended = new WatchEnded('error', describeError(error)); // the list failed
      }
      if (this.stopped) break;
      const lastedMs = Date.now() - started;
      if (lastedMs >= HEALTHY_WATCH_MS) failures = 0;
      // A normal end or a stall resumes from the last version delivered; after 410 Gone or an error
      // the stream may have missed events, so relist (which reports what changed meanwhile).
      resourceVersion =
        ended.reason === 'expired' || ended.reason === 'stall' ? ended.resumeFrom : undefined;
      if (ended.reason === 'expired' && lastedMs >= SHORTEST_HEALTHY_WATCH_MS) continue;
      this.options.onRestart?.(ended.reason);
      const delay =
        ended.reason === 'gone'
          ? 0
          : backoffDelay(
              failures++,
              this.options.backoffBaseMs ?? 500,
              this.options.backoffMaxMs ?? 30_000,
            );
      log.warn(
        { resource, reason: ended.reason, err: ended.message, lastedMs, retryInMs: delay },
        'watch restarting',
      );
      await sleep(delay, this.stopper.signal);
    }
  }

  /** Lists everything, reports differences from what was known, and returns the list's version. */
  private async relist(): Promise<string> {
    const items: T[] = [];
    let _continue: string | undefined;
    let resourceVersion = '';
    do {
      // A page that hangs (an API server failing over) must not stop the watch for good. Only the
      // fetch is bounded: an abandoned page has no effect, as differences are applied below.
      const page = await withTimeout(
        this.options.list({
          limit: this.options.pageSize ?? 500,
          ...(_continue ? { _continue } : {}),
        }),
        this.options.stallTimeoutMs,
        `list page did not arrive within ${this.options.stallTimeoutMs} ms`,
      );
      // A PartialObjectMetadataList with no items says "items": null.
      for (const raw of page.items ?? []) items.push(this.options.project(raw));
      resourceVersion ||= page.metadata?.resourceVersion ?? '';
      _continue = page.metadata?._continue;
    } while (_continue);
    const seen = new Set<string>();
    for (const item of items) {
      const name = this.keyOf(item);
      if (!name) continue;
      seen.add(name);
      const previous = this.known.get(name);
      this.known.set(name, item);
      if (!previous) await this.options.onEvent('ADDED', item, undefined);
      else if (previous.metadata?.resourceVersion !== item.metadata?.resourceVersion)
        await this.options.onEvent('MODIFIED', item, previous);
    }
    for (const [name, previous] of [...this.known]) {
      if (seen.has(name)) continue;
      this.known.delete(name);
      await this.options.onEvent('DELETED', previous, previous);
    }
    if (!this.synced) {
      this.synced = true;
      this.options.onSynced?.();
    }
    this.advance(resourceVersion);
    this.options.log.debug(
      { resource: this.options.resource, count: items.length, resourceVersion },
      'listed',
    );
    return resourceVersion;
  }

  /** One watch from `resourceVersion`, until it ends; resolves with why, and where to resume. */
  private watchOnce(resourceVersion: string): Promise<WatchEnded> {
    const { kubeConfig, path, stallTimeoutMs } = this.options;
    let lastVersion = resourceVersion;
    return new Promise<WatchEnded>((resolve) => {
      let settled = false;
      let watchdog: NodeJS.Timeout | undefined;
      const onStop = () => finish(new WatchEnded('expired', 'stopped'));
      const finish = (ended: WatchEnded) => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        this.stopper.signal.removeEventListener('abort', onStop);
        this.current?.abort();
        ended.resumeFrom = lastVersion;
        resolve(ended);
      };
      const petWatchdog = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(
          () => finish(new WatchEnded('stall', `no event for ${stallTimeoutMs} ms`)),
          stallTimeoutMs,
        );
      };
      // Chain events so handlers run in order even when they are async.
      let chain = Promise.resolve();
      const onEvent = (type: string, object: unknown) => {
        petWatchdog();
        chain = chain
          .then(() => this.handle(type, object))
          .then(
            (version) => {
              if (version) lastVersion = version;
              this.advance(version);
            },
            (error: unknown) =>
              finish(
                error instanceof WatchEnded ? error : new WatchEnded('error', describeError(error)),
              ),
          );
      };
      const onDone = (error: unknown) => {
        void chain.then(() => {
          if (error === null || error === undefined)
            return finish(new WatchEnded('expired', 'watch ended'));
          if (kubeStatus(error) === 410)
            return finish(new WatchEnded('gone', 'resource version too old'));
          if (error instanceof Error && error.name === 'TimeoutError')
            return finish(new WatchEnded('stall', describeError(error)));
          finish(new WatchEnded('error', describeError(error)));
        });
      };
      petWatchdog();
      const watch = new Watch(
        this.options.metadataOnly ? withAccept(kubeConfig, PARTIAL_OBJECT_METADATA) : kubeConfig,
      );
      // client-node's Watch aborts a stream that is quiet for 30 s (its private requestTimeoutMs),
      // but the API server sends bookmarks only about once a minute: on a quiet cluster every watch
      // would end that way. Our watchdog (stallTimeoutMs) is the one inactivity timeout.
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = stallTimeoutMs + 5000;
      watch
        .watch(
          path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            labelSelector: this.options.labelSelector,
            fieldSelector: this.options.fieldSelector,
            // End a healthy watch well before the watchdog fires; it then resumes from lastVersion.
            timeoutSeconds: Math.max(1, Math.floor((stallTimeoutMs * 0.8) / 1000)),
          },
          onEvent,
          onDone,
        )
        .then(
          (controller) => {
            this.current = controller;
            if (settled || this.stopper.signal.aborted) controller.abort();
          },
          (error: unknown) => onDone(error),
        );
      this.stopper.signal.addEventListener('abort', onStop, { once: true });
    });
  }

  /** Applies one watch event; returns its resourceVersion. */
  private async handle(type: string, raw: unknown): Promise<string | undefined> {
    if (type === 'ERROR') {
      const status = raw as { code?: number; message?: string };
      throw new WatchEnded(status.code === 410 ? 'gone' : 'error', status.message ?? 'watch error');
    }
    const version = (raw as WatchedObject).metadata?.resourceVersion;
    if (type === 'BOOKMARK') return version;
    const object = this.options.project(raw);
    const name = this.keyOf(object);
    if (!name) return version;
    const previous = this.known.get(name);
    if (type === 'DELETED') {
      this.known.delete(name);
      await this.options.onEvent('DELETED', object, previous);
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      // An echo older than what this process itself wrote (remember()) must not roll the cache back.
      const known = previous?.metadata?.resourceVersion;
      const incoming = object.metadata?.resourceVersion;
      if (known && incoming && known !== incoming && isAtLeast(known, incoming)) return version;
      this.known.set(name, object);
      await this.options.onEvent(previous ? 'MODIFIED' : 'ADDED', object, previous);
    }
    return version;
  }
}
