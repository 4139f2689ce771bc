import { z } from 'zod';
import { isValidSecretName, outputSecretName } from '../naming.js';
import { parseRegistryHost } from '../registry/registry-host.js';
import { ConfigError } from './config-error.js';
import type { Setting, SettingSources, SettingValues } from './setting.js';
import { SETTINGS } from './settings.js';

type DeclaredSetting = (typeof SETTINGS)[number];

/** The zod shape, flag by flag, keeping each parser's own output type (numbers stay numbers). */
type Shape = { readonly [S in DeclaredSetting as S['flag']]: S['parse'] };

const schema = z
  .object(Object.fromEntries(SETTINGS.map((s) => [s.flag, s.parse])) as Shape)
  .superRefine((c, ctx) => {
    const sample = parseRegistryHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    if (sample && !isValidSecretName(outputSecretName(c['secret-name-template'], sample))) {
      ctx.addIssue({
        code: 'custom',
        message: `secret-name-template: "${c['secret-name-template']}" does not give a valid Secret name`,
      });
    }
  });

/** Every setting's value, parsed (durations in ms, lists as arrays), by setting name. */
export type ParsedSettings = z.output<typeof schema>;

/**
 * Parses raw setting values (an unset one takes its default) and checks them together. Throws
 * ConfigError for the first bad one, naming it as `sources` says it was given.
 */
export function parseSettings(values: SettingValues, sources: SettingSources = {}): ParsedSettings {
  const raw = Object.fromEntries(
    (SETTINGS as readonly Setting[]).map((s) => [s.flag, values[s.flag] ?? s.defaultValue]),
  );
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  const message = issue?.message ?? 'invalid configuration';
  const typedAs = sources[String(issue?.path[0] ?? '')];
  if (typedAs !== undefined)
    throw new ConfigError(`${typedAs}: ${message.replace(/^[^:"]+: /, '')}`);
  throw new ConfigError(message.includes(':') || path === '' ? message : `${path}: ${message}`);
}
