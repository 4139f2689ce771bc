import type { z } from 'zod';

export type Component = 'watcher' | 'renewer';

export interface Setting {
  /** Long flag name without dashes. */
  readonly flag: string;
  readonly env: readonly string[];
  readonly description: string;
  readonly defaultValue?: string;
  readonly components: readonly Component[];
  /** Extra flag spellings (the seed's Go flags), without dashes. */
  readonly aliases?: readonly string[];
  /** Raw text (undefined when unset and without a default) to the value buildConfig() maps. */
  readonly parse: z.ZodType<unknown, string | undefined>;
  /** The values a bounded number or duration takes ("1s to 719m"), from the bounds `parse` checks. */
  readonly range?: string;
}

export const BOTH: readonly Component[] = ['watcher', 'renewer'];

/** Raw setting values by setting name (its long flag), as given: undefined or absent = not set. */
export type SettingValues = Readonly<Record<string, string | undefined>>;

/**
 * Where each given value came from, as the user typed it (`-auth-token-renewal-interval`,
 * `--concurrency`, `EATR_CONCURRENCY`), so an error names that rather than an internal name.
 */
export type SettingSources = Readonly<Record<string, string>>;

/** Setting values and where they came from. */
export interface GivenSettings {
  readonly values: SettingValues;
  readonly sources: SettingSources;
}
