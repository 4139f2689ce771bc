/**
 * The benchmark's own Kubernetes client: node:https with one keep-alive Agent (so connections are
 * reused and the client costs little CPU on a 2-core machine shared with the API server), which
 * counts every API request it makes by the API server's verb and resource. Phases that count the
 * API server's requests subtract these, so only eatr's requests remain.
 */
import { Agent, request } from 'node:https';

export interface KubeAnswer {
  readonly status: number;
  readonly body: string;
}

export class KubeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  /** Statuses that are answers, not errors (e.g. 404 for a read that may miss). */
  readonly allow?: readonly number[];
}

/** `verb resource[/subresource]` as apiserver_request_total labels it, or undefined for non-API paths. */
export function apiRequestKey(method: string, path: string): string | undefined {
  const [pathname = '', query = ''] = path.split('?');
  let segments = pathname.split('/').filter((s) => s !== '');
  if (segments[0] === 'api') segments = segments.slice(2);
  else if (segments[0] === 'apis') segments = segments.slice(3);
  else return undefined;
  let resource: string | undefined;
  let name: string | undefined;
  let sub: string | undefined;
  if (segments[0] === 'namespaces' && segments.length >= 3) {
    [, , resource, name, sub] = segments;
  } else {
    [resource, name, sub] = segments;
  }
  if (resource === undefined) return undefined;
  const params = new URLSearchParams(query);
  const watching = params.get('watch') === '1' || params.get('watch') === 'true';
  let verb = method.toUpperCase();
  if (verb === 'GET') verb = name !== undefined ? 'GET' : watching ? 'WATCH' : 'LIST';
  else if (verb === 'DELETE' && name === undefined) verb = 'DELETECOLLECTION';
  return `${verb} ${resource}${sub === undefined ? '' : `/${sub}`}`;
}

export class RawKube {
  private readonly agent: Agent;
  /** Every API request this client finished, by `verb resource`: the benchmark's own requests. */
  readonly counts = new Map<string, number>();

  constructor(
    readonly server: string,
    readonly ca: string,
    private readonly token: string,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ca });
  }

  count(key: string | undefined): void {
    if (key !== undefined) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** A snapshot of {@link counts}. */
  ownRequests(): Map<string, number> {
    return new Map(this.counts);
  }

  headers(accept = 'application/json'): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, accept };
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<KubeAnswer> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = this.headers(options.accept);
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise<KubeAnswer>((resolve, reject) => {
      const req = request(
        `${this.server}${path}`,
        { method, agent: this.agent, headers, timeout: 60_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            this.count(apiRequestKey(method, path));
            const status = res.statusCode ?? 0;
            const body = Buffer.concat(chunks).toString('utf8');
            if ((status >= 200 && status < 300) || (options.allow ?? []).includes(status))
              resolve({ status, body });
            else
              reject(
                new KubeError(status, `${method} ${path}: ${status} ${body.slice(0, 300).trim()}`),
              );
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const answer = await this.request(method, path, options);
    return JSON.parse(answer.body) as T;
  }

  /** A streaming GET (a watch); `onLine` gets each newline-delimited line. Resolves when it ends. */
  stream(
    path: string,
    accept: string,
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const req = request(
        `${this.server}${path}`,
        // Its own connection: a watch holds one for as long as it runs.
        { method: 'GET', agent: false, ca: this.ca, headers: this.headers(accept), signal },
        (res) => {
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let nl = buffer.indexOf('\n');
            while (nl >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              if (line.trim() !== '') onLine(line);
              nl = buffer.indexOf('\n');
            }
          });
          const finish = () => {
            this.count(apiRequestKey('GET', path));
            resolve(res.statusCode ?? 0);
          };
          res.on('end', finish);
          res.on('error', (error) => {
            this.count(apiRequestKey('GET', path));
            reject(error);
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
