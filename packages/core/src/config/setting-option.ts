import { Option } from 'commander';
import type { Setting } from './setting.js';

/**
 * A setting's --help line: its doc, range, default and environment variables. The components and the
 * CLI print the same line.
 */
export function settingHelp(s: Setting): string {
  const range = s.range !== undefined ? ` (range: ${s.range})` : '';
  const def = s.defaultValue !== undefined ? ` (default: ${JSON.stringify(s.defaultValue)})` : '';
  return `${s.description}${range}${def} [env: ${s.env.join(', ')}]`;
}

/**
 * The `--<name> <value>` option of a setting. A name starting with "no-" (--no-proxy) is a setting like
 * any other: commander would take it for the negation of --proxy and drop its value.
 */
export function settingOption(name: string, help: string): Option {
  const option = new Option(`--${name} <value>`, help);
  option.negate = false;
  return option;
}
