/**
 * Whether resourceVersion `a` is the same as or later than `b`. Kubernetes calls resourceVersions
 * opaque, but every API server backed by etcd serves etcd revisions: decimal integers that grow with
 * every write. Where either is not such a number, only equality counts.
 */
export function isAtLeast(a: string, b: string): boolean {
  if (a === b) return true;
  if (!DECIMAL.test(a) || !DECIMAL.test(b)) return false;
  return BigInt(a) >= BigInt(b);
}

const DECIMAL = /^\d{1,30}$/;
