import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { join } from 'node:path';
import type { FakeAwsEndpoint } from '../../harness/aws/index.js';
import { authorizeEcrPull, type EcrPullDecision } from '../../harness/aws/ecr-registry-auth.js';
import { freePort } from '../../harness/free-port.js';
import { ServerProcess, waitUntilReady } from '../../harness/server-process.js';
import { signServingCertificate } from '../../harness/test-pki.js';
import type { TestPki } from '../../harness/test-pki.js';

/** One request to the ECR-named host: who asked, and whether the front let it through. */
export interface RegistryAccess {
  readonly at: string;
  readonly method: string;
  readonly path: string;
  /** 'none' without credentials; 'AWS' with an ECR token; anything else is a wrong user. */
  readonly user: string;
  readonly status: number;
  readonly reason: 'open' | EcrPullDecision;
}

export interface EcrNamedRegistryOptions {
  readonly dir: string;
  readonly registryBinary: string;
  /** Address of the TLS front (port 443), where the node's /etc/hosts puts both host names. */
  readonly address: string;
  readonly pki: TestPki;
  /** Serves without authentication (eatr's own images, the pause image). */
  readonly openHost: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com`: only user `AWS` with a live ECR token. */
  readonly ecrHost: string;
  /** `public.ecr.aws`: the same images, only user `AWS` with a live ECR Public token. */
  readonly publicHost: string;
  readonly aws: FakeAwsEndpoint;
  /** The registry process is added here so the node stops it with the rest. */
  readonly processes: ServerProcess[];
}

/**
 * The distribution registry (v3, on loopback, plain HTTP, no authentication of its own) behind a
 * TLS front with the test CA's certificate for both host names. For the ECR-named host the front
 * accepts exactly what ECR would (authorizeEcrPull): Basic authentication as user `AWS` with the
 * password of a token the ECR stand-in issued for this registry's account and region that has not
 * expired and was not revoked; anything else is answered 401 with a Basic challenge, as ECR answers. (The registry's own htpasswd holds one password per
 * user, but several ECR tokens are valid at once.)
 */
export class EcrNamedRegistry {
  private readonly revoked = new Set<string>();
  private readonly accessLog: RegistryAccess[] = [];

  private constructor(
    private readonly front: Server,
    private readonly backend: string,
    private readonly options: EcrNamedRegistryOptions,
  ) {}

  static async start(options: EcrNamedRegistryOptions): Promise<EcrNamedRegistry> {
    mkdirSync(options.dir, { recursive: true });
    const port = await freePort();
    const backend = `127.0.0.1:${port}`;
    const config = join(options.dir, 'config.yml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(options.dir, 'storage')}`,
        'http:',
        `  addr: ${backend}`,
        '',
      ].join('\n'),
    );
    const registry = await ServerProcess.spawn({
      name: 'registry',
      command: options.registryBinary,
      args: ['serve', config],
      logPath: join(options.dir, 'registry.log'),
      cwd: options.dir,
      // Distribution 3 exports traces to localhost:4318 unless told not to.
      env: { OTEL_TRACES_EXPORTER: 'none' },
    });
    options.processes.push(registry);
    await waitUntilReady(
      registry,
      `serving http://${backend}/v2/`,
      async () => (await fetch(`http://${backend}/v2/`)).ok,
      60_000,
    );

    const { certPath, keyPath } = await signServingCertificate(
      options.pki,
      options.dir,
      'registry',
      [`DNS:${options.openHost}`, `DNS:${options.ecrHost}`, `DNS:${options.publicHost}`],
    );
    const front = createServer({
      cert: await readFile(certPath),
      key: await readFile(keyPath),
    });
    const instance = new EcrNamedRegistry(front, backend, options);
    front.on('request', (req: IncomingMessage, res: ServerResponse) => instance.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.listen(443, options.address, () => {
        front.off('error', reject);
        resolve();
      });
    });
    return instance;
  }

  /** The ECR-named host refuses this token's password from now on (as after a rotation). */
  revoke(password: string): void {
    this.revoked.add(password);
  }

  /** Requests to the ECR-named host, oldest first. */
  accesses(): RegistryAccess[] {
    return [...this.accessLog];
  }

  /** Pushes an OCI image layout (test/e2e/images/build-images.sh) as `<repository>:<tag>`. */
  async pushLayout(layout: string, repository: string, tag: string): Promise<void> {
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    const manifestDigest = index.manifests[0]?.digest;
    if (manifestDigest === undefined) throw new Error(`${layout}: index.json lists no manifest`);
    const blob = (digest: string) => readFile(join(layout, 'blobs', ...digest.split(':')));
    const manifestBytes = await blob(manifestDigest);
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as {
      mediaType: string;
      config: { digest: string };
      layers: Array<{ digest: string }>;
    };
    const base = `http://${this.backend}/v2/${repository}`;
    for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
      if ((await fetch(`${base}/blobs/${digest}`, { method: 'HEAD' })).ok) continue;
      const started = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
      const location = started.headers.get('location');
      if (started.status !== 202 || location === null) {
        throw new Error(`push ${repository}: upload start answered ${started.status}`);
      }
      const target = new URL(location, `http://${this.backend}`);
      target.searchParams.set('digest', digest);
      const put = await fetch(target, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: await blob(digest),
      });
      if (put.status !== 201) {
        throw new Error(
          `push ${repository}: blob ${digest} answered ${put.status} ${await put.text()}`,
        );
      }
    }
    const put = await fetch(`${base}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType },
      body: manifestBytes,
    });
    if (put.status !== 201) {
      throw new Error(
        `push ${repository}:${tag}: manifest answered ${put.status} ${await put.text()}`,
      );
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.front.close(() => resolve());
      this.front.closeAllConnections();
    });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    if (host === this.options.ecrHost || host === this.options.publicHost) {
      const decision = this.authorize(req.headers.authorization, host);
      const record = (status: number) =>
        this.accessLog.push({
          at: new Date().toISOString(),
          method,
          path,
          user: decision.user,
          status,
          reason: decision.reason,
        });
      if (decision.reason !== 'accepted') {
        record(401);
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': `Basic realm="https://${host}/",service="ecr.amazonaws.com"`,
        });
        res.end(
          JSON.stringify({
            errors: [
              {
                code: 'DENIED',
                message: 'Your authorization token has expired. Reauthenticate and try again.',
              },
            ],
          }),
        );
        return;
      }
      res.once('finish', () => record(res.statusCode));
    } else if (host !== this.options.openHost) {
      res.writeHead(404).end();
      return;
    }
    const headers = { ...req.headers, 'x-forwarded-proto': 'https' };
    delete headers.authorization;
    const upstream = httpRequest(`http://${this.backend}${path}`, { method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(upstream);
  }

  private authorize(authorization: string | undefined, host: string) {
    return authorizeEcrPull(
      authorization,
      host,
      this.options.aws.issuedTokens(),
      this.revoked,
      Date.now(),
    );
  }
}
