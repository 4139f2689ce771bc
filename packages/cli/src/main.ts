#!/usr/bin/env node
// `eatr` and `kubectl eatr` (kubectl runs kubectl-eatr from PATH with the rest of its arguments).
import { COMMANDS, runCli } from './program.js';

const argv = process.argv.slice(2);
const help = argv.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');
// `eatr run ...`, and the seed controller's own command line (`eatr -auth-token-renewal-interval
// 20s`: flags and no command) for a drop-in replacement, go straight to the components' settings
// parser, which understands Go-style single-dash flags.
const seedStyle = argv[0]?.startsWith('-') === true && !argv.some((a) => COMMANDS.includes(a));
if (!help && (argv[0] === 'run' || seedStyle)) {
  const { runAllInOne } = await import('./run.js');
  await runAllInOne(argv[0] === 'run' ? argv.slice(1) : argv);
} else {
  process.exitCode = await runCli(argv);
}
