import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { MESSAGES } from './aws-errors.js';

/**
 * Server-side AWS Signature Version 4 verification (header form, as the AWS SDK signs): parse the
 * Authorization header, look up the secret for its access key, recompute the signature over the
 * request as received and compare. The canonical request itself is built by @smithy/signature-v4;
 * this module decides which parts of the received request go into it and checks everything the
 * library does not (scope, clock skew, session token, payload hash).
 */

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** AWS rejects a signature whose X-Amz-Date is more than 5 minutes away from its own clock. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;

export type SigV4FailureReason =
  /** No Authorization header at all. */
  | 'missing-authentication'
  /** Authorization or X-Amz-Date header malformed, or a required header not signed or absent. */
  | 'incomplete-signature'
  | 'unknown-access-key'
  /** Signature, scope or payload hash does not match. */
  | 'signature-mismatch'
  /** X-Amz-Date too far from the verifier's clock. */
  | 'request-expired'
  /** X-Amz-Security-Token missing, unexpected, or not the one issued with the key. */
  | 'invalid-security-token';

export class SigV4VerificationError extends Error {
  override readonly name = 'SigV4VerificationError';

  constructor(
    readonly reason: SigV4FailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** A request as it arrived, before any normalisation that could change what was signed. */
export interface ReceivedRequest {
  readonly method: string;
  /** The path exactly as sent, without the query string. */
  readonly path: string;
  /** The raw query string without the leading `?` ('' when none). */
  readonly query: string;
  /** Header names in lower case; repeated headers joined with `,` as Node does. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

export interface SigningSecret {
  readonly secretAccessKey: string;
  /** Set for temporary credentials: the request must carry exactly this X-Amz-Security-Token. */
  readonly sessionToken?: string | undefined;
}

export interface SigV4VerifyOptions {
  /** The signing name the credential scope must name (`ecr`, `sts`). */
  readonly service: string;
  readonly lookup: (accessKeyId: string) => SigningSecret | undefined;
  /** The verifier's clock, epoch milliseconds. */
  readonly now: number;
  readonly maxClockSkewMs?: number;
}

export interface ParsedAuthorization {
  readonly accessKeyId: string;
  /** `YYYYMMDD` from the credential scope. */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

export interface VerifiedSignature {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  readonly signingDate: Date;
}

function incomplete(message: string): SigV4VerificationError {
  return new SigV4VerificationError('incomplete-signature', message);
}

/**
 * Parses `AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/ecr/aws4_request,
 * SignedHeaders=host;x-amz-date, Signature=<hex>`. Throws `incomplete-signature` when malformed.
 */
export function parseAuthorizationHeader(value: string): ParsedAuthorization {
  const trimmed = value.trim();
  if (!trimmed.startsWith(`${SIGV4_ALGORITHM} `)) {
    throw incomplete(`Authorization header must use the ${SIGV4_ALGORITHM} algorithm.`);
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(SIGV4_ALGORITHM.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0)
      throw incomplete(`Authorization header part '${part.trim()}' is not a key=value pair.`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined)
    throw incomplete("Authorization header requires 'Credential' parameter.");
  if (signedHeaders === undefined || signedHeaders === '') {
    throw incomplete("Authorization header requires 'SignedHeaders' parameter.");
  }
  if (signature === undefined || !/^[0-9a-f]{64}$/.test(signature)) {
    throw incomplete("Authorization header requires a 'Signature' of 64 lower-case hex digits.");
  }
  const scope = credential.split('/');
  const [accessKeyId, scopeDate, region, service, terminator] = scope;
  if (
    scope.length !== 5 ||
    accessKeyId === undefined ||
    accessKeyId === '' ||
    scopeDate === undefined ||
    !/^\d{8}$/.test(scopeDate) ||
    region === undefined ||
    region === '' ||
    service === undefined ||
    service === '' ||
    terminator !== 'aws4_request'
  ) {
    throw incomplete(
      `Credential '${credential}' must have the form <key>/<YYYYMMDD>/<region>/<service>/aws4_request.`,
    );
  }
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

/** `20260102T030405Z` -> Date, or undefined when not in that exact form. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  if ([y, mo, d, h, mi, s].some((n) => n === undefined)) return undefined;
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0));
  // Date.UTC rolls 20260231 over to March; a signer never sends that, so treat it as malformed.
  return date.getUTCDate() === d && date.getUTCMonth() === (mo ?? 0) - 1 ? date : undefined;
}

function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Splits a raw query string into decoded key/values, as the signer's canonical query expects. */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (raw === '') return query;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else query[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Verifies a SigV4-signed request. Resolves with who signed it, or rejects with a
 * SigV4VerificationError whose `reason` says which check failed.
 */
export async function verifySigV4(
  request: ReceivedRequest,
  options: SigV4VerifyOptions,
): Promise<VerifiedSignature> {
  const authorization = request.headers.authorization;
  if (authorization === undefined || authorization === '') {
    throw new SigV4VerificationError('missing-authentication', MESSAGES.missingAuthentication);
  }
  const auth = parseAuthorizationHeader(authorization);

  const amzDate = request.headers['x-amz-date'];
  if (amzDate === undefined) {
    throw incomplete("Authorization header requires existence of a 'X-Amz-Date' header.");
  }
  const signingDate = parseAmzDate(amzDate);
  if (signingDate === undefined) {
    throw incomplete(`X-Amz-Date '${amzDate}' must have the form YYYYMMDDTHHMMSSZ.`);
  }
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required)) {
      throw incomplete(`'${required}' must be a signed header.`);
    }
  }
  const signed: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) throw incomplete(`Signed header '${name}' is not in the request.`);
    signed[name] = value;
  }

  if (auth.scopeDate !== amzDate.slice(0, 8)) {
    throw new SigV4VerificationError(
      'signature-mismatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (auth.service !== options.service) {
    throw new SigV4VerificationError(
      'signature-mismatch',
      `Credential should be scoped to correct service: '${options.service}'.`,
    );
  }

  // The message format is AWS's own; the SDK looks for "Signature expired" to correct its clock.
  const maxSkew = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const skewMinutes = Math.round(maxSkew / 60_000);
  if (signingDate.getTime() < options.now - maxSkew) {
    throw new SigV4VerificationError(
      'request-expired',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(options.now - maxSkew))} (${formatAmzDate(new Date(options.now))} - ${skewMinutes} min.)`,
    );
  }
  if (signingDate.getTime() > options.now + maxSkew) {
    throw new SigV4VerificationError(
      'request-expired',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(options.now + maxSkew))} (${formatAmzDate(new Date(options.now))} + ${skewMinutes} min.)`,
    );
  }

