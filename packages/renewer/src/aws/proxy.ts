import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ProxyAgent } from 'proxy-agent';

export interface ProxySettings {
  readonly https: string | undefined;
  readonly http: string | undefined;
  readonly noProxy: readonly string[];
}

/**
 * True when a request to `host` (with `port`) must bypass the proxy, by curl's NO_PROXY rules:
 * `*` matches everything; `example.com` and `.example.com` match that host and its subdomains; an entry
 * with `:port` matches only that port; IP addresses match exactly.
 */
export function bypassesProxy(host: string, port: number, noProxy: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  for (const raw of noProxy) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const portMatch = /^(.*):(\d+)$/.exec(entry);
    const entryHost = (portMatch?.[1] ?? entry).replace(/^\*?\./, '').replace(/^\[|\]$/g, '');
    if (portMatch && Number(portMatch[2]) !== port) continue;
    if (name === entryHost || name.endsWith(`.${entryHost}`)) return true;
  }
  return false;
}

/** The proxy URL for one request URL, or '' for a direct connection. */
export function proxyFor(url: string, settings: ProxySettings): string {
  const target = new URL(url);
  const proxy = target.protocol === 'https:' ? (settings.https ?? settings.http) : settings.http;
  if (!proxy) return '';
  const port = target.port ? Number(target.port) : target.protocol === 'https:' ? 443 : 80;
  return bypassesProxy(target.hostname, port, settings.noProxy) ? '' : proxy;
}

/**
 * The HTTP handler every AWS client (ECR, STS, the credential chain) is built with: the AWS SDK
 * ignores HTTPS_PROXY by itself, so the proxy is applied here, with NO_PROXY honoured per request.
 */
export function createRequestHandler(settings: ProxySettings, timeoutMs: number): NodeHttpHandler {
  // Without throwOnRequestTimeout the handler only logs a warning when requestTimeout passes and keeps
  // waiting: a hung ECR or STS call would stall the job.
  const options = {
    requestTimeout: timeoutMs,
    connectionTimeout: Math.min(timeoutMs, 5000),
    throwOnRequestTimeout: true,
  };
  if (!settings.https && !settings.http) return new NodeHttpHandler(options);
  const agent = new ProxyAgent({
    getProxyForUrl: (url: string) => proxyFor(url, settings),
    keepAlive: true,
  });
  return new NodeHttpHandler({ ...options, httpAgent: agent, httpsAgent: agent });
}
