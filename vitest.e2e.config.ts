import { defineConfig } from 'vitest/config';

// The end-to-end tier on a real node (docs/e2e.md): run through `pnpm test:e2e`, which
// starts it inside throw-away namespaces (test/e2e/node.sh). Files run one at a time, in order:
// they share the node and the one eatr release.
export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['./test/e2e/harness/global-setup.ts'],
    reporters: ['default', './test/harness/closing-line-reporter.ts'],
    fileParallelism: false,
    sequence: { shuffle: false },
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
