#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx's loader, so there is no build step.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`newsdedup export | head`) closes the pipe: nothing is left to say.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { runCli } = await import('../worker/cli.ts');
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});
// Exit only once stdout has drained: a large --json answer into a slow pipe would be cut short.
await new Promise((resolve) => process.stdout.write('', resolve));
process.exit(code);
