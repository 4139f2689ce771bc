import type { Check } from '../doctor-model.js';
import { formatStructured, paint, type OutputFormat } from '../output.js';

/** The report: one line per check (with its fix when it failed) and a summary, or JSON/YAML. */
export function renderDoctor(checks: readonly Check[], format: OutputFormat): string {
  if (format === 'json' || format === 'yaml')
    return formatStructured(format, { ok: checks.every((c) => c.ok), checks });
  const lines = checks.map((c) =>
    c.ok
      ? `${paint('green', '\u2714')} ${c.message}`
      : `${paint('red', '\u2716')} ${c.message}\n    ${paint('dim', 'fix:')} ${c.fix ?? ''}`,
  );
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(
    '',
    failed === 0
      ? paint('green', `All ${checks.length} checks passed.`)
      : paint('red', `${failed} of ${checks.length} checks failed.`),
  );
  return lines.join('\n');
}
