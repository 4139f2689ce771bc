import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenOnLoopback } from '../free-port.js';
import { AwsServiceError, MESSAGES } from './aws-errors.js';
import type { AwsErrorKind, AwsService } from './aws-errors.js';
import { CallLog } from './call-log.js';
import type { AwsCall, CallFilter, CallRecord, ProxyMode } from './call-log.js';
import { CredentialStore } from './credential-store.js';
import type { CredentialConfig, IssuedSession, Principal, RoleConfig } from './credential-store.js';
import { ecrAction, ecrError, ecrPublicAction, ecrSuccess } from './ecr-json-protocol.js';
import { EcrTokenIssuer, registryEndpoint } from './ecr-token-issuer.js';
import type { IssuedToken } from './ecr-token-issuer.js';
import { FailureInjector } from './failure-injector.js';
import type { FailureKind } from './failure-injector.js';
import { parseAuthorizationHeader, SigV4VerificationError, verifySigV4 } from './sigv4-verifier.js';
import type { ReceivedRequest, SigV4FailureReason } from './sigv4-verifier.js';
import { stsError, stsSessionResponse } from './sts-query-protocol.js';
import type { WireResponse } from './wire-response.js';

export interface FakeAwsEndpointOptions {
  /** Keys accepted from the start (more with addCredentials). */
  readonly credentials?: readonly CredentialConfig[];
  readonly roles?: readonly RoleConfig[];
  /** ECR token lifetime: `expiresAt` = now + this. Default 12 h. */
  readonly tokenLifetimeMs?: number;
  /** How long a `slow` call waits before answering. Default 10 s. */
  readonly slowResponseMs?: number;
  /** The endpoint's clock (epoch ms) for signatures, expiries and the Date header. Default Date.now. */
  readonly now?: () => number;
  /** Largest accepted distance between X-Amz-Date and the endpoint's clock. Default 5 min. */
  readonly maxClockSkewMs?: number;
  /** Address to listen on; default 127.0.0.1 (the e2e node uses its bridge address, for Pods). */
  readonly host?: string;
}

/** Requests larger than this are refused; the SDK's calls are a few hundred bytes. */
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_SLOW_RESPONSE_MS = 10_000;

type Operation =
  | { readonly service: 'ecr' | 'ecr-public'; readonly action: string; readonly known: boolean }
  | { readonly service: 'sts'; readonly action: string; readonly params: URLSearchParams };

/** Which AwsErrorKind each signature failure is answered with. */
const SIGNATURE_FAILURES: Readonly<Record<SigV4FailureReason, AwsErrorKind>> = {
  'missing-authentication': 'missing-authentication',
  'incomplete-signature': 'incomplete-signature',
  'unknown-access-key': 'unrecognized-client',
  'signature-mismatch': 'invalid-signature',
  'request-expired': 'invalid-signature',
  'invalid-security-token': 'unrecognized-client',
};

/**
 * A local stand-in for ECR (GetAuthorizationToken, JSON 1.1) and STS (AssumeRole,
 * AssumeRoleWithWebIdentity, query protocol) on 127.0.0.1, reached by unmodified AWS SDK clients
 * through their ordinary endpoint settings. Every signed request's SigV4 signature is verified.
 *
 * It doubles as a forward proxy for itself: a request in absolute form (`POST http://any-host/`)
 * or a CONNECT tunnel (plain HTTP inside) is served as if sent directly, and the call log records
 * `viaProxy`, so a test can point HTTP(S)_PROXY here and prove the product used the proxy.
 */
