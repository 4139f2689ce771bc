import { errorCodeFor } from './aws-errors.js';
import type { AwsServiceError } from './aws-errors.js';
import type { IssuedSession } from './credential-store.js';
import type { WireResponse } from './wire-response.js';

/**
 * STS's wire format: the AWS query protocol. Requests are form-encoded `Action=...&Version=...`,
 * answers are XML `<{Action}Response><{Action}Result>...` and errors `<ErrorResponse><Error>`.
 */
export const STS_XML_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_VERSION = '2011-06-15';

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** ISO 8601 in whole seconds, as STS writes Expiration. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function xmlResponse(status: number, body: string, requestId: string): WireResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}

/** The answer to AssumeRole or AssumeRoleWithWebIdentity. */
export function stsSessionResponse(
  action: 'AssumeRole' | 'AssumeRoleWithWebIdentity',
  session: IssuedSession,
  requestId: string,
): WireResponse {
  const x = escapeXml;
  return xmlResponse(
    200,
    `<${action}Response xmlns="${STS_XML_NAMESPACE}">
  <${action}Result>
    <AssumedRoleUser>
      <Arn>${x(session.assumedRoleArn)}</Arn>
      <AssumedRoleId>${x(session.assumedRoleId)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${x(session.accessKeyId)}</AccessKeyId>
      <SecretAccessKey>${x(session.secretAccessKey)}</SecretAccessKey>
      <SessionToken>${x(session.sessionToken)}</SessionToken>
      <Expiration>${isoSeconds(session.expiration)}</Expiration>
    </Credentials>
  </${action}Result>
  <ResponseMetadata>
    <RequestId>${x(requestId)}</RequestId>
  </ResponseMetadata>
</${action}Response>
`,
    requestId,
  );
}

export function stsError(error: AwsServiceError, requestId: string): WireResponse {
  const { code, status } = errorCodeFor(error.kind, 'sts');
  const response = xmlResponse(
    status,
    `<ErrorResponse xmlns="${STS_XML_NAMESPACE}">
  <Error>
    <Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>
    <Code>${escapeXml(code)}</Code>
    <Message>${escapeXml(error.message)}</Message>
  </Error>
  <RequestId>${escapeXml(requestId)}</RequestId>
</ErrorResponse>
`,
    requestId,
  );
  return { ...response, errorCode: code };
}
