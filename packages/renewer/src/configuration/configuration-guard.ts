import { describeError, sleep, type Logger } from '@eatr/core';
import type { GenerationRecord } from './generation-store.js';

/** How long the newest settings stay newest after their last renewer stopped refreshing them. */
export const GENERATION_TTL_MS = 15_000;

export interface ConfigurationGuardOptions {
  readonly store: {
    claim(fingerprint: string, revision: number, ttlMs: number): Promise<GenerationRecord>;
    refresh(fingerprint: string, revision: number, ttlMs: number): Promise<GenerationRecord>;
  };
  /** This renewer's settingsFingerprint(). */
  readonly fingerprint: string;
  /** `--settings-revision`: the highest wins; among equal ones, the settings started last. */
  readonly revision: number;
  /** Newer settings run elsewhere: stop taking jobs (running ones finish). */
  readonly onSuperseded: () => Promise<void>;
  /** This renewer's settings are the newest again (their renewers are gone): take jobs. */
  readonly onCurrent: () => Promise<void>;
  /** 1 while superseded. */
  readonly superseded: { set(value: number): void };
  readonly log: Logger;
  /** Default GENERATION_TTL_MS; the record is refreshed three times per period. */
  readonly ttlMs?: number;
}

/**
 * Keeps renewers whose settings differ (a changed Secret name template, registry list,
 * include/exclude, ServiceAccount list or e-mail, during a rollout) from undoing each other's work:
 * the settings a renewer started with become the newest generation, and a renewer whose settings are
 * not the newest takes no jobs, so it neither writes, deletes nor patches, until the newer settings'
 * renewers are all gone (their record expires after GENERATION_TTL_MS) and it takes over again.
 */
export class ConfigurationGuard {
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;
  private superseded = false;
  /** Whether the start-up claim reached Redis; until then the loop claims instead of refreshing. */
  private claimed = false;

  constructor(private readonly o: ConfigurationGuardOptions) {}

  /** Whether renewers with newer settings run (this one takes no jobs meanwhile). */
  get isSuperseded(): boolean {
    return this.superseded;
  }

  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private get ttlMs(): number {
    return this.o.ttlMs ?? GENERATION_TTL_MS;
  }

  /**
   * Claims the newest generation for this renewer's settings, then keeps it (or watches it). Redis
   * may not be up yet (a chart install starts everything at once): then the renewer starts taking
   * jobs as it did before generations existed, and the loop claims as soon as Redis answers.
   * Returns the newest settings, or undefined when the claim waits for Redis.
   */
  async start(): Promise<GenerationRecord | undefined> {
    this.o.superseded.set(0);
    let record: GenerationRecord;
    try {
      record = await this.o.store.claim(this.o.fingerprint, this.o.revision, this.ttlMs);
      this.claimed = true;
    } catch (error) {
      this.o.log.warn(
        { err: describeError(error) },
        'could not record the settings generation yet (Redis unreachable); will retry',
      );
      this.loop ??= this.keep();
      return undefined;
    }
    this.loop ??= this.keep();
    if (record.fingerprint === this.o.fingerprint) {
      this.o.log.info(
        {
          generation: record.generation,
          fingerprint: this.o.fingerprint,
          revision: this.o.revision,
        },
        'renewer settings claimed as the newest',
      );
      return record;
    }
    // Settings of a higher revision run: this renewer starts stepped aside (its owner pauses the
    // workers once they run; a job taken before that is left to the others, see stepAside).
    this.superseded = true;
    this.o.superseded.set(1);
    this.o.log.warn(
      { newest: record.fingerprint, newestRevision: record.revision, revision: this.o.revision },
      'renewers with newer settings run: this one takes no jobs while they do',
    );
    return record;
  }

  /** Stops refreshing (the record expires unless other renewers with these settings keep it). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
  }

  /** Stops or resumes taking jobs when whether these settings are the newest changed. */
  private async transition(newest: GenerationRecord): Promise<void> {
    const superseded = newest.fingerprint !== this.o.fingerprint;
    if (superseded === this.superseded) return;
    this.superseded = superseded;
    this.o.superseded.set(superseded ? 1 : 0);
    const fields = {
      generation: newest.generation,
      newest: newest.fingerprint,
      newestRevision: newest.revision,
      own: this.o.fingerprint,
      revision: this.o.revision,
    };
    if (superseded) {
      this.o.log.warn(
        fields,
        'renewers with newer settings run: this one takes no jobs while they do',
      );
      await this.o.onSuperseded();
    } else {
      this.o.log.info(fields, 'no renewer with newer settings is left: taking jobs again');
      await this.o.onCurrent();
    }
  }

  private async keep(): Promise<void> {
    const { log } = this.o;
    for (;;) {
      await sleep(this.ttlMs / 3, this.stopper.signal);
      if (this.stopped) return;
      try {
        const { fingerprint, revision } = this.o;
        const newest = this.claimed
          ? await this.o.store.refresh(fingerprint, revision, this.ttlMs)
          : await this.o.store.claim(fingerprint, revision, this.ttlMs);
        this.claimed = true;
        await this.transition(newest);
      } catch (error) {
        // Redis unreachable: the worker cannot take jobs either; keep the last decision.
        log.debug({ err: describeError(error) }, 'could not check the settings generation');
      }
    }
  }
}
