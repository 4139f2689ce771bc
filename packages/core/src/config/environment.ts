import type { GivenSettings, Setting, SettingValues, SettingSources } from './setting.js';
import { SETTINGS } from './settings.js';

/**
 * The settings flags give, completed from the environment: a flag wins over its variables, and the
 * first of a setting's variables that is set wins over the others. A flag value without a recorded
 * spelling is named `--<setting>` in errors. This is the only place that reads process.env.
 */
export function withEnvironment(
  flags: { readonly values: SettingValues; readonly sources?: SettingSources },
  env: NodeJS.ProcessEnv = process.env,
): GivenSettings {
  const values: Record<string, string | undefined> = {};
  const sources: Record<string, string> = {};
  for (const s of SETTINGS as readonly Setting[]) {
    const flag = flags.values[s.flag];
    const envName = s.env.find((name) => env[name] !== undefined);
    values[s.flag] = flag ?? (envName === undefined ? undefined : env[envName]);
    const from = flag !== undefined ? (flags.sources?.[s.flag] ?? `--${s.flag}`) : envName;
    if (from !== undefined) sources[s.flag] = from;
  }
  return { values, sources };
}
