import type { CoreV1Api } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import {
  EXPIRES_AT_ANNOTATION,
  MANAGED_SELECTOR,
  REGISTRY_ANNOTATION,
  type Logger,
} from '@eatr/core';

/**
 * `eatr_secret_expiry_timestamp_seconds{namespace,registry}`, read from the Secrets themselves when
 * Prometheus scrapes (cached briefly). Every renewer replica reports the same truth, whoever renewed
 * a Secret, and a Secret deleted on opt-out disappears from the next scrape: no stale series. Use
 * `max by (namespace, registry)` across replicas.
 */
export function registerExpiryGauge(
  registry: Registry,
  core: CoreV1Api,
  log: Logger,
  cacheMs = 15_000,
): void {
  let fetchedAt = 0;
  let cached: { namespace: string; registry: string; expiresAt: number }[] = [];
  new Gauge({
    name: 'eatr_secret_expiry_timestamp_seconds',
    help: 'When the token in each eatr image pull Secret expires (Unix seconds); alert when it nears',
    labelNames: ['namespace', 'registry'],
    registers: [registry],
    async collect() {
      if (Date.now() - fetchedAt > cacheMs) {
        try {
          const next: typeof cached = [];
          let _continue: string | undefined;
          do {
            const page = await core.listSecretForAllNamespaces({
              labelSelector: MANAGED_SELECTOR,
              limit: 500,
              ...(_continue ? { _continue } : {}),
            });
            for (const s of page.items) {
              const expiresAt = Date.parse(s.metadata?.annotations?.[EXPIRES_AT_ANNOTATION] ?? '');
              const host = s.metadata?.annotations?.[REGISTRY_ANNOTATION];
              if (host && !Number.isNaN(expiresAt))
                next.push({ namespace: s.metadata?.namespace ?? '', registry: host, expiresAt });
            }
            _continue = page.metadata?._continue;
          } while (_continue);
          cached = next;
          fetchedAt = Date.now();
        } catch (error) {
          log.warn(
            { err: String(error) },
            'could not list Secrets for the expiry metric; serving the last values',
          );
        }
      }
      this.reset();
      for (const s of cached)
        this.set({ namespace: s.namespace, registry: s.registry }, Math.floor(s.expiresAt / 1000));
    },
  });
}
