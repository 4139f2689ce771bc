#!/usr/bin/env node
// `eatr` and `kubectl eatr` (kubectl runs kubectl-eatr from PATH with the rest of its arguments).

// Checked before anything is imported: on an older Node the Kubernetes client's HTTP library fails
// while loading, with an error that names neither Node nor its version.
const REQUIRED_NODE_MAJOR = 24;
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < REQUIRED_NODE_MAJOR) {
  process.stderr.write(
    `eatr: needs Node.js ${REQUIRED_NODE_MAJOR} or later; this is ${process.version} (${process.execPath}). ` +
      `Run it with Node ${REQUIRED_NODE_MAJOR} (for example the one bash test/tools/prereqs.sh installs), or use the container image.\n`,
  );
  process.exit(1);
}

const { COMMANDS, runCli } = await import('./program.js');
const argv = process.argv.slice(2);
const help = argv.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');
// `eatr run ...`, and the original Go controller's own command line (`eatr
// -auth-token-renewal-interval 20s`: flags and no command) for a drop-in replacement, go straight to
// the components' settings parser, which understands Go-style single-dash flags.
const seedStyle = argv[0]?.startsWith('-') === true && !argv.some((a) => COMMANDS.includes(a));
if (!help && (argv[0] === 'run' || seedStyle)) {
  const { runAllInOne } = await import('./run.js');
  await runAllInOne(argv[0] === 'run' ? argv.slice(1) : argv);
} else {
  process.exitCode = await runCli(argv);
}
