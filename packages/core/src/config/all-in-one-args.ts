import type { Component, Setting } from './setting.js';
import { SETTINGS } from './settings.js';

/**
 * The arguments one component of the all-in-one process should parse: every `flag value` pair this
 * component knows, plus any it does not share with the other one (so an unknown flag still fails).
 */
export function argsForComponent(component: Component, argv: readonly string[]): string[] {
  const names = (c: Component) =>
    new Set(
      (SETTINGS as readonly Setting[])
        .filter((s) => s.components.includes(c))
        .flatMap((s) => [s.flag, ...(s.aliases ?? [])]),
    );
  const mine = names(component);
  const theirs = names(component === 'watcher' ? 'renewer' : 'watcher');
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--?([a-z][a-z0-9-]*)(=.*)?$/i.exec(arg);
    if (!match) {
      out.push(arg);
      continue;
    }
    const name = match[1] ?? '';
    const takesNext = match[2] === undefined && name !== 'help' && name !== 'h';
    const keep = mine.has(name) || !theirs.has(name);
    if (keep) out.push(arg);
    if (takesNext && i + 1 < argv.length) {
      if (keep) out.push(argv[i + 1] ?? '');
      i++;
    }
  }
  return out;
}
