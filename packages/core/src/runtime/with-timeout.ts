/**
 * Rejects with `message` when `promise` has not settled within `ms`. The work itself goes on (a
 * request cannot always be cancelled); the caller stops waiting for it. For calls to an API server
 * that may hang on a half-open connection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
