import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMIT, VERSION } from '../runtime/build-info.js';
import { ConfigError } from './config-error.js';
import { parseFlags } from './flags.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('parseFlags', () => {
  it("reads the seed controller's Go-style flags under their setting, as typed", () => {
    const { values, sources } = parseFlags('watcher', [
      '-auth-token-renewal-interval',
      '20s',
      '-informers-resync-interval=5s',
      '--log-level',
      'debug',
    ]);
    expect(values).toMatchObject({
      'renewal-interval': '20s',
      'sweep-interval': '5s',
      'log-level': 'debug',
    });
    expect(sources).toEqual({
      'renewal-interval': '-auth-token-renewal-interval',
      'sweep-interval': '-informers-resync-interval',
      'log-level': '--log-level',
    });
  });

  it('leaves unset settings undefined, without a source (defaults come later)', () => {
    const { values, sources } = parseFlags('renewer', ['--concurrency=8']);
    expect(values.concurrency).toBe('8');
    expect(values['renewal-interval']).toBeUndefined();
    expect(sources).toEqual({ concurrency: '--concurrency' });
  });

  it("accepts the other component's settings, so one command line serves both", () => {
    expect(parseFlags('watcher', ['--concurrency', '2']).values.concurrency).toBe('2');
    expect(
      parseFlags('renewer', ['-informers-resync-interval', '1m']).values['sweep-interval'],
    ).toBe('1m');
  });

  it('takes a value for --no-proxy (a setting, not a negation)', () => {
    expect(parseFlags('renewer', ['--no-proxy', '.internal']).values['no-proxy']).toBe('.internal');
  });

  it.each([
    [['--no-such-flag', 'x'], /^unknown option '--no-such-flag'/],
    [['--concurrency'], /argument missing/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseFlags('renewer', argv)).toThrow(ConfigError);
    expect(() => parseFlags('renewer', argv)).toThrow(message);
  });

  it.each([
    ['watcher', '--version'],
    ['renewer', '-V'],
    ['watcher', '-version'], // Go style, like the seed's other flags
  ] as const)(
    '%s %s prints the version and commit, then stops (CommanderError, exit 0)',
    (component, flag) => {
      const written: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
      let thrown: unknown;
      try {
        parseFlags(component, [flag]);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CommanderError);
      expect(thrown).toMatchObject({ code: 'commander.version', exitCode: 0 });
      expect(written.join('')).toBe(`eatr-${component} ${VERSION} (commit ${COMMIT})\n`);
    },
  );
});
