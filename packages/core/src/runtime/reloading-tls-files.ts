import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/** PEM contents of a CA bundle and an optional client certificate and key. */
export interface TlsMaterial {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** Where each part of the TLS material is read from. */
export interface TlsFilePaths {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** How often the files may be read again, at most (a connect reads every part in one go). */
const RECHECK_MS = 1000;

/**
 * Reads the files and checks that they hold a certificate, a key and a matching pair; undefined when
 * any of that fails (a file mid-rotation, an unreadable path).
 */
export function readTlsFiles(paths: TlsFilePaths): TlsMaterial | undefined {
  try {
    const ca = paths.ca === undefined ? undefined : readFileSync(paths.ca, 'utf8');
    const cert = paths.cert === undefined ? undefined : readFileSync(paths.cert, 'utf8');
    const key = paths.key === undefined ? undefined : readFileSync(paths.key, 'utf8');
    if (ca !== undefined) new X509Certificate(ca);
    if (cert !== undefined && key !== undefined) {
      if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) return undefined;
    }
    return {
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * TLS material that follows its files. A Secret volume swaps all its files at once when the Secret
 * changes (cert-manager renewing a certificate, an admin rotating the CA); reading them again at
 * every connection means the next reconnect uses the new ones, with no restart. A set that does not
 * check out (unreadable, or a certificate that does not match its key) keeps the last good one, so a
 * half-finished rotation never breaks a connection that works.
 */
export class ReloadingTlsFiles {
  private current: TlsMaterial;
  private checkedAt: number;

  constructor(
    private readonly paths: TlsFilePaths,
    /** What was read and checked at start (a bad file then is a configuration error). */
    initial: TlsMaterial,
    private readonly now: () => number = Date.now,
  ) {
    this.current = initial;
    this.checkedAt = now();
  }

  /** The material as the files hold it now (read again at most once a second). */
  material(): TlsMaterial {
    const now = this.now();
    if (now - this.checkedAt >= RECHECK_MS) {
      this.checkedAt = now;
      this.current = readTlsFiles(this.paths) ?? this.current;
    }
    return this.current;
  }

  /**
   * Node TLS options whose `ca`, `cert` and `key` are getters. ioredis copies the options into each
   * new socket's options (Object.assign), which calls them: every connect and reconnect reads the
   * files as they are then.
   */
  connectionOptions(servername?: string): ConnectionOptions {
    const options: ConnectionOptions = servername ? { servername } : {};
    for (const part of ['ca', 'cert', 'key'] as const) {
      if (this.paths[part] === undefined) continue;
      Object.defineProperty(options, part, {
        enumerable: true,
        get: () => this.material()[part],
      });
    }
    return options;
  }
}
