import { request, type RequestOptions } from 'node:https';
import type { JsonWebKey } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterOidc } from './aws/oidc-verifier.js';

/**
 * The cluster as IAM sees it once its issuer is registered as an OIDC provider: the issuer from
 * `/.well-known/openid-configuration` and the keys from `/openid/v1/jwks`, read from the real API
 * server (the keys on every call, as IAM refreshes them).
 */
export async function clusterOidc(kubeconfigPath: string): Promise<ClusterOidc> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new Error(`${kubeconfigPath} names no cluster`);
  const get = async (path: string): Promise<unknown> => {
    const options: RequestOptions = { timeout: 5_000 };
    await kc.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = request(`${server}${path}`, options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body))
            : reject(new Error(`GET ${path}: ${res.statusCode} ${body}`)),
        );
      });
      req.on('error', reject);
      req.end();
    });
  };
  const discovery = (await get('/.well-known/openid-configuration')) as { issuer: string };
  return {
    issuer: discovery.issuer,
    jwks: async () => ((await get('/openid/v1/jwks')) as { keys: JsonWebKey[] }).keys,
  };
}
