import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';

/** One request that went through the proxy, and what the API server answered. */
export interface RecordedExchange {
  readonly method: string;
  /** Path and query, e.g. `/api/v1/namespaces/x/secrets?watch=true&...`. */
  readonly url: string;
  readonly accept: string;
  status: number;
  /** The response body as it arrived so far (a watch keeps adding to it). */
  body: string;
}

/**
 * A plain-HTTP reverse proxy on loopback in front of the test kube-apiserver that records every
 * request and response body, so a test can see exactly what a process asked for and received (TLS
 * hides that from a TcpProxy). Point a process at it with `kubeconfig()`: the bearer token is
 * forwarded as sent.
 */
export class RecordingApiProxy {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly exchanges: readonly RecordedExchange[],
  ) {}

  static async start(adminKubeconfigPath: string): Promise<RecordingApiProxy> {
    const kc = new KubeConfig();
    kc.loadFromFile(adminKubeconfigPath);
    const cluster = kc.getCurrentCluster();
    if (!cluster?.caData) throw new Error(`${adminKubeconfigPath} has no inline CA`);
    const upstream = new URL(cluster.server);
    const ca = Buffer.from(cluster.caData, 'base64');
    const exchanges: RecordedExchange[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const exchange: RecordedExchange = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        accept: req.headers.accept ?? '',
        status: 0,
        body: '',
      };
      exchanges.push(exchange);
      const forward = httpsRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: exchange.method,
          path: exchange.url,
          headers: { ...req.headers, host: upstream.host },
          ca,
        },
        (answer) => {
          exchange.status = answer.statusCode ?? 0;
          res.writeHead(exchange.status, answer.headers);
          answer.on('data', (chunk: Buffer) => {
            exchange.body += chunk.toString('utf8');
            res.write(chunk);
          });
          answer.on('end', () => res.end());
          answer.on('error', () => res.destroy());
        },
      );
      forward.on('error', () => res.destroy());
      res.on('close', () => forward.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new RecordingApiProxy(server, `http://127.0.0.1:${port}`, exchanges);
  }

  /**
   * A copy of a kubeconfig that talks to this proxy. client-node sends requests over plain HTTP only
   * with `insecure-skip-tls-verify` (there is no TLS to verify on loopback). Returns its path.
   */
  async kubeconfig(path: string, suffix: string): Promise<string> {
    const config = parse(await readFile(path, 'utf8')) as {
      clusters: { cluster: Record<string, unknown> }[];
    };
    for (const entry of config.clusters)
      entry.cluster = { server: this.url, 'insecure-skip-tls-verify': true };
    const copy = `${path}.${suffix}`;
    await writeFile(copy, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    return copy;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
