#!/usr/bin/env node
// Replaces packages/core/dist/kube/client.js (tsc's re-export of @kubernetes/client-node) with a
// bundle of what that module exports: the library and its dependencies, tree-shaken to the API
// groups eatr calls, in one file. `pnpm build` runs it after compiling; see src/kube/client.ts for
// why. Measured by `pnpm bench` ("memory at start"); the declarations tsc wrote stay as they are.
//
// esbuild, because it bundles and tree-shakes ES modules in well under a second and is already what
// tsx and vitest run on. Node built-ins stay imports; CommonJS dependencies inside the bundle (ws)
// get a `require` made for this file.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const core = fileURLToPath(new URL('..', import.meta.url));

const result = await build({
  absWorkingDir: core,
  entryPoints: ['src/kube/client.ts'],
  outfile: 'dist/kube/client.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // Names and line structure stay readable in stack traces; only whitespace and syntax shrink.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  legalComments: 'eof',
  banner: {
    js: "import { createRequire as __eatrCreateRequire } from 'node:module'; const require = __eatrCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`bundle-kube-client: dist/kube/client.js, ${(bytes / 2 ** 20).toFixed(1)} MiB`);