export class FakeAwsEndpoint {
  private readonly store = new CredentialStore();
  private readonly tokens = new EcrTokenIssuer();
  private readonly log = new CallLog();
  private readonly failures = new FailureInjector();
  private readonly sessions: IssuedSession[] = [];
  private readonly sockets = new Set<Duplex>();
  private readonly tunnelled = new WeakSet<object>();
  private readonly shutdown = new AbortController();
  private readonly now: () => number;
  private readonly maxClockSkewMs: number | undefined;
  private slowResponseMs: number;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    options: FakeAwsEndpointOptions,
    readonly host = '127.0.0.1',
  ) {
    this.now = options.now ?? Date.now;
    this.maxClockSkewMs = options.maxClockSkewMs;
    this.slowResponseMs = options.slowResponseMs ?? DEFAULT_SLOW_RESPONSE_MS;
    for (const c of options.credentials ?? []) this.store.addCredentials(c);
    for (const r of options.roles ?? []) this.store.addRole(r);
    if (options.tokenLifetimeMs !== undefined) this.tokens.setLifetime(options.tokenLifetimeMs);
  }

  /** Starts listening on 127.0.0.1 (or `options.host`) on a free port. */
  static async start(options: FakeAwsEndpointOptions = {}): Promise<FakeAwsEndpoint> {
    const server = createServer();
    const host = options.host ?? '127.0.0.1';
    const port = await listenOnLoopback(server, host);
    const endpoint = new FakeAwsEndpoint(server, port, options, host);
    endpoint.attach();
    return endpoint;
  }

  /** `http://127.0.0.1:<port>`: the endpoint URL for ECR and STS clients alike. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** The environment that points an AWS SDK v3 process at this endpoint. */
  env(): {
    AWS_ENDPOINT_URL_ECR: string;
    AWS_ENDPOINT_URL_ECR_PUBLIC: string;
    AWS_ENDPOINT_URL_STS: string;
  } {
    return {
      AWS_ENDPOINT_URL_ECR: this.url,
      AWS_ENDPOINT_URL_ECR_PUBLIC: this.url,
      AWS_ENDPOINT_URL_STS: this.url,
    };
  }

  addCredentials(credentials: CredentialConfig): void {
    this.store.addCredentials(credentials);
  }

  /** Forgets a key: its next call is answered UnrecognizedClientException. */
  removeCredentials(accessKeyId: string): boolean {
    return this.store.removeCredentials(accessKeyId);
  }

  addRole(role: RoleConfig): void {
    this.store.addRole(role);
  }

  removeRole(arn: string): boolean {
    return this.store.removeRole(arn);
  }

  /** ECR tokens issued from now on expire `ms` after issue. */
  setTokenLifetime(ms: number): void {
    this.tokens.setLifetime(ms);
  }

  /**
   * STS sessions issued from now on last `ms` (rounded down to whole seconds, as STS reports
   * Expiration) whatever DurationSeconds asked; undefined = as asked (default 1 h).
   */
  setSessionLifetime(ms: number | undefined): void {
    this.store.setSessionLifetime(ms);
  }

  /** How long `slow` calls wait before answering. */
  setSlowResponseDelay(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('slow response delay must be >= 0 ms');
    this.slowResponseMs = ms;
  }

  /** Every ECR token handed out, oldest first. */
  issuedTokens(): IssuedToken[] {
    return this.tokens.list();
  }

  /** Every STS session handed out, oldest first. */
  issuedSessions(): IssuedSession[] {
    return [...this.sessions];
  }

  /** Every request received (answered, failed, injected or rejected), oldest first. */
  calls(filter?: CallFilter): AwsCall[] {
    return this.log.list(filter);
  }

  callCount(filter?: CallFilter): number {
    return this.log.count(filter);
  }

  /** The next `count` calls matching `filter` (that pass authentication) fail with `kind`. */
  failNext(count: number, kind: FailureKind, filter?: CallFilter): void {
    this.failures.failNext(count, kind, filter);
  }

  /** Every call signed with `accessKeyId` fails with `kind`, until set to undefined. */
  setBehaviour(accessKeyId: string, kind: FailureKind | undefined): void {
    this.failures.setBehaviour(accessKeyId, kind);
  }

  /**
   * Forgets calls, issued tokens and sessions, injected failures and behaviours, and restores the
   * default token lifetime. Credentials and roles stay, and tokens stay distinct across resets.
   */
  reset(): void {
    this.log.clear();
    this.tokens.reset();
    this.failures.reset();
    this.sessions.length = 0;
    this.store.setSessionLifetime(undefined);
  }

  /** Closes the server and every open connection. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.shutdown.abort();
      this.server.close(() => {
        resolve();
      });
      for (const socket of this.sockets) socket.destroy();
      this.server.closeAllConnections();
    });
    return this.stopping;
  }

  private attach(): void {
    this.server.on('connection', (socket: Duplex) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Act as the proxy: accept the tunnel and serve what comes through it ourselves.
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      this.tunnelled.add(socket);
      if (head.length > 0) socket.unshift(head);
      this.server.emit('connection', socket);
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the harness: make it loud rather than a hanging client.
        console.error('fake AWS endpoint failed to answer a request', error);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(rawUrl);
    const target = absolute ? rawUrl.slice(absolute[0].length) || '/' : rawUrl;
    const viaProxy: ProxyMode | undefined = absolute
      ? 'absolute-form'
      : this.tunnelled.has(req.socket)
        ? 'connect'
        : undefined;
    const queryAt = target.indexOf('?');
    const body = await readBody(req);
    const received: ReceivedRequest = {
      method: req.method ?? 'GET',
      path: queryAt < 0 ? target : target.slice(0, queryAt),
      query: queryAt < 0 ? '' : target.slice(queryAt + 1),
      headers: flattenHeaders(req.headers),
      body: body ?? new Uint8Array(),
    };
    const operation = classify(received);
    const claimed = claimedIdentity(received.headers.authorization);
    const record = this.log.record({
      at: new Date(this.now()),
      service: operation.service,
      action: operation.action,
      accessKeyId: claimed?.accessKeyId,
      region: claimed?.region,
      viaProxy,
    });
    const requestId = randomUUID();
    let response: WireResponse | undefined;
    try {
      if (body === undefined) throw new AwsServiceError('invalid-parameter', 'Request too large.');
      response = await this.answer(operation, received, record, requestId, res);
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      response =
        operation.service === 'sts' ? stsError(error, requestId) : ecrError(error, requestId);
    }
    if (response === undefined || res.destroyed) return;
    record.update({ status: response.status, errorCode: response.errorCode });
    res.writeHead(response.status, {
      ...response.headers,
      // The SDK corrects its clock from this header, so it must come from the endpoint's clock.
      date: new Date(this.now()).toUTCString(),
      'content-length': String(Buffer.byteLength(response.body)),
    });
    res.end(response.body);
  }

  /** The answer to a parsed request, or undefined when the client left before it was ready. */
  private async answer(
    operation: Operation,
    request: ReceivedRequest,
    record: CallRecord,
    requestId: string,
    res: ServerResponse,
  ): Promise<WireResponse | undefined> {
    if (operation.service !== 'sts' && !operation.known) {
      throw new AwsServiceError('unknown-operation', `Unknown operation ${operation.action}`);
    }
    if (operation.service === 'sts' && !STS_ACTIONS.has(operation.action)) {
      throw new AwsServiceError(
        'unknown-operation',
        `Could not find operation ${operation.action} for version 2011-06-15`,
      );
    }
    // AssumeRoleWithWebIdentity is unsigned: the web identity token is the proof.
    const principal =
      operation.action === 'AssumeRoleWithWebIdentity'
        ? undefined
        : await this.authenticate(operation.service, request);

    const injected = this.failures.take(record.call);
    if (injected !== undefined) {
      record.update({ injected });
      if (injected === 'slow') {
        if (!(await this.waitUnlessGone(res))) return undefined;
      } else {
        throw injectedError(injected, operation, principal);
      }
    }

    if (operation.service !== 'sts') {
      // authenticate() always returns a principal for signed (all ECR) calls.
      if (principal === undefined) throw new Error('unreachable: ECR call without principal');
      return operation.service === 'ecr-public'
        ? this.getPublicAuthorizationToken(principal, record.call.region ?? '', requestId)
        : this.getAuthorizationToken(principal, record.call.region ?? '', request, requestId);
    }
    const params = operation.params;
    const base = {
      roleArn: params.get('RoleArn') ?? '',
      sessionName: params.get('RoleSessionName') ?? '',
      externalId: params.get('ExternalId') ?? undefined,
      durationSeconds: optionalInteger(params.get('DurationSeconds')),
    };
    if (base.roleArn === '') {
      throw new AwsServiceError(
        'invalid-parameter',
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
      );
    }
    let session: IssuedSession;
    if (operation.action === 'AssumeRole') {
      if (principal === undefined) throw new Error('unreachable: AssumeRole without principal');
      session = this.store.assumeRole(principal, base, this.now());
    } else {
      const webIdentityToken = params.get('WebIdentityToken') ?? '';
      const verify = this.store.webIdentityVerifier(base.roleArn);
      const claims = verify === undefined ? undefined : await verify(webIdentityToken);
      session = this.store.assumeRoleWithWebIdentity(
        { ...base, webIdentityToken, verified: verify !== undefined, subject: claims?.sub },
        this.now(),
      );
    }
    this.sessions.push(session);
    return stsSessionResponse(
      operation.action === 'AssumeRole' ? 'AssumeRole' : 'AssumeRoleWithWebIdentity',
      session,
      requestId,
    );
  }

  private async authenticate(service: AwsService, request: ReceivedRequest): Promise<Principal> {
    const now = this.now();
    let accessKeyId: string;
    try {
      ({ accessKeyId } = await verifySigV4(request, {
        service,
        lookup: (id) => this.store.get(id),
        now,
        ...(this.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: this.maxClockSkewMs }),
      }));
    } catch (error) {
      if (!(error instanceof SigV4VerificationError)) throw error;
      throw new AwsServiceError(SIGNATURE_FAILURES[error.reason], error.message);
    }
    const principal = this.store.get(accessKeyId);
    if (principal === undefined)
      throw new AwsServiceError('unrecognized-client', MESSAGES.invalidToken);
    if (principal.expiresAt !== undefined && principal.expiresAt <= now) {
      throw new AwsServiceError('expired-token', MESSAGES.expiredToken);
    }
    return principal;
  }

  private getAuthorizationToken(
    principal: Principal,
    region: string,
    request: ReceivedRequest,
    requestId: string,
  ): WireResponse {
    const registryIds = parseRegistryIds(request.body);
    const token = this.tokens.issue(principal, region, this.now());
    const endpoints =
      registryIds === undefined
        ? [token.proxyEndpoint]
        : registryIds.map((id) => registryEndpoint(id, region));
    return ecrSuccess(
      {
        authorizationData: endpoints.map((proxyEndpoint) => ({
          authorizationToken: token.authorizationToken,
          // JSON 1.1 timestamps are epoch seconds, fractional like the real service's.
          expiresAt: token.expiresAt.getTime() / 1000,
          proxyEndpoint,
        })),
      },
      requestId,
    );
  }

  /**
   * ECR Public's GetAuthorizationToken: one token for public.ecr.aws, from its API in us-east-1 only
   * (the real service has no other endpoint; a client of another region never reaches it).
   */
  private getPublicAuthorizationToken(
    principal: Principal,
    region: string,
    requestId: string,
  ): WireResponse {
    if (region !== 'us-east-1')
      throw new AwsServiceError(
        'invalid-parameter',
        `ECR Public is served in us-east-1 only; the request was signed for ${region}`,
      );
    const token = this.tokens.issue(principal, region, this.now(), 'ecr-public');
    return ecrSuccess(
      {
        authorizationData: {
          authorizationToken: token.authorizationToken,
          expiresAt: token.expiresAt.getTime() / 1000,
        },
      },
      requestId,
    );
  }

  /** Waits the slow delay; false when the client hung up or the endpoint stopped meanwhile. */
  private async waitUnlessGone(res: ServerResponse): Promise<boolean> {
    const gone = new AbortController();
    const onClose = () => {
      gone.abort();
    };
    res.once('close', onClose);
    try {
      await sleep(this.slowResponseMs, undefined, {
        signal: AbortSignal.any([gone.signal, this.shutdown.signal]),
      });
      return true;
    } catch {
      return false;
    } finally {
      res.off('close', onClose);
    }
  }
}

