import { SETTINGS } from './settings.js';

const code = (text: string) => `\`${text.replaceAll('|', '\\|')}\``;
const cell = (text: string) => text.replaceAll('|', '\\|');

/**
 * The settings table of docs/architecture.md, derived from SETTINGS (the one declaration of each
 * setting), so the docs cannot drift from what the components accept. Pure.
 */
export function settingsMarkdownTable(): string {
  const rows = SETTINGS.map((s) => {
    const aliases = 'aliases' in s ? s.aliases.map((a) => code(`-${a}`)) : [];
    const flag = [...aliases, code(`--${s.flag}`)].join(' / ');
    const env = s.env.map(code).join(', ');
    const def =
      'defaultValue' in s ? (s.defaultValue === '' ? 'none' : code(s.defaultValue)) : 'none';
    const range = 'range' in s ? cell(s.range) : '';
    const usedBy = s.components.length === 2 ? 'both' : s.components.join(', ');
    return `| ${flag} | ${env} | ${def} | ${range} | ${usedBy} | ${cell(s.description)} |`;
  });
  return [
    '| flag | env | default | range | used by | what |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** Markers around the generated table in docs/architecture.md. */
export const SETTINGS_TABLE_BEGIN =
  '<!-- settings table: generated from SETTINGS by `pnpm docs:settings` -->';
export const SETTINGS_TABLE_END = '<!-- end of settings table -->';

/** `doc` with the text between the markers replaced by the current table (pure). */
export function withSettingsTable(doc: string): string {
  const begin = doc.indexOf(SETTINGS_TABLE_BEGIN);
  const end = doc.indexOf(SETTINGS_TABLE_END);
  if (begin === -1 || end < begin) throw new Error('the settings table markers are missing');
  return `${doc.slice(0, begin + SETTINGS_TABLE_BEGIN.length)}\n\n${settingsMarkdownTable()}\n\n${doc.slice(end)}`;
}
