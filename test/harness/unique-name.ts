import { randomBytes } from 'node:crypto';

const MAX_LENGTH = 63;
const SUFFIX_LENGTH = 8;

/**
 * `<prefix>-<8 random [a-z0-9]>`, a valid DNS-1123 label (lower-case alphanumerics and '-', starts
 * and ends alphanumeric, at most 63 characters): usable as a namespace, object or queue name.
 * The prefix is lower-cased, other characters become '-', and it is shortened to fit.
 */
export function uniqueName(prefix: string): string {
  const cleaned = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, MAX_LENGTH - SUFFIX_LENGTH - 1)
    .replace(/^-+|-+$/g, '');
  // 40 random bits: about 1e12 values, so names of concurrent tests and runs do not collide.
  const suffix = randomBytes(5).readUIntBE(0, 5).toString(36).padStart(SUFFIX_LENGTH, '0');
  return `${cleaned === '' ? 'test' : cleaned}-${suffix}`;
}
