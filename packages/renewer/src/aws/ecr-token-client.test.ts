import { ECRClient } from '@aws-sdk/client-ecr';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, it, vi } from 'vitest';
import { SdkEcrTokenClient } from './ecr-token-client.js';

const expiresAt = new Date('2026-11-24T12:00:00Z');

/** ECR clients built by the real constructor whose `send` answers locally. */
function localClients() {
  const created: ECRClient[] = [];
  const createClient = (config: ConstructorParameters<typeof ECRClient>[0]) => {
    const client = new ECRClient(config ?? {});
    vi.spyOn(client, 'send').mockResolvedValue({
      authorizationData: [
        { authorizationToken: Buffer.from('AWS:pw').toString('base64'), expiresAt },
      ],
    } as never); // `send` is overloaded; this test needs only the promise form's answer
    created.push(client);
    return client;
  };
  return { created, createClient };
}

describe('SdkEcrTokenClient', () => {
  it('reuses one client per credentials and region', async () => {
    const { created, createClient } = localClients();
    const ecr = new SdkEcrTokenClient({
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
      createClient,
    });
    const keys = { accessKeyId: 'AKIA1', secretAccessKey: 's' };
    await ecr.getAuthorizationToken({ keys }, 'eu-west-1');
    await ecr.getAuthorizationToken({ keys }, 'eu-west-1');
    await ecr.getAuthorizationToken({ keys }, 'us-east-1');
    expect(created).toHaveLength(2);
  });

  it('evicts old clients without destroying the request handler every client shares', async () => {
    const handler = new NodeHttpHandler();
    const destroy = vi.spyOn(handler, 'destroy');
    const { created, createClient } = localClients();
    const ecr = new SdkEcrTokenClient({ requestHandler: handler, maxAttempts: 1, createClient });
    for (let i = 0; i < 300; i++) {
      const token = await ecr.getAuthorizationToken(
        { keys: { accessKeyId: `AKIA${i}`, secretAccessKey: 's' } },
        'eu-west-1',
      );
      expect(token).toMatchObject({ password: 'pw', expiresAt: expiresAt.getTime() });
    }
    expect(created).toHaveLength(300);
    expect(destroy).not.toHaveBeenCalled();
  });
});
