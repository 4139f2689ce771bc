#!/usr/bin/env node
// Writes packages/core/dist/build-info.json, `{"commit":"1a2b3c4d5e6f"}`: the git commit eatr is
// built from, which every process reports in `--version`, its startup log line and the
// eatr_build_info metric (packages/core/src/runtime/build-info.ts reads the file). `pnpm build` runs
// it after compiling.
//
// The commit comes from, in order:
//   1. EATR_COMMIT, a commit id of 7 to 40 hex digits: for builds without .git, such as the image
//      (`docker build --build-arg EATR_COMMIT=$(git rev-parse HEAD)`, see docker/Dockerfile);
//   2. `git rev-parse HEAD`, when this folder is the top of a git work tree (a checkout, or a
//      worktree; not a tarball unpacked inside some other repository);
//   3. otherwise `unknown`.
// The file holds its first 12 hex digits. A malformed EATR_COMMIT fails the build rather than
// labelling every metric with it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const target = join(root, 'packages/core/dist/build-info.json');
const HEX = /^[0-9a-f]{7,40}$/;

function git(args) {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined; // no git, or not a repository
  }
}

function commitOf() {
  const given = process.env.EATR_COMMIT?.trim().toLowerCase();
  if (given && given !== 'unknown') {
    if (!HEX.test(given)) {
      console.error(
        `build-info: EATR_COMMIT must be a commit id (7-40 hex digits), not "${given}"`,
      );
      process.exit(1);
    }
    return { commit: given.slice(0, 12), from: 'EATR_COMMIT' };
  }
  const top = git(['rev-parse', '--show-toplevel']);
  if (top !== undefined && realpathSync(top) === realpathSync(root)) {
    const head = git(['rev-parse', 'HEAD']);
    if (head !== undefined && HEX.test(head)) return { commit: head.slice(0, 12), from: 'git' };
  }
  return { commit: 'unknown', from: 'no git work tree and no EATR_COMMIT' };
}

const { commit, from } = commitOf();
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify({ commit })}\n`);
console.log(`build-info: commit ${commit} (${from}) -> packages/core/dist/build-info.json`);
