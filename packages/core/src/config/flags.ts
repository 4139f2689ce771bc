import { Command, CommanderError } from 'commander';
import { versionLine } from '../runtime/build-info.js';
import { ConfigError } from './config-error.js';
import type { Component, GivenSettings, Setting } from './setting.js';
import { settingHelp, settingOption } from './setting-option.js';
import { SETTINGS } from './settings.js';

// Go's flag package takes -name and -name=value; commander wants --name. Rewrite single-dash long flags.
function normaliseArgv(argv: readonly string[]): string[] {
  return argv.map((arg) => (/^-[a-z][a-z0-9-]+(=.*)?$/i.test(arg) ? `-${arg}` : arg));
}

/**
 * The settings a command line gives (`--flag value`, `--flag=value`, and the seed's Go-style
 * `-flag value`), and the spelling the user typed for each (e.g. `-auth-token-renewal-interval`).
 * Every setting is accepted; `component` picks the ones --help lists. Throws ConfigError for an
 * unknown or incomplete flag, and CommanderError once --help or --version (`eatr-watcher 0.2.0
 * (commit 1a2b3c4d5e6f)`) has been shown.
 */
export function parseFlags(component: Component, argv: readonly string[]): GivenSettings {
  const program = new Command(`eatr-${component}`)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: (s) => process.stdout.write(s) })
    .allowExcessArguments(false)
    .helpOption('-h, --help', 'show the settings')
    .version(versionLine(`eatr-${component}`), '-V, --version', 'show the version and git commit');
  for (const s of SETTINGS as readonly Setting[]) {
    // Every component takes every setting (the other component's are validated and ignored, and
    // left out of --help), so one command line, the Go controller's included, serves both.
    const option = settingOption(s.flag, settingHelp(s));
    program.addOption(s.components.includes(component) ? option : option.hideHelp());
    for (const alias of s.aliases ?? []) {
      program.addOption(settingOption(alias, `same as --${s.flag}`).hideHelp());
    }
  }
  try {
    program.parse(normaliseArgv(argv), { from: 'user' });
  } catch (error) {
    if (
      error instanceof CommanderError &&
      (error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.help' ||
        error.code === 'commander.version')
    )
      throw error;
    throw new ConfigError(
      error instanceof Error ? error.message.replace(/^error: /, '') : String(error),
    );
  }
  const opts = program.opts<Record<string, string | undefined>>();
  const values: Record<string, string | undefined> = {};
  const sources: Record<string, string> = {};
  // A Go-style single dash, as typed, or the usual two.
  const spelling = (name: string) =>
    argv.some((a) => a === `-${name}` || a.startsWith(`-${name}=`)) ? `-${name}` : `--${name}`;
  for (const s of SETTINGS as readonly Setting[]) {
    const key = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const used = [s.flag, ...(s.aliases ?? [])].find((name) => opts[key(name)] !== undefined);
    values[s.flag] = used === undefined ? undefined : opts[key(used)];
    if (used !== undefined) sources[s.flag] = spelling(used);
  }
  return { values, sources };
}
