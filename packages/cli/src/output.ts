import { styleText } from 'node:util';
import Table from 'cli-table3';
import { stringify } from 'yaml';

/**
 * Output choices, made deliberately:
 * - colour: node's own `util.styleText`, which already honours NO_COLOR, FORCE_COLOR and
 *   NODE_DISABLE_COLORS and drops styles when the stream is not a terminal; no dependency needed.
 * - tables: cli-table3 (maintained, measures wide and coloured cells correctly), drawn without
 *   borders so the output reads, greps and `awk`s like kubectl's.
 * - progress: cli-progress (see renew.ts), which draws only on a terminal.
 * - yaml: the `yaml` package, the one the tests already use.
 */
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

export const OUTPUT_FORMATS = ['wide', 'json', 'yaml'] as const;

export function parseOutput(value: string | undefined): OutputFormat {
  if (value === undefined || value === '') return 'table';
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new Error(`-o ${value}: must be one of ${OUTPUT_FORMATS.join(', ')}`);
}

type Style = Parameters<typeof styleText>[0];

/** Styles text for stdout: plain when NO_COLOR is set or stdout is not a terminal. */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout) {
  return styleText(style, text, { stream });
}

/** A kubectl-like table: upper-case headers, columns separated by three spaces, no borders. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const t = new Table({
    head: [...headers],
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) t.push([...row]);
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

export function formatStructured(format: 'json' | 'yaml', value: unknown): string {
  return format === 'json' ? JSON.stringify(value, null, 2) : stringify(value).trimEnd();
}

/** "3h12m", "45s", "-2m" (past): how kubectl shows ages. */
export function humanDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${sign}${d}d${h}h`;
  if (h > 0) return `${sign}${h}h${m}m`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}
