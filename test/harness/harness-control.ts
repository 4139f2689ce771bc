import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { listenOnLoopback } from './free-port.js';

/**
 * The channel through which a test worker asks the global setup to restart a server it owns.
 *
 * Why not let the worker restart the process itself: the worker ends after its test file, so the
 * new server would be an orphan, out of reach of the owner's exit hooks and parent-death signal
 * (a crashed run would leave it running), and in this container PID 1 never reaps orphans (every
 * stopped one would stay a zombie). With this channel every server keeps one owner.
 *
 * Loopback HTTP; the URL carries a random secret so nothing else on the machine can use it.
 */

export type HarnessActionHandler = (input: unknown) => Promise<unknown>;

export interface HarnessControl {
  /** `http://127.0.0.1:<port>/<secret>`; actions are POSTed to `<url>/<action>`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startHarnessControl(
  handlers: Readonly<Record<string, HarnessActionHandler>>,
): Promise<HarnessControl> {
  const secret = randomBytes(16).toString('hex');
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    const [, key, action] = (req.url ?? '').split('/');
    const handler = action === undefined ? undefined : handlers[action];
    if (req.method !== 'POST' || key !== secret || handler === undefined) {
      res.writeHead(404).end();
      return;
    }
    // One action at a time: two restarts at once would fight over the same port.
    const run = queue.then(async () => handler(await readJson(req)));
    queue = run.catch(() => undefined);
    run.then(
      (result) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result: result ?? null }));
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      },
    );
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/${secret}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs an action in the global setup's process and returns its result. */
export async function callHarnessControl(
  url: string,
  action: string,
  input: unknown = {},
): Promise<unknown> {
  const response = await fetch(`${url}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
    // A kube-apiserver restart on two busy cores can take a minute.
    signal: AbortSignal.timeout(180_000),
  });
  if (response.status === 404) throw new Error(`the harness has no action ${action}`);
  const answer = (await response.json()) as { result?: unknown; error?: string };
  if (!response.ok)
    throw new Error(`harness action ${action} failed: ${answer.error ?? response.status}`);
  return answer.result;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  req.setEncoding('utf8');
  for await (const chunk of req) text += chunk as string;
  return text === '' ? {} : (JSON.parse(text) as unknown);
}
