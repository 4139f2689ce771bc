import { Command, CommanderError } from 'commander';
import {
  ConfigError,
  SETTINGS,
  describeError,
  parseGoDuration,
  settingHelp,
  settingOption,
  versionLine,
} from '@eatr/core';
import { Cli, UsageError, type SettingFlags } from './context.js';
import { parseOutput } from './output.js';
import { renderDoctor } from './doctor/render.js';
import { runDoctor } from './doctor/run-doctor.js';
import { renew } from './renew.js';
import { whyPod } from './why/why.js';
import { collectStatus, renderStatus } from './status.js';

/** The commands (anything else with flags only is the seed's command line: `eatr run`). */
export const COMMANDS: readonly string[] = [
  'status',
  'renew',
  'doctor',
  'why',
  'run',
  'sandbox',
  'help',
];

/** Exit codes, as kubectl-style tools use them: 1 = the command found a problem, 2 = it could not run. */
export const EXIT = { ok: 0, problem: 1, error: 2 } as const;

/** Settings shown in every command's --help; the others are accepted too, but listed by `eatr run --help`. */
const SHOWN = new Set([
  'kubeconfig',
  'redis-url',
  'redis-password',
  'queue-prefix',
  'host-namespace',
]);

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Adds every component setting as an option, so one command line (or env) serves all of eatr. */
function addSettings(command: Command, show: (flag: string) => boolean): Command {
  for (const s of SETTINGS) {
    // The components' own option and help line: --no-proxy takes a value, the range is shown.
    const option = settingOption(s.flag, settingHelp(s));
    command.addOption(show(s.flag) ? option : option.hideHelp());
  }
  return command;
}

function settingsOf(command: Command): SettingFlags {
  const opts = command.optsWithGlobals<Record<string, string | undefined>>();
  return Object.fromEntries(SETTINGS.map((s) => [s.flag, opts[camel(s.flag)]]));
}

export interface ProgramIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const defaultIo: ProgramIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * One line for an error a command could not get past. A failed request to the API server says only
 * "fetch failed"; name the server and context, and the cause (ECONNREFUSED, a certificate error).
 */
function explain(error: unknown, cli: Cli): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  if (error instanceof Error && error.message === 'fetch failed') {
    const server = cli.kc.getCurrentCluster()?.server ?? 'unknown';
    return `cannot reach the API server ${server} (context ${cli.kc.getCurrentContext()}): ${cause || error.message}`;
  }
  return cause ? `${describeError(error)}: ${cause}` : describeError(error);
}

/** Runs one command with the connections it needs and returns its exit code. */
async function withCli(
  command: Command,
  body: (cli: Cli) => Promise<number>,
  io: ProgramIo,
): Promise<number> {
  let cli: Cli;
  try {
    const opts = command.optsWithGlobals<{ context?: string }>();
    cli = new Cli({ settings: settingsOf(command), context: opts.context });
  } catch (error) {
    io.err(
      `eatr: ${error instanceof ConfigError || error instanceof UsageError ? error.message : describeError(error)}\n`,
    );
    return EXIT.error;
  }
  try {
    return await body(cli);
  } catch (error) {
    io.err(`eatr: ${error instanceof UsageError ? error.message : explain(error, cli)}\n`);
    return EXIT.error;
  } finally {
    await cli.close();
  }
}

