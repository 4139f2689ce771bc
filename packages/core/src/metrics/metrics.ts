import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BuildInfo } from '../runtime/build-info.js';

/**
 * A fresh registry with process metrics and `eatr_build_info{component,version,commit}`. Each
 * process (or test) owns one; processes pass BUILD_INFO.
 */
export function createRegistry(component: string, build: BuildInfo): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'eatr_build_info',
    help: 'Always 1; labels say which component, version and git commit this process runs',
    labelNames: ['component', 'version', 'commit'],
    registers: [registry],
  }).set({ component, version: build.version, commit: build.commit }, 1);
  return registry;
}

/** Metrics the renewer exports. The first two keep the seed controller's exact names. */
export function createRenewerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    secretsCreated: new Counter({
      name: 'secrets_created_total',
      help: 'Number of image pull secrets created or updated (seed metric)',
      labelNames: ['namespace', 'name'],
      registers,
    }),
    secretRenewals: new Counter({
      name: 'secret_renewals_total',
      help: 'Number of secret renewals made (seed metric)',
      registers,
    }),
    ecrCalls: new Counter({
      name: 'eatr_ecr_calls_total',
      help: 'ECR GetAuthorizationToken calls by region and result',
      labelNames: ['region', 'result'],
      registers,
    }),
    ecrCallDuration: new Histogram({
      name: 'eatr_ecr_call_duration_seconds',
      help: 'Latency of ECR GetAuthorizationToken calls, retries included',
      labelNames: ['region'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    syncs: new Counter({
      name: 'eatr_syncs_total',
      help: 'Namespace sync jobs by result',
      labelNames: ['result'],
      registers,
    }),
    syncDuration: new Histogram({
      name: 'eatr_sync_duration_seconds',
      help: 'Duration of namespace sync jobs',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    secretActions: new Counter({
      name: 'eatr_secret_actions_total',
      help: 'Secret decisions by action',
      labelNames: ['action'],
      registers,
    }),
    cacheWatchRestarts: new Counter({
      name: 'eatr_renewer_watch_restarts_total',
      help: 'Restarts of the watches that feed the renewer caches, by resource (a stale cache shows here)',
      labelNames: ['resource'],
      registers,
    }),
    ownershipConflicts: new Counter({
      name: 'eatr_ownership_conflicts_total',
      help: 'Secrets eatr would write but does not manage (left untouched)',
      labelNames: ['namespace'],
      registers,
    }),
    credentialErrors: new Counter({
      name: 'eatr_credential_errors_total',
      help: 'Failures to get a token, by registry and reason',
      labelNames: ['registry', 'reason'],
      registers,
    }),
    ignoredLabels: new Counter({
      name: 'eatr_ignored_labels_total',
      help: 'Namespace labels that look like an ECR host but are not one',
      registers,
    }),
    sweeps: new Counter({
      name: 'eatr_sweeps_total',
      help: 'Sweeps run, by result',
      labelNames: ['result'],
      registers,
    }),
    sweepEnqueued: new Counter({
      name: 'eatr_sweep_enqueued_total',
      help: 'Namespaces a sweep found due and enqueued',
      registers,
    }),
    superseded: new Gauge({
      name: 'eatr_renewer_superseded',
      help: 'Whether renewers with newer settings run, so this one takes no jobs (1) or it takes jobs (0)',
      registers,
    }),
    jobsHandedBack: new Counter({
      name: 'eatr_jobs_handed_back_total',
      help: 'Jobs this release cannot read (a newer release wrote them), by job and outcome: delayed for a newer renewer, or dropped after the last hand-back',
      labelNames: ['job', 'outcome'],
      registers,
    }),
  };
}
export type RenewerMetrics = ReturnType<typeof createRenewerMetrics>;

/** Metrics the watcher exports. */
export function createWatcherMetrics(registry: Registry) {
  const registers = [registry];
  return {
    watchEvents: new Counter({
      name: 'eatr_watch_events_total',
      help: 'Watch events seen, by resource and type',
      labelNames: ['resource', 'type'],
      registers,
    }),
    jobsEnqueued: new Counter({
      name: 'eatr_jobs_enqueued_total',
      help: 'Jobs enqueued, by reason (a sync per namespace)',
      labelNames: ['reason'],
      registers,
    }),
    jobsDeduplicated: new Counter({
      name: 'eatr_jobs_deduplicated_total',
      help: 'Sync jobs not added because one was already waiting for that namespace',
      registers,
    }),
    watchRestarts: new Counter({
      name: 'eatr_watch_restarts_total',
      help: 'Watch restarts (errors, expiry, stalls), by resource',
      labelNames: ['resource'],
      registers,
    }),
    leader: new Gauge({
      name: 'eatr_leader',
      help: '1 while this watcher holds the leader Lease',
      registers,
    }),
  };
}
export type WatcherMetrics = ReturnType<typeof createWatcherMetrics>;
