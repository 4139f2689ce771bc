import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Files that must run first, in this order; the others follow in vitest's own order. The upgrade
 * scenario needs a cluster no other release has labelled namespaces in (install.test.ts leaves 200
 * labelled namespaces and its Secrets behind, as an uninstall does), and removes its own after it.
 */
const FIRST = ['test/e2e/upgrade.test.ts', 'test/e2e/install.test.ts'];
const rank = (spec: TestSpecification) => {
  const index = FIRST.findIndex((file) => spec.moduleId.endsWith(file));
  return index < 0 ? FIRST.length : index;
};

class FixedOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Array.prototype.sort is stable: the rest keeps vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

// The end-to-end tier on a real node (docs/e2e.md): run through `pnpm test:e2e`, which
// starts it inside throw-away namespaces (test/e2e/node.sh). Files run one at a time, in the order
// above: they share the node.
export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['./test/e2e/harness/global-setup.ts'],
    // A failure prints the cluster and copies the container logs (on-failure.ts), then stops the
    // tier: the scenarios build on each other, so the ones after a failure would only fail too.
    setupFiles: ['./test/e2e/harness/on-failure.ts'],
    bail: 1,
    reporters: ['default', './test/harness/closing-line-reporter.ts'],
    fileParallelism: false,
    sequence: { shuffle: false, sequencer: FixedOrderSequencer },
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
