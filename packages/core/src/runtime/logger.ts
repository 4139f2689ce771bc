import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/value-parsers.js';

export type { Logger } from 'pino';

// Belt and braces: eatr never logs secret values, and these paths are censored should one slip into a
// logged object anyway.
const REDACT = [
  'password',
  'token',
  'authorizationToken',
  'secretAccessKey',
  'sessionToken',
  'accessKeyId',
  'dockerconfigjson',
  'data',
  '*.password',
  '*.token',
  '*.authorizationToken',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.accessKeyId',
  '*.data',
  '*.dockerconfigjson',
];

/** The process logger: JSON lines on stdout, one line per decision. */
export function createLogger(
  component: string,
  level: LogLevel,
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { component },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