  const secret = options.lookup(auth.accessKeyId);
  if (secret === undefined) {
    throw new SigV4VerificationError('unknown-access-key', MESSAGES.invalidToken);
  }

  const sentToken = request.headers['x-amz-security-token'];
  if (sentToken !== secret.sessionToken) {
    throw new SigV4VerificationError('invalid-security-token', MESSAGES.invalidToken);
  }
  const tokenSigned = auth.signedHeaders.includes('x-amz-security-token');

  // The library trusts x-amz-content-sha256 when present instead of hashing the body, so check it.
  const claimedPayloadHash = signed['x-amz-content-sha256'];
  if (
    claimedPayloadHash !== undefined &&
    claimedPayloadHash !== 'UNSIGNED-PAYLOAD' &&
    claimedPayloadHash !== createHash('sha256').update(request.body).digest('hex')
  ) {
    throw new SigV4VerificationError(
      'signature-mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }

  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: secret.secretAccessKey,
      // Only hand the token over when the client signed it; the signer would otherwise add it.
      ...(tokenSigned && secret.sessionToken !== undefined
        ? { sessionToken: secret.sessionToken }
        : {}),
    },
    sha256: Sha256,
    // Never add headers the client did not sign.
    applyChecksum: false,
  });
  const [hostname = '', port] = (signed.host ?? '').split(':');
  let query: Record<string, string | string[]>;
  try {
    query = parseQuery(request.query);
  } catch {
    throw incomplete('The query string is not valid percent-encoding.');
  }
  const recomputed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname,
      ...(port === undefined ? {} : { port: Number(port) }),
      path: request.path,
      query,
      headers: signed,
      body: request.body,
    },
    { signingDate, signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = parseAuthorizationHeader(recomputed.headers.authorization ?? '');
  if (
    expected.signedHeaders.join(';') !== auth.signedHeaders.join(';') ||
    !sameHex(expected.signature, auth.signature)
  ) {
    throw new SigV4VerificationError('signature-mismatch', MESSAGES.signatureMismatch);
  }
  return {
    accessKeyId: auth.accessKeyId,
    region: auth.region,
    service: auth.service,
    signingDate,
  };
}
