import { Gauge, type Registry } from 'prom-client';
import { EXPIRES_AT_ANNOTATION, REGISTRY_ANNOTATION } from '@eatr/core';
import type { ClusterCache } from './cache/cluster-cache.js';

/**
 * `eatr_secret_expiry_timestamp_seconds{namespace,registry}`, read from the renewer's watch cache of
 * eatr's Secrets when Prometheus scrapes: no API request per scrape. Every renewer replica reports the
 * same truth, whoever renewed a Secret, and a Secret deleted on opt-out disappears from the next
 * scrape: no stale series. Use `max by (namespace, registry)` across replicas.
 */
export function registerExpiryGauge(registry: Registry, cache: ClusterCache): void {
  new Gauge({
    name: 'eatr_secret_expiry_timestamp_seconds',
    help: 'When the token in each eatr image pull Secret expires (Unix seconds); alert when it nears',
    labelNames: ['namespace', 'registry'],
    registers: [registry],
    collect() {
      this.reset();
      if (!cache.secrets.isSynced) return;
      for (const s of cache.secrets.objects.values()) {
        const expiresAt = Date.parse(s.observed.annotations[EXPIRES_AT_ANNOTATION] ?? '');
        const host = s.observed.annotations[REGISTRY_ANNOTATION];
        if (host && !Number.isNaN(expiresAt))
          this.set(
            { namespace: s.metadata.namespace, registry: host },
            Math.floor(expiresAt / 1000),
          );
      }
    },
  });
}
