import type { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';

/**
 * TLS failures a reconnect cannot fix while the process keeps the CA, certificate and key it read at
 * start (a rotated certificate), by Node's error codes.
 */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Whether a Redis error is one that only new credentials fix: a password Redis refuses (rotated), or
 * a TLS handshake that fails on certificates (rotated). Undefined for everything a reconnect can fix
 * (Redis restarting, a network blip, a failover).
 */
export function credentialFailure(error: unknown): 'auth' | 'tls' | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (TLS_CODES.has(code) || code.startsWith('ERR_SSL'))) return 'tls';
  if (/\b(NOAUTH|WRONGPASS)\b|invalid password|invalid username-password/i.test(error.message))
    return 'auth';
  return undefined;
}

export interface RedisHealthOptions {
  /** How long credential failures may last, with no successful connection, before the process is unhealthy. */
  readonly unhealthyAfterMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * The state of a process's Redis connections, for its probes. Readiness: every watched connection is
 * up. Liveness: fails once Redis has refused the process's password or certificates for
 * `unhealthyAfterMs` with no connection getting through. The password comes from the environment,
 * read once at start, so a rotated one is picked up by the restart Kubernetes then makes; TLS files
 * are read again at each reconnect (ReloadingTlsFiles), and this catches what that cannot fix.
 */
export class RedisHealth {
  private readonly up = new Map<EventEmitter, boolean>();
  private failingSince: number | undefined;
  private readonly now: () => number;

  constructor(private readonly options: RedisHealthOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Follows one connection's events (ready, close, end, error). */
  watch(client: EventEmitter): this {
    // A connection that got ready before it was watched (ioredis's `status`).
    this.up.set(client, (client as { status?: unknown }).status === 'ready');
    client.on('ready', () => {
      this.up.set(client, true);
      if (this.failingSince !== undefined)
        this.options.log.info('Redis accepts our credentials again');
      this.failingSince = undefined;
    });
    const down = () => this.up.set(client, false);
    client.on('close', down);
    client.on('end', down);
    client.on('error', (error: unknown) => {
      const failure = credentialFailure(error);
      if (failure === undefined || this.failingSince !== undefined) return;
      this.failingSince = this.now();
      this.options.log.warn(
        { reason: failure, unhealthyAfterMs: this.options.unhealthyAfterMs },
        'Redis refuses our credentials; unhealthy (restart) if no connection gets through meanwhile',
      );
    });
    return this;
  }

  /** Every watched connection is ready. */
  get isUp(): boolean {
    return [...this.up.values()].every(Boolean);
  }

  /** False once credential failures have lasted `unhealthyAfterMs` with no connection getting through. */
  get isHealthy(): boolean {
    return (
      this.failingSince === undefined ||
      this.now() - this.failingSince < this.options.unhealthyAfterMs
    );
  }
}