const STS_ACTIONS = new Set(['AssumeRole', 'AssumeRoleWithWebIdentity']);

function injectedError(
  kind: Exclude<FailureKind, 'slow'>,
  operation: Operation,
  principal: Principal | undefined,
): AwsServiceError {
  switch (kind) {
    case 'throttle':
      return new AwsServiceError('throttled', MESSAGES.throttled);
    case 'server-error':
      return new AwsServiceError('server-error', MESSAGES.serverError);
    case 'bad-signature':
      return new AwsServiceError('invalid-signature', MESSAGES.signatureMismatch);
    case 'access-denied': {
      const permission = `${operation.service}:${operation.action}`;
      return new AwsServiceError(
        'access-denied',
        principal === undefined
          ? `Not authorized to perform ${permission}`
          : `User: ${principal.arn} is not authorized to perform: ${permission} on resource: * because no identity-based policy allows the ${permission} action`,
      );
    }
  }
}

/** The request body, or undefined when it is larger than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    flat[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return flat;
}

/**
 * Which service and action a request is for: ECR and ECR Public by X-Amz-Target, STS by its Action
 * parameter.
 */
function classify(request: ReceivedRequest): Operation {
  const target = request.headers['x-amz-target'];
  if (target !== undefined) {
    const publicAction = ecrPublicAction(target);
    if (publicAction !== undefined)
      return {
        service: 'ecr-public',
        action: publicAction,
        known: publicAction === 'GetAuthorizationToken',
      };
    const action = ecrAction(target);
    return { service: 'ecr', action: action ?? target, known: action === 'GetAuthorizationToken' };
  }
  const params = new URLSearchParams(request.query);
  const contentType = request.headers['content-type'] ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(Buffer.from(request.body).toString('utf8'))) {
      params.append(key, value);
    }
  }
  const action = params.get('Action');
  if (action !== null) return { service: 'sts', action, params };
  return { service: 'ecr', action: 'Unknown', known: false };
}

