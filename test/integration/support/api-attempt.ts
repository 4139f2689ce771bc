import { ApiException } from '@kubernetes/client-node';

/** What the API server answered: 'allowed', or the status and message of the refusal. */
export async function attempt(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return 'allowed';
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = error.body;
    const message =
      typeof body === 'string'
        ? ((JSON.parse(body) as { message?: string }).message ?? body)
        : JSON.stringify(body);
    return `${error.code} ${message}`;
  }
}
