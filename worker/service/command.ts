// `newsdedup worker`: starts the worker, prints where it listens, and stops it gracefully on
// SIGTERM or SIGINT (exit 0), or gives up after the shutdown timeout (exit 1; accepted jobs stay
// in the job table and are processed on the next start).
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { startWorker } from './worker.ts';

export async function runWorker(config: Config, log: Logger, io: { json: boolean; stdout: { write(s: string): void } }): Promise<number> {
  const worker = await startWorker(config, log);
  if (io.json) io.stdout.write(`${JSON.stringify({ event: 'listening', url: worker.url, port: worker.port, db: config.db, pid: process.pid })}\n`);
  else io.stdout.write(`newsdedup worker listening on ${worker.url} (database ${config.db}${config.inbox ? `, inbox ${config.inbox}` : ''}); stop with SIGTERM or Ctrl-C\n`);
  const onSignal = (signal: NodeJS.Signals) => void worker.stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await worker.stopped;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  const ok = await worker.stop(); // the stop already under way: true when it finished in time
  if (io.json) io.stdout.write(`${JSON.stringify({ event: 'stopped', ok })}\n`);
  return ok ? 0 : 1;
}
