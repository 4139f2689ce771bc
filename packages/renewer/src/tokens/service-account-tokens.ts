import type { CoreV1Api } from '@kubernetes/client-node';
import type { ServiceAccountTokens } from './role-sessions.js';

/**
 * TokenRequest (`create serviceaccounts/token`): a bound token of one ServiceAccount for one
 * audience, held in memory only for the STS call it is made for. The chart's admission policy lets
 * the renewer ask only for audience sts.amazonaws.com and the ServiceAccounts --tenant-roles names.
 */
export class ApiServerServiceAccountTokens implements ServiceAccountTokens {
  constructor(private readonly core: CoreV1Api) {}

  async request(
    namespace: string,
    serviceAccount: string,
    audience: string,
    expirationSeconds: number,
  ): Promise<string> {
    const response = await this.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: { spec: { audiences: [audience], expirationSeconds } },
    });
    const token = response.status?.token;
    if (!token) throw new Error('the API server returned no token');
    return token;
  }
}
