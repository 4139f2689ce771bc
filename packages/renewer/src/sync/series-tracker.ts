import type { RenewerMetrics } from '@eatr/core';

/**
 * The per-namespace metric series (`secrets_created_total{namespace,name}`,
 * `eatr_ownership_conflicts_total{namespace}`), removed again on opt-out and namespace deletion, so a
 * cluster that churns namespaces does not grow the renewer's memory and every scrape without bound.
 */
export class SeriesTracker {
  private readonly secrets = new Map<string, Set<string>>();
  private readonly conflicts = new Set<string>();

  constructor(private readonly metrics: RenewerMetrics) {}

  secretWritten(namespace: string, name: string): void {
    this.metrics.secretsCreated.inc({ namespace, name });
    let names = this.secrets.get(namespace);
    if (!names) this.secrets.set(namespace, (names = new Set()));
    names.add(name);
  }

  conflict(namespace: string): void {
    this.metrics.ownershipConflicts.inc({ namespace });
    this.conflicts.add(namespace);
  }

  dropSecret(namespace: string, name: string): void {
    const names = this.secrets.get(namespace);
    if (!names?.delete(name)) return;
    this.metrics.secretsCreated.remove({ namespace, name });
    if (names.size === 0) this.secrets.delete(namespace);
  }

  dropNamespace(namespace: string): void {
    for (const name of this.secrets.get(namespace) ?? [])
      this.metrics.secretsCreated.remove({ namespace, name });
    this.secrets.delete(namespace);
    if (this.conflicts.delete(namespace)) this.metrics.ownershipConflicts.remove({ namespace });
  }

  /** Namespaces with series (for tests and debugging). */
  get namespaces(): number {
    return new Set([...this.secrets.keys(), ...this.conflicts]).size;
  }
}
