#!/usr/bin/env node
/**
 * The `stello` command line: binds {@link runCli} to the process (argv, environment, output,
 * SIGINT/SIGTERM) and exits with its code.
 * @module
 */
// First import: evaluated before the others, so an old Node gets one line, not a failure deep in a dependency.
import './require-node';
import { runCli } from './commands/run-cli';

const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals += 1;
  // A second Ctrl-C means "now": skip the graceful shutdown.
  if (signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// No top-level await: the bundle is also loadable as CommonJS.
void runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  signal: controller.signal,
}).then((code) => {
  process.exitCode = code;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
});
