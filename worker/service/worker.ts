// The long-running worker: one writer process holding the database's lock, with three intakes
// that all end in the durable job table (HTTP, the inbox folder, and jobs left pending by an
// earlier run), one job runner, and the HTTP API with the editors' page.
import type { FastifyInstance } from 'fastify';
import { JobStore } from '../../db/jobs.ts';
import type { Config, HttpConfig } from '../config.ts';
import { UsageError } from '../errors.ts';
import { type Context, openContext } from '../context.ts';
import { indexAdvice } from '../vector-index.ts';
import { loadLanguageDetector } from '../language.ts';
import type { Logger } from '../log.ts';
import { buildServer } from './http.ts';
import { InboxWatcher, prepareInbox } from './inbox.ts';
import { ServiceMetrics } from './metrics.ts';
import { JobRunner } from './runner.ts';

export interface WorkerOptions {
  /** How often the inbox folder is scanned. */
  inboxPollMs?: number;
  /** Longest a graceful stop may take before stop() gives up waiting (the jobs stay pending, nothing is lost). */
  shutdownTimeoutMs?: number;
  /** Finished jobs are forgotten after this many days. */
  jobRetentionDays?: number;
  /** First wait before a batch stopped by a full disk is tried again. */
  diskFullRetryMs?: number;
}

export interface RunningWorker {
  url: string;
  port: number;
  ctx: Context;
  jobs: JobStore;
  runner: JobRunner;
  inbox?: InboxWatcher;
  app: FastifyInstance;
  /** Graceful stop: no new intake, the batch in flight finishes, the index is saved, the lock released. Resolves true when done in time. */
  stop(reason?: string): Promise<boolean>;
  /** Resolves when the worker has stopped. */
  stopped: Promise<void>;
}

export async function startWorker(config: Config, log: Logger, opts: WorkerOptions = {}): Promise<RunningWorker> {
  const startedAt = Date.now();
  // A bad setting is a usage error, said before the model is loaded and the database opened.
  if (config.inbox) prepareInbox(config.inbox, log);
  const ctx = await openContext(config, log, { writer: 'newsdedup worker' });
  // Loaded now rather than by the first draft without a language (half a second an editor would wait).
  await loadLanguageDetector();
  let stopping = false;
  let listening: FastifyInstance | undefined;
  try {
    // A 202 promises the article is on disk: every commit is synced (WAL, synchronous=FULL), so an
    // acknowledged job survives a power cut too, not only a crash of the process.
    ctx.store.db.pragma('synchronous = FULL');
    const jobs = new JobStore(ctx.store.db);
    const pruned = jobs.prune(new Date(Date.now() - (opts.jobRetentionDays ?? 7) * 86_400_000).toISOString());
    if (pruned) log.info({ jobs: pruned }, 'forgot finished jobs past their retention');
    let inbox: InboxWatcher | undefined;
    const metrics = new ServiceMetrics({ queueDepth: () => runner.queueDepth, indexVectors: () => ctx.index.size });
    const runner: JobRunner = new JobRunner(ctx, jobs, metrics, log, { onFilesTouched: (ids) => inbox?.settle(ids), diskFullRetryMs: opts.diskFullRetryMs });
    if (config.inbox) inbox = new InboxWatcher(config.inbox, jobs, runner, log, { pollMs: opts.inboxPollMs, settleMs: config.inboxSettleSeconds * 1000, queueLimit: config.queueLimit });
    const app = await buildServer({ ctx, jobs, runner, metrics, log, stopping: () => stopping, startedAt });
    listening = app;
    await app.listen({ host: config.http.host, port: config.http.port }).catch((err: NodeJS.ErrnoException) => {
      throw listenError(err, config.http);
    });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    const url = `http://${host}:${port}`;
    runner.start();
    inbox?.start();
    log.info({ url, db: config.db, inbox: config.inbox, pending: runner.queueDepth, model: ctx.embedder.id }, 'worker listening');
    for (const advice of indexAdvice(ctx.index.size, { m: ctx.index.graphParams.m, efSearch: ctx.index.efSearch })) log.warn({ advice }, 'vector index settings');

    let resolveStopped!: () => void;
    const stopped = new Promise<void>((r) => (resolveStopped = r));
    let stopping$: Promise<boolean> | undefined;
    const shutdown = async (reason: string): Promise<void> => {
      const t0 = performance.now();
      log.info({ reason }, 'worker stopping: intake closed, finishing the batch in flight');
      await inbox?.stop();
      await app.close();
      await runner.stop();
      const left = jobs.pendingCount();
      ctx.close();
      log.info({ ms: Math.round(performance.now() - t0), pending: left, batches: runner.batches }, 'worker stopped: index saved, lock released');
    };
    const stop = (reason = 'stop requested'): Promise<boolean> => {
      if (stopping$) return stopping$;
      stopping = true;
      const timeoutMs = opts.shutdownTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
      const done = shutdown(reason).then(
        () => true,
        (err: Error) => {
          log.error({ err: err.message }, 'error while stopping');
          return false;
        },
      );
      stopping$ = Promise.race([done, timeout]).then((ok) => {
        clearTimeout(timer);
        if (!ok) log.error({ timeoutMs }, 'worker did not stop in time; pending jobs stay in the job table for the next start');
        resolveStopped();
        return ok;
      });
      return stopping$;
    };
    return { url, port, ctx, jobs, runner, inbox, app, stop, stopped };
  } catch (err) {
    await listening?.close(); // a start that fails after listening does not leave the port open
    ctx.close();
    throw err;
  }
}

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'the port is in use (another worker or program): choose another with --port or http.port',
  EACCES: 'not allowed to listen there (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s: check --host or http.host',
  ENOTFOUND: 'no such host name: check --host or http.host',
  EAI_AGAIN: 'the host name could not be resolved now: check --host or http.host',
};

/** Where the worker cannot listen is a setup error (exit 2) naming the address, not a bare errno. */
function listenError(err: NodeJS.ErrnoException, http: HttpConfig): Error {
  const problem = err.code ? LISTEN_PROBLEMS[err.code] : undefined;
  return problem ? new UsageError(`cannot listen on ${http.host} port ${http.port}: ${problem} (${err.code})`, { cause: err }) : err;
}
