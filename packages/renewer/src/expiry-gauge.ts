import { Gauge, type Registry } from 'prom-client';
import {
  EXPIRES_AT_ANNOTATION,
  desiredRegistries,
  nameOutputSecrets,
  ownershipOf,
  type PlanSettings,
} from '@eatr/core';
import type { ClusterCache } from './cache/cluster-cache.js';

/**
 * `eatr_secret_expiry_timestamp_seconds{namespace,registry}`, read from the renewer's watch cache of
 * eatr's Secrets when Prometheus scrapes: no API request per scrape. Every renewer replica reports the
 * same truth, whoever renewed a Secret, and a Secret deleted on opt-out disappears from the next
 * scrape: no stale series. Use `max by (namespace, registry)` across replicas.
 *
 * Only this release's Secrets that their namespace asks for are reported, under the registry host
 * the namespace's label (or the global list) names, never a Secret's own annotation: anyone can label
 * a Secret as eatr's and annotate it, and must not thereby invent metric labels or series.
 */
export function registerExpiryGauge(
  registry: Registry,
  cache: ClusterCache,
  settings: PlanSettings,
): void {
  new Gauge({
    name: 'eatr_secret_expiry_timestamp_seconds',
    help: 'When the token in each eatr image pull Secret expires (Unix seconds); alert when it nears',
    labelNames: ['namespace', 'registry'],
    registers: [registry],
    collect() {
      this.reset();
      if (!cache.secretsSynced) return;
      for (const name of cache.namespacesWithSecrets()) {
        const ns = cache.namespace(name);
        if (!ns || ns.metadata.terminating) continue;
        const { registries } = desiredRegistries(
          name,
          ns.metadata.labels,
          settings.global,
          settings.maxRegistries,
        );
        const wanted = new Map(
          nameOutputSecrets(settings.secretNameTemplate, registries).named.map((n) => [
            n.secretName,
            n.registry.host,
          ]),
        );
        for (const s of cache.secretsIn(name)) {
          const host = wanted.get(s.metadata.name);
          const owner = ownershipOf(s.observed, settings.instance);
          const expiresAt = Date.parse(s.observed.annotations[EXPIRES_AT_ANNOTATION] ?? '');
          if (host && (owner === 'ours' || owner === 'unstamped') && !Number.isNaN(expiresAt))
            this.set({ namespace: name, registry: host }, Math.floor(expiresAt / 1000));
        }
      }
    },
  });
}
