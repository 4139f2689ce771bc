import { request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/** Requests so far by `VERB resource`, for the resources eatr reads and writes. */
export type RequestCounts = ReadonlyMap<string, number>;

const RESOURCES = new Set(['secrets', 'serviceaccounts', 'namespaces', 'events']);

/**
 * Reads `apiserver_request_total` from the API server's own /metrics (admin kubeconfig): the count
 * of requests the server answered, whoever sent them, so a test counts eatr's API cost without
 * trusting eatr's own counters. WATCH requests are left out: a watch is one long request.
 */
export async function apiRequestCounts(kubeconfigPath: string): Promise<RequestCounts> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  const token = kc.getCurrentUser()?.token;
  if (!cluster || !token) throw new Error(`no cluster or token in ${kubeconfigPath}`);
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64') : undefined;
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      new URL('/metrics', cluster.server),
      { headers: { authorization: `Bearer ${token}` }, ...(ca ? { ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
  const counts = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
    const verb = /verb="([^"]*)"/.exec(line)?.[1] ?? '';
    const subresource = /subresource="([^"]*)"/.exec(line)?.[1] ?? '';
    if (!RESOURCES.has(resource) || subresource !== '' || verb === 'WATCH') continue;
    const key = `${verb} ${resource}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** What changed between two readings, without the zeros. */
export function requestDelta(after: RequestCounts, before: RequestCounts): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d > 0) out.set(key, d);
  }
  return out;
}
