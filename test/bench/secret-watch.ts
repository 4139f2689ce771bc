/**
 * One metadata-only watch on eatr's Secrets (label-selected, all namespaces) that the benchmark uses
 * instead of polling: when a namespace's Secret first appeared (label-to-Secret latency), each
 * Secret's `eatr.io/renew-after` (renewal waves), and how many writes happened (a sweep over fresh
 * Secrets must cause none). A watch is one API request however long it runs, so the benchmark's own
 * reads do not disturb the API request counts.
 */
import { describeError, sleep } from './common.js';
import type { RawKube } from './raw-kube.js';

const META_LIST =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const META = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
  readonly annotations?: Record<string, string>;
}

interface MetaList {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items?: readonly { readonly metadata?: ObjectMeta }[];
}

interface WatchEvent {
  readonly type?: string;
  readonly object?: { readonly metadata?: ObjectMeta; readonly code?: number };
}

export interface WatchedSecret {
  readonly namespace: string;
  readonly name: string;
  /** performance.now() when the watch first saw it. */
  readonly firstSeenAt: number;
  /** epoch ms of `eatr.io/renew-after`, NaN when missing. */
  renewAfter: number;
  /** performance.now() of the last ADDED/MODIFIED event. */
  lastWriteAt: number;
}

export class SecretWatch {
  private readonly secrets = new Map<string, WatchedSecret>();
  private readonly waiters = new Map<string, (at: number) => void>();
  private resourceVersion = '';
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;
  /** ADDED and MODIFIED events seen (writes to eatr Secrets). */
  writes = 0;
  /** Times the watch had to be started again (server timeouts, errors). */
  restarts = 0;

  private constructor(
    private readonly kube: RawKube,
    private readonly selector: string,
    private readonly renewAfterAnnotation: string,
  ) {}

  static async start(
    kube: RawKube,
    selector: string,
    renewAfterAnnotation: string,
  ): Promise<SecretWatch> {
    const watch = new SecretWatch(kube, selector, renewAfterAnnotation);
    await watch.relist();
    watch.loop = watch.run();
    return watch;
  }

  get(namespace: string, name: string): WatchedSecret | undefined {
    return this.secrets.get(`${namespace}/${name}`);
  }

  /** Resolves with performance.now() when the Secret first appears (at once if it exists). */
  appeared(namespace: string, name: string): Promise<number> {
    const known = this.get(namespace, name);
    if (known) return Promise.resolve(known.firstSeenAt);
    return new Promise((resolve) => this.waiters.set(`${namespace}/${name}`, resolve));
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop?.catch(() => undefined);
  }

  private path(extra: Record<string, string>): string {
    const params = new URLSearchParams({ labelSelector: this.selector, ...extra });
    return `/api/v1/secrets?${params.toString()}`;
  }

  private async relist(): Promise<void> {
    let cont: string | undefined;
    do {
      const list = await this.kube.json<MetaList>(
        'GET',
        this.path({ limit: '500', ...(cont ? { continue: cont } : {}) }),
        { accept: META_LIST },
      );
      for (const item of list.items ?? []) this.observe('LISTED', item.metadata);
      this.resourceVersion = list.metadata?.resourceVersion ?? this.resourceVersion;
      cont = list.metadata?.continue || undefined;
    } while (cont);
  }

  // A getter, so checks inside the loop are not narrowed away: stop() flips it while we await.
  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopper.signal.aborted) {
      const relist = { needed: false };
      try {
        const status = await this.kube.stream(
          this.path({
            watch: '1',
            allowWatchBookmarks: 'true',
            resourceVersion: this.resourceVersion,
            timeoutSeconds: '3600',
          }),
          META,
          (line) => {
            const event = JSON.parse(line) as WatchEvent;
            if (event.type === 'ERROR') {
              if (event.object?.code === 410) relist.needed = true;
              return;
            }
            const rv = event.object?.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (event.type !== 'BOOKMARK') this.observe(event.type ?? '', event.object?.metadata);
          },
          this.stopper.signal,
        );
        if (status === 410) relist.needed = true;
      } catch (error) {
        if (this.stopped) return;
        console.log(`(secret watch ended: ${describeError(error)}; starting it again)`);
        await sleep(500);
      }
      if (this.stopped) return;
      this.restarts++;
      if (relist.needed) await this.relist().catch(() => sleep(1000));
    }
  }

  private observe(type: string, meta: ObjectMeta | undefined): void {
    const { namespace, name } = meta ?? {};
    if (!namespace || !name) return;
    const key = `${namespace}/${name}`;
    if (type === 'DELETED') {
      this.secrets.delete(key);
      return;
    }
    const now = performance.now();
    const renewAfter = Date.parse(meta?.annotations?.[this.renewAfterAnnotation] ?? '');
    if (type !== 'LISTED') this.writes++;
    const known = this.secrets.get(key);
    if (known) {
      known.renewAfter = renewAfter;
      known.lastWriteAt = now;
      return;
    }
    this.secrets.set(key, { namespace, name, firstSeenAt: now, renewAfter, lastWriteAt: now });
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      waiter(now);
    }
  }
}
