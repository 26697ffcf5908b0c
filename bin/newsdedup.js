#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx's loader, so there is no build step.
import { register } from 'tsx/esm/api';

// tsx rewrites the dynamic imports of every ES module it loads and maps the whole file for it:
// for @huggingface/transformers (1.3 MB) that is half a second of a command's start. Imported
// first, the library comes from Node's own loader, and the sources' imports find it loaded.
const MODEL_COMMANDS = new Set(['ingest', 'check', 'eval', 'calibrate', 'reembed', 'worker']);
if (MODEL_COMMANDS.has(process.argv[2])) await import('@huggingface/transformers');
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
