#!/usr/bin/env node
// The `sag-agent` program; the commands live in cli/.
import { main } from './cli/main.js';

const stopRequested = new Promise<string>((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'));
  process.once('SIGTERM', () => resolve('SIGTERM'));
});

const code = await main(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopRequested,
});
// Exit once what was written has reached the pipe; a second SIGINT meanwhile kills the process.
process.stdout.write('', () => process.exit(code));