export function createProgram(io: ProgramIo = defaultIo): {
  program: Command;
  exitCode: () => number;
} {
  let code: number = EXIT.ok;
  const program = new Command('eatr')
    .description(
      'Keeps AWS ECR image pull Secrets fresh: look at them, renew them, find out why not.',
    )
    .version(versionLine('eatr'), '-V, --version', 'show the version and git commit')
    .option('--context <name>', 'kubeconfig context to use')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  addSettings(program, (flag) => SHOWN.has(flag));

  program
    .command('status')
    .description(
      'one row per (opted-in namespace, registry): Secret state, expiry, last renewal, ServiceAccounts; exit 1 when any Secret is expired or missing',
    )
    .option('-n, --namespace <name>', 'only this namespace')
    .option('-A, --all-namespaces', 'every namespace (the default)')
    .option('-o, --output <format>', 'wide, json or yaml')
    .action(
      async (
        opts: { namespace?: string; allNamespaces?: boolean; output?: string },
        command: Command,
      ) => {
        if (opts.namespace !== undefined && opts.allNamespaces)
          throw new UsageError('-n and -A cannot be used together');
        const output = parseOutput(opts.output);
        code = await withCli(
          command,
          async (cli) => {
            const status = await collectStatus(cli, opts.namespace);
            io.out(`${renderStatus(status, output)}\n`);
            return status.summary.unhealthy ? EXIT.problem : EXIT.ok;
          },
          io,
        );
      },
    );

  program
    .command('renew')
    .description(
      'renew Secrets now, even when not due and past any remembered AWS refusal (after an IAM fix); waits and prints what changed',
    )
    .argument('[namespaces...]', 'namespaces to renew')
    .option('--all', 'every opted-in namespace')
    .option(
      '--registry <host>',
      "only namespaces that use this registry (and only its Secrets' rows)",
    )
    .option('--no-wait', 'return once the syncs are enqueued')
    .option('--timeout <duration>', 'longest wait for the syncs (Go syntax)', '2m')
    .option('-o, --output <format>', 'wide, json or yaml')
    .action(
      async (
        namespaces: string[],
        opts: { all?: boolean; registry?: string; wait: boolean; timeout: string; output?: string },
        command: Command,
      ) => {
        const timeoutMs = parseGoDuration(opts.timeout);
        if (timeoutMs === undefined)
          throw new UsageError(`--timeout ${opts.timeout}: not a duration (e.g. 30s, 2m)`);
        const output = parseOutput(opts.output);
        code = await withCli(
          command,
          (cli) =>
            renew(
              cli,
              {
                namespaces,
                all: opts.all === true,
                registry: opts.registry,
                wait: opts.wait,
                timeoutMs,
                output,
              },
              { out: io.out, err: io.err, progress: process.stderr },
            ),
          io,
        );
      },
    );

  program
    .command('doctor')
    .description(
      'check everything a namespace needs to get its Secret, each with the fix; exit 1 when a check fails',
    )
    .option('-n, --namespace <name>', "check only this namespace's registries and credentials")
    .option(
      '--watcher-service-account <ns/name>',
      "check the watcher's RBAC as this ServiceAccount",
    )
    .option(
      '--renewer-service-account <ns/name>',
      "check the renewer's RBAC as this ServiceAccount",
    )
    .option('-o, --output <format>', 'json or yaml')
    .action(
      async (
        opts: {
          namespace?: string;
          watcherServiceAccount?: string;
          renewerServiceAccount?: string;
          output?: string;
        },
        command: Command,
      ) => {
        const output = parseOutput(opts.output);
        code = await withCli(
          command,
          async (cli) => {
            const checks = await runDoctor(cli, {
              watcherServiceAccount: opts.watcherServiceAccount,
              renewerServiceAccount: opts.renewerServiceAccount,
              namespace: opts.namespace,
              output,
            });
            io.out(`${renderDoctor(checks, output)}\n`);
            return checks.every((c) => c.ok) ? EXIT.ok : EXIT.problem;
          },
          io,
        );
      },
    );

  program
    .command('why')
    .description(
      "why a Pod can or cannot pull its ECR images: the namespace's label, the access policy or role, the Secret, the Pod's reference to it; exit 1 when something is missing",
    )
    .argument('<pod>', 'the Pod (name, or pod/name)')
    .requiredOption('-n, --namespace <name>', "the Pod's namespace")
    .option('-o, --output <format>', 'json or yaml')
    .action(async (pod: string, opts: { namespace: string; output?: string }, command: Command) => {
      const output = parseOutput(opts.output);
      code = await withCli(
        command,
        async (cli) => {
          const checks = await whyPod(cli, opts.namespace, pod.replace(/^pods?\//, ''));
          io.out(`${renderDoctor(checks, output)}\n`);
          return checks.every((c) => c.ok) ? EXIT.ok : EXIT.problem;
        },
        io,
      );
    });

  program
    .command('sandbox')
    .description(
      'try eatr with no cluster: a throwaway kube-apiserver, Redis and ECR stand-in, eatr, a demo namespace (from a checkout; Ctrl-C removes it all)',
    )
    .action(async () => {
      const { runSandbox } = await import('./sandbox.js');
      code = await runSandbox();
    });

  // Listed here for --help; `eatr run ...` itself is dispatched before commander (see main.ts), so the
  // seed's Go-style flags (-auth-token-renewal-interval 20s) reach the settings parser untouched.
  addSettings(
    program
      .command('run')
      .description(
        "run the watcher and a renewer in one process (the original Go controller's way)",
      ),
    () => true,
  ).action(() => undefined);

  return { program, exitCode: () => code };
}

/** Parses and runs a command line (without node and script); returns the exit code. */
export async function runCli(argv: readonly string[], io: ProgramIo = defaultIo): Promise<number> {
  const { program, exitCode } = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode();
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    if (error instanceof UsageError || error instanceof Error) {
      io.err(`eatr: ${error.message}\n`);
      return EXIT.error;
    }
    throw error;
  }
}
