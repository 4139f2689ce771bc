// Go's time.ParseDuration syntax ("20s", "6h", "1h30m", "1.5h", "300ms"): the seed controller's flags
// used it, and no npm parser accepts exactly that grammar (most also accept words like "2 days").
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)/;

/** Parses a Go duration into milliseconds; undefined when the text is not one. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest.length > 0) {
    const match = DURATION.exec(rest);
    if (!match) return undefined;
    const token = match[0];
    const unit = /(ns|us|µs|ms|s|m|h)$/.exec(token)?.[0] ?? '';
    total += Number(token.slice(0, token.length - unit.length)) * (UNIT_MS[unit] ?? Number.NaN);
    rest = rest.slice(token.length);
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Formats milliseconds in Go's style, for messages and logs ("6h0m0s" style is kept short: "6h"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