/** Key and region named by the Authorization header, for the call log, before any verification. */
function claimedIdentity(
  authorization: string | undefined,
): { accessKeyId: string; region: string } | undefined {
  if (authorization === undefined) return undefined;
  try {
    const { accessKeyId, region } = parseAuthorizationHeader(authorization);
    return { accessKeyId, region };
  } catch {
    return undefined;
  }
}

function optionalInteger(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) {
    throw new AwsServiceError('invalid-parameter', `DurationSeconds '${value}' is not an integer`);
  }
  return n;
}

function parseRegistryIds(body: Uint8Array): string[] | undefined {
  let input: unknown;
  try {
    const text = Buffer.from(body).toString('utf8');
    input = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new AwsServiceError('invalid-parameter', 'Request body is not valid JSON.');
  }
  if (typeof input !== 'object' || input === null) {
    throw new AwsServiceError('invalid-parameter', 'Request body must be a JSON object.');
  }
  const ids = (input as { registryIds?: unknown }).registryIds;
  if (ids === undefined) return undefined;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    !ids.every((id): id is string => typeof id === 'string' && /^\d{12}$/.test(id))
  ) {
    throw new AwsServiceError(
      'invalid-parameter',
      'registryIds must be a non-empty list of 12-digit account ids.',
    );
  }
  return ids;
}
