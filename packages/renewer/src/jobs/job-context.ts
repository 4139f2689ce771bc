import type { NamespaceSync } from '../sync/namespace-sync.js';
import type { SweepDependencies } from '../sync/sweep.js';
import type { TokenSource } from '../sync/ports.js';

/** What every kind of job needs: a sweep's dependencies, and the sync and tokens of syncs and probes. */
export interface JobContext extends Omit<SweepDependencies, 'job' | 'now'> {
  readonly sync: NamespaceSync;
  readonly tokens: TokenSource;
  /** Whether renewers with newer settings run: this one then leaves every job to them. */
  readonly superseded: () => boolean;
}
