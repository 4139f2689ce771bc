import type { RenewerConfig, WatcherConfig } from './component-config.js';
import { buildConfig } from './component-config.js';
import { withEnvironment } from './environment.js';
import { parseFlags } from './flags.js';

/**
 * A component's configuration from its command line and the environment (flags win), validated:
 * what an entrypoint passes its arguments to. Throws ConfigError naming the first bad setting.
 */
export function loadConfig(
  component: 'renewer',
  argv: readonly string[],
  env?: NodeJS.ProcessEnv,
): RenewerConfig;
export function loadConfig(
  component: 'watcher',
  argv: readonly string[],
  env?: NodeJS.ProcessEnv,
): WatcherConfig;
export function loadConfig(
  component: 'renewer' | 'watcher',
  argv: readonly string[],
  env?: NodeJS.ProcessEnv,
): RenewerConfig | WatcherConfig {
  const { values, sources } = withEnvironment(parseFlags(component, argv), env);
  return buildConfig(component, values, sources);
}
