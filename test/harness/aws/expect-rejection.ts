/**
 * The error a promise rejects with, typed loosely enough to read the SDK's extra fields
 * (`$metadata`, `code`); fails when the promise resolves instead.
 */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error as Error & Record<string, unknown>;
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail, but it succeeded');
}
