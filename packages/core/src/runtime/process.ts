import { CommanderError } from 'commander';
import { ConfigError } from '../config/config-error.js';
import type { Logger } from 'pino';

/** Something a process started and must stop on shutdown. `close()` must be safe to call twice. */
export interface Closable {
  close(): Promise<void>;
}

export interface ProcessOptions<C> {
  readonly name: string;
  /** Parses and validates configuration; throws ConfigError. */
  readonly loadConfig: () => C;
  readonly shutdownTimeoutMs: (config: C) => number;
  readonly createLogger: (config: C) => Logger;
  readonly start: (config: C, log: Logger) => Promise<Closable>;
}

/**
 * Runs a long-lived component: a bad setting exits 2 with one line naming it; SIGTERM/SIGINT close it
 * within the shutdown timeout (then exit anyway); a crash is logged and exits 1.
 */
export async function runProcess<C>(options: ProcessOptions<C>): Promise<void> {
  let config: C;
  try {
    config = options.loadConfig();
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode); // --help
    const message = error instanceof ConfigError ? error.message : String(error);
    process.stderr.write(`${options.name}: invalid configuration: ${message}\n`);
    process.exit(2);
  }
  const log = options.createLogger(config);
  let component: Closable | undefined;
  let stopping = false;

  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const timeoutMs = options.shutdownTimeoutMs(config);
    log.info({ signal, timeoutMs }, 'shutting down');
    const timer = setTimeout(() => {
      log.warn(
        { timeoutMs },
        'shutdown timed out; exiting with jobs still running (they return to the queue)',
      );
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    void (component?.close() ?? Promise.resolve()).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled promise rejection');
    process.exit(1);
  });

  try {
    component = await options.start(config, log);
  } catch (error) {
    log.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
