import { describe, expect, it } from 'vitest';
import { BUILD_INFO, COMMIT, VERSION, parseBuildInfo, versionLine } from './build-info.js';

const PACKAGE_JSON = JSON.stringify({ name: '@eatr/core', version: '0.2.0' });

describe('parseBuildInfo', () => {
  it('takes the version from package.json and the commit from build-info.json', () => {
    expect(parseBuildInfo(PACKAGE_JSON, '{"commit":"1a2b3c4d5e6f"}\n')).toEqual({
      version: '0.2.0',
      commit: '1a2b3c4d5e6f',
    });
  });

  it.each([
    ['no build-info.json (running from sources)', undefined],
    ['not JSON', '1a2b3c4d5e6f'],
    ['null', 'null'],
    ['no commit', '{}'],
    ['a commit that is not 12 hex digits', '{"commit":"1a2b3c4d5e6f7a8b"}'],
    ['upper-case hex', '{"commit":"1A2B3C4D5E6F"}'],
    ['something else to put in a metric label', '{"commit":"main\\"} 1"}'],
    ['a number', '{"commit":123456789012}'],
  ])('says the commit is unknown for %s', (_case, buildInfo) => {
    expect(parseBuildInfo(PACKAGE_JSON, buildInfo)).toEqual({
      version: '0.2.0',
      commit: 'unknown',
    });
  });
});

describe('versionLine', () => {
  it('names the program, version and commit, as --version prints them', () => {
    expect(versionLine('eatr', { version: '0.2.0', commit: '1a2b3c4d5e6f' })).toBe(
      'eatr 0.2.0 (commit 1a2b3c4d5e6f)',
    );
    expect(versionLine('eatr-renewer', { version: '0.2.0', commit: 'unknown' })).toBe(
      'eatr-renewer 0.2.0 (commit unknown)',
    );
  });

  it("defaults to this process's build", () => {
    expect(versionLine('eatr')).toBe(`eatr ${VERSION} (commit ${COMMIT})`);
  });
});

describe('BUILD_INFO', () => {
  it("is the core package's semantic version and a commit or unknown", () => {
    expect(BUILD_INFO).toEqual({ version: VERSION, commit: COMMIT });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(COMMIT).toMatch(/^([0-9a-f]{12}|unknown)$/);
  });
});
