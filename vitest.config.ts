import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) =>
  fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Unit tests (pure logic, no I/O) and component tests (orchestration over in-memory fakes) live
// beside the code; integration tests live in test/ and share one real Redis and one real
// kube-apiserver + etcd started by the global setup. Integration files run one at a time: they start
// watcher and renewer processes that see the whole (shared) cluster.
export default defineConfig({
  resolve: {
    alias: {
      '@eatr/core': src('core'),
      '@eatr/renewer': src('renewer'),
      '@eatr/watcher': src('watcher'),
      '@eatr/cli': src('cli'),
    },
  },
  test: {
    reporters: ['default', './test/harness/closing-line-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'test/harness/**/*.test.ts'],
          exclude: ['**/*.component.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        // Orchestration (sync, sweep, the watcher's event rules) against in-memory fakes of its ports.
        test: { name: 'component', include: ['packages/*/src/**/*.component.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['./test/harness/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        // The Helm chart, the image bundle, alert rules and dashboard: helm, promtool and pnpm, no cluster.
        test: { name: 'chart', include: ['test/chart/**/*.test.ts'], testTimeout: 120_000 },
      },
    ],
  },
});
