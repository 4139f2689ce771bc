import type { RenewerConfig } from './component-config.js';

/**
 * The longest one sync can take: an STS call and an ECR call, each up to `ecr-max-attempts` tries of
 * `ecr-timeout`, plus a few seconds of Kubernetes writes. A shutdown timeout shorter than this can cut
 * a sync off (it is not lost: another renewer runs it again once the lock expires).
 */
export function longestSyncMs(
  config: Pick<RenewerConfig, 'ecrMaxAttempts' | 'ecrTimeoutMs'>,
): number {
  return 2 * config.ecrMaxAttempts * config.ecrTimeoutMs + 5000;
}
