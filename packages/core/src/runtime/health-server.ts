import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly registry: Registry;
  /** /readyz answers 200 only while this is true (e.g. watches synced, Redis reachable). */
  readonly isReady: () => boolean;
  /** /healthz answers 200 while this is true (the process is not wedged). Default: always. */
  readonly isHealthy?: () => boolean;
}

/** Serves /metrics, /healthz and /readyz on one port. `close()` is safe to call twice. */
export class HealthServer {
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(options: HealthServerOptions): Promise<HealthServer> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      const answer = (ok: boolean) => {
        response
          .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
          .end(ok ? 'ok\n' : 'not ready\n');
      };
      if (path === '/healthz') return answer(options.isHealthy?.() ?? true);
      if (path === '/readyz') return answer(options.isReady());
      if (path === '/metrics') {
        options.registry.metrics().then(
          (text) =>
            response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
          (error: unknown) => response.writeHead(500).end(`metrics failed: ${String(error)}\n`),
        );
        return;
      }
      response.writeHead(404).end('not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
    return new HealthServer(server, (server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
