import { describeError, sleep, type Logger } from '@eatr/core';
import type { GenerationRecord } from './generation-store.js';

/** How long the newest settings stay newest after their last renewer stopped refreshing them. */
export const GENERATION_TTL_MS = 15_000;

export interface ConfigurationGuardOptions {
  readonly store: {
    claim(fingerprint: string, ttlMs: number): Promise<GenerationRecord>;
    refresh(fingerprint: string, ttlMs: number): Promise<GenerationRecord>;
  };
  /** This renewer's settingsFingerprint(). */
  readonly fingerprint: string;
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

  /** Claims the newest generation for this renewer's settings, then keeps it (or watches it). */
  async start(): Promise<GenerationRecord> {
    const record = await this.o.store.claim(this.o.fingerprint, this.ttlMs);
    this.o.superseded.set(0);
    this.o.log.info(
      { generation: record.generation, fingerprint: this.o.fingerprint },
      'renewer settings claimed as the newest',
    );
    this.loop ??= this.keep();
    return record;
  }

  /** Stops refreshing (the record expires unless other renewers with these settings keep it). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
  }

  private async keep(): Promise<void> {
    const { log } = this.o;
    for (;;) {
      await sleep(this.ttlMs / 3, this.stopper.signal);
      if (this.stopped) return;
      try {
        const newest = await this.o.store.refresh(this.o.fingerprint, this.ttlMs);
        const superseded = newest.fingerprint !== this.o.fingerprint;
        if (superseded === this.superseded) continue;
        this.superseded = superseded;
        this.o.superseded.set(superseded ? 1 : 0);
        if (superseded) {
          log.warn(
            { generation: newest.generation, newest: newest.fingerprint, own: this.o.fingerprint },
            'renewers with newer settings run: this one takes no jobs while they do',
          );
          await this.o.onSuperseded();
        } else {
          log.info(
            { generation: newest.generation, fingerprint: this.o.fingerprint },
            'no renewer with newer settings is left: taking jobs again',
          );
          await this.o.onCurrent();
        }
      } catch (error) {
        // Redis unreachable: the worker cannot take jobs either; keep the last decision.
        log.debug({ err: describeError(error) }, 'could not check the settings generation');
      }
    }
  }
}
