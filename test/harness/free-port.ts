import { createServer, type Server } from 'node:net';

/**
 * Listens on 127.0.0.1 (or `host`, e.g. the e2e node's bridge address that Pods reach) on a port the
 * kernel picks, and resolves with that port.
 */
export async function listenOnLoopback(server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address to read');
  return address.port;
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it). Another process
 * could take it before the caller binds it; the ephemeral range makes that rare enough for tests.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
