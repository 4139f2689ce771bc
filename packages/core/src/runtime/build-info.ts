import { readFileSync } from 'node:fs';

/** What a process runs: eatr's release version and the git commit it was built from. */
export interface BuildInfo {
  /** The workspace's semantic version (every package and the chart carry the same one). */
  readonly version: string;
  /** The first 12 hex digits of the commit `pnpm build` ran on, or `unknown` (built without git). */
  readonly commit: string;
}

/** The commit of a build that could not tell (no git, no EATR_COMMIT): a tarball, for one. */
export const UNKNOWN_COMMIT = 'unknown';

const COMMIT_PATTERN = /^[0-9a-f]{12}$/;

/**
 * A build's version and commit from the text of a package.json and of the build-info.json that
 * packages/core/scripts/build-info.js writes into packages/core/dist at `pnpm build` (pure). No build-info.json
 * (running from sources before a build), or a malformed one, gives the commit `unknown`.
 */
export function parseBuildInfo(packageJson: string, buildInfoJson: string | undefined): BuildInfo {
  const { version } = JSON.parse(packageJson) as { version: string };
  let commit = UNKNOWN_COMMIT;
  try {
    const written = JSON.parse(buildInfoJson ?? '{}') as { commit?: unknown } | null;
    if (typeof written?.commit === 'string' && COMMIT_PATTERN.test(written.commit))
      commit = written.commit;
  } catch {
    // Not JSON: the commit is unknown.
  }
  return { version, commit };
}

function readIfPresent(url: URL): string | undefined {
  try {
    return readFileSync(url, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * This process's build. Both paths are relative to this module, and resolve to the core package's
 * package.json and dist/build-info.json from src/runtime (tests) and dist/runtime (a build, the
 * image). A missing package.json is a broken install and throws.
 */
export const BUILD_INFO: BuildInfo = parseBuildInfo(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  readIfPresent(new URL('../../dist/build-info.json', import.meta.url)),
);

/** eatr's version, from the core package's package.json (the same for every component). */
export const VERSION: string = BUILD_INFO.version;

/** The git commit this process was built from (12 hex digits), or `unknown`. */
export const COMMIT: string = BUILD_INFO.commit;

/** What `--version` prints: `eatr 0.2.0 (commit 1a2b3c4d5e6f)`. */
export function versionLine(program: string, build: BuildInfo = BUILD_INFO): string {
  return `${program} ${build.version} (commit ${build.commit})`;
}
