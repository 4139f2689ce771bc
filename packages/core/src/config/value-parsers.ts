import { existsSync } from 'node:fs';
import { z } from 'zod';
import { formatDuration, parseGoDuration } from './duration.js';
import { parseRegistryHost } from '../registry/registry-host.js';
import { parseDefaultAccess } from '../access/credential-access.js';
import { LabelSelectorError, isLabelKey, isLabelValue } from '../access/label-selector.js';
import { TenantRolesError, parseTenantRoles } from '../access/tenant-role.js';

// The parsers the settings catalogue (settings.ts) declares its settings with.

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * A setting's parser (raw text, or undefined when unset without a default, to its config value),
 * with the range a bounded number or duration takes, as --help and the docs show it. The error
 * message and the range text come from the same bounds, so they cannot disagree.
 */
export const duration = (
  setting: string,
  {
    min = 1,
    max = Number.MAX_SAFE_INTEGER,
    why = '',
  }: { min?: number; max?: number; why?: string } = {},
) => {
  const bounded = max !== Number.MAX_SAFE_INTEGER;
  return {
    range: bounded
      ? `${formatDuration(min)} to ${formatDuration(max)}`
      : `at least ${formatDuration(min)}`,
    parse: z.string().transform((text, ctx) => {
      const ms = parseGoDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${setting}: "${text}" is not a duration (use Go syntax, e.g. 30s, 5m, 6h)`,
        });
        return z.NEVER;
      }
      if (ms < min || ms > max) {
        const range = bounded
          ? `between ${formatDuration(min)} and ${formatDuration(max)}`
          : `at least ${formatDuration(min)}`;
        ctx.addIssue({
          code: 'custom',
          message: `${setting}: ${text} is out of range; it must be ${range}${why}`,
        });
        return z.NEVER;
      }
      return ms;
    }),
  };
};

export const integer = (setting: string, min: number, max: number) => ({
  range: `${min} to ${max}`,
  parse: z.string().transform((text, ctx) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${setting}: "${text}" must be a whole number from ${min} to ${max}`,
      });
      return z.NEVER;
    }
    return n;
  }),
});

export const nonNegative = (setting: string) => ({
  range: 'at least 0',
  parse: z.string().transform((text, ctx) => {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || n < 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${setting}: "${text}" must be a number of at least 0`,
      });
      return z.NEVER;
    }
    return n;
  }),
});

/**
 * KUBECONFIG may list several files (kubectl merges them); eatr reads the first, the one kubectl
 * writes to. A missing file is a configuration error, not a crash at start-up.
 */
export const kubeconfigPath = z.string().transform((text, ctx) => {
  const first = text.split(':')[0] ?? text;
  if (!existsSync(first)) {
    ctx.addIssue({ code: 'custom', message: `kubeconfig: ${first} does not exist` });
    return z.NEVER;
  }
  return first;
});

export const boolean = (setting: string) =>
  z.string().transform((text, ctx) => {
    const value = text.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no', ''].includes(value)) return false;
    ctx.addIssue({ code: 'custom', message: `${setting}: "${text}" must be true or false` });
    return z.NEVER;
  });

export const list = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

// The seed's -logging-verbosity-level took glog numbers; map them onto pino levels.
export const logLevel = z.string().transform((text, ctx): LogLevel => {
  const value = text.trim().toLowerCase();
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    return n <= 2 ? 'info' : n <= 5 ? 'debug' : 'trace';
  }
  if (['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value))
    return value as LogLevel;
  ctx.addIssue({
    code: 'custom',
    message: `log level: "${text}" must be one of fatal, error, warn, info, debug, trace, silent or a number 0-9`,
  });
  return z.NEVER;
});

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const namespaceName = (setting: string) =>
  z
    .string()
    .refine((v) => NAMESPACE.test(v), { message: `${setting}: must be a valid namespace name` });

/**
 * `--served-namespaces`: the only namespaces this install serves (the chart grants the renewer
 * Secrets there alone), or none for every namespace.
 */
export const servedNamespaces = z.string().transform((v, ctx): ReadonlySet<string> | undefined => {
  const names = list(v);
  for (const name of names)
    if (!NAMESPACE.test(name))
      ctx.addIssue({
        code: 'custom',
        message: `served-namespaces: "${name}" is not a namespace name`,
      });
  return names.length > 0 ? new Set(names) : undefined;
});

export const proxyUrl = (setting: string) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || URL.canParse(v), {
      message: `${setting}: not a URL`,
    })
    .transform((v) => (v ? v : undefined));

/** A comma list of ECR registry hosts (lower-cased), each checked; `setting` names the flag in errors. */
export const registryHostsOf = (setting: string) =>
  z.string().transform((v, ctx) => {
    const hosts = list(v);
    for (const host of hosts) {
      if (!parseRegistryHost(host))
        ctx.addIssue({
          code: 'custom',
          message: `${setting}: "${host}" is not an ECR registry host`,
        });
    }
    return hosts.map((h) => h.toLowerCase());
  });

export const registryHosts = registryHostsOf('registries');

/** `--default-allowed-namespaces`: `*`, `none` or a label selector over namespaces. */
export const defaultAccess = z.string().transform((v, ctx) => {
  try {
    return parseDefaultAccess(v);
  } catch (error) {
    if (!(error instanceof LabelSelectorError)) throw error;
    ctx.addIssue({ code: 'custom', message: `default-allowed-namespaces: ${error.message}` });
    return z.NEVER;
  }
});

/** `--tenant-roles`: the allowlist of IAM roles namespaces may name (JSON; empty = off). */
export const tenantRoles = z.string().transform((v, ctx) => {
  try {
    return parseTenantRoles(v);
  } catch (error) {
    if (!(error instanceof TenantRolesError)) throw error;
    ctx.addIssue({ code: 'custom', message: `tenant-roles: ${error.message}` });
    return z.NEVER;
  }
});

/** Keys eatr owns on its Secrets: they say who manages a Secret, so nobody may set them. */
const OWN_KEY = /^(app\.kubernetes\.io\/managed-by|eatr\.io\/.*)$/;

/**
 * `--secret-labels` / `--secret-annotations`: `key=value,key=value` written on every Secret eatr
 * writes (values of annotations may hold anything but a comma).
 */
export function secretMetadata(flag: 'secret-labels' | 'secret-annotations') {
  return z.string().transform((v, ctx) => {
    const entries: Record<string, string> = {};
    for (const item of list(v)) {
      const eq = item.indexOf('=');
      const key = eq < 0 ? item : item.slice(0, eq);
      const value = eq < 0 ? '' : item.slice(eq + 1);
      const problem =
        eq < 0
          ? 'is not key=value'
          : !isLabelKey(key)
            ? `"${key}" is not ${flag === 'secret-labels' ? 'a label' : 'an annotation'} key`
            : OWN_KEY.test(key)
              ? `"${key}" is eatr's own key`
              : flag === 'secret-labels' && !isLabelValue(value)
                ? `"${value}" is not a label value`
                : undefined;
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: `${flag}: "${item}" ${problem}` });
        return z.NEVER;
      }
      entries[key] = value;
    }
    return entries;
  });
}
