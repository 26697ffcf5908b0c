// Processes the job table: takes the oldest pending jobs (up to one batch), runs them through the
// pipeline (one SQLite transaction), then marks them finished (a second transaction). A crash
// between the two leaves the jobs pending; they are processed again on restart, and since
// ingestion is idempotent (same id, same content = unchanged) nothing is written twice. Within a
// batch only the newest job of each article id is processed (older ones are `superseded`), so a
// re-run never replays an older version over a newer one.
//
// Batches run one at a time (a p-queue of concurrency 1: this process is the only writer); the
// queue also carries the periodic index saves, so they never interleave with a batch.
import { setImmediate } from 'node:timers/promises';
import PQueue from 'p-queue';
import type { FinishedJob, JobArticle, JobStore, PendingJob } from '../../db/jobs.ts';
import { type Context, sqliteCode } from '../context.ts';
import { articleFromJson, type InputItem, type RawArticle } from '../input.ts';
import type { Logger } from '../log.ts';
import { Pipeline } from '../pipeline.ts';
import type { ServiceMetrics } from './metrics.ts';

/** A job fails for good after this many failed batches. */
export const MAX_ATTEMPTS = 3;

/** The JSON form of a validated article, as stored in the job table. */
export function jobArticle(a: RawArticle): JobArticle {
  const out: JobArticle = { id: a.id };
  if (a.title !== undefined) out.title = a.title;
  if (a.text !== undefined) out.text = a.text;
  if (a.html !== undefined) out.html = a.html;
  if (a.lang !== undefined) out.lang = a.lang;
  if (a.url !== undefined) out.url = a.url;
  if (a.source !== undefined) out.source = a.source;
  if (a.publishedAt !== undefined) out.published_at = a.publishedAt;
  return out;
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

export interface RunnerOptions {
  /** Called after jobs finished, with the inbox files they came from. */
  onFilesTouched?: (fileIds: number[]) => void;
  /** First wait before a batch stopped by a full disk is tried again (doubling up to five minutes). */
  diskFullRetryMs?: number;
}

/** Longest wait between tries while the disk is full (each failed try prepares, embeds and decides the batch again). */
const DISK_FULL_MAX_WAIT_MS = 300_000;

export class JobRunner {
  private readonly queue = new PQueue({ concurrency: 1 });
  private stopping = false;
  private paused = false;
  private depth: number;
  private lastSave = performance.now();
  private saveTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Since when, and how many tries in a row, commits failed for a full disk; undefined once a batch commits. */
  private diskFull: { since: Date; tries: number } | undefined;
  private waitingForRoom = false;
  /** Batches processed since start, for tests and logs. */
  batches = 0;
  /** Articles per second over the recent batches (an exponential moving average), for Retry-After. */
  rate = 0;

  constructor(
    private readonly ctx: Context,
    private readonly jobs: JobStore,
    private readonly metrics: ServiceMetrics,
    private readonly log: Logger,
    private readonly opts: RunnerOptions = {},
  ) {
    this.depth = jobs.pendingCount();
  }

  /** Jobs accepted and not yet processed. */
  get queueDepth(): number {
    return this.depth;
  }

  /** Since when batches wait for room on the disk; undefined while commits succeed. */
  get diskFullSince(): Date | undefined {
    return this.diskFull?.since;
  }

  get idle(): boolean {
    return this.queue.size === 0 && this.queue.pending === 0;
  }

  start(): void {
    if (this.depth > 0) this.log.info({ pending: this.depth }, 'processing jobs left pending by the previous run');
    const every = this.ctx.config.indexSaveSeconds * 1000;
    this.saveTimer = setInterval(() => {
      if (!this.stopping && performance.now() - this.lastSave >= every) void this.queue.add(() => this.saveIndex());
    }, Math.min(every, 5000));
    this.saveTimer.unref();
    this.kick();
  }

  /** Newly committed jobs: count them and make sure a drain is scheduled. */
  accepted(n: number, source: string): void {
    this.depth += n;
    this.metrics.accepted.inc({ source }, n);
    this.kick();
  }

  /** Holds processing after the batch in flight (jobs keep being accepted up to queueLimit); resume() goes on. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  private kick(): void {
    // While waiting for room on the disk, new jobs do not bring the retry forward (each try redoes the whole batch).
    if (this.stopping || this.paused || this.waitingForRoom) return;
    // One drain waiting behind the running one is enough: it will see every committed job.
    if (this.queue.size === 0) void this.queue.add(() => this.drain());
  }

  /** Stops taking jobs, waits for the batch in flight, saves the index. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.saveTimer);
    clearTimeout(this.retryTimer);
    this.queue.clear();
    await this.queue.onIdle();
    this.saveIndex();
  }

  /** Resolves when no job is pending and nothing runs (tests, benchmarks). */
  async whenDrained(timeoutMs = 30_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (this.depth > 0 || !this.idle) {
      if (performance.now() > until) throw new Error(`jobs still pending after ${timeoutMs} ms (${this.depth} left)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  saveIndex(): void {
    const { index, store, embedder } = this.ctx;
    this.lastSave = performance.now();
    if (!index.isDirty || !store.db.open) return;
    const t0 = performance.now();
    index.save({ generation: store.generation(), modelId: embedder.id });
    this.log.debug({ vectors: index.size, ms: Math.round(performance.now() - t0) }, 'index saved');
  }

  private async drain(): Promise<void> {
    while (!this.stopping && !this.paused) {
      // A batch is one long stretch of synchronous work (onnxruntime-node runs synchronously too):
      // without a turn of the event loop between batches, HTTP requests and SIGTERM wait for the
      // whole backlog (a /healthz took 7 s behind 4,350 queued articles).
      await setImmediate();
      if (this.stopping || this.paused) return;
      const batch = this.jobs.pending(this.ctx.config.batchSize);
      if (batch.length === 0) return;
      const ok = await this.runBatch(batch);
      if (!ok) return; // a retry is scheduled
    }
  }

  /** Runs a batch; on failure retries its jobs one by one, so one bad article cannot hold up the rest. */
  private async runBatch(batch: PendingJob[]): Promise<boolean> {
    try {
      await this.process(batch);
      this.diskFull = undefined;
      return true;
    } catch (err) {
      this.metrics.batchFailures.inc();
      const message = (err as Error).message;
      if (sqliteCode(err) === 'SQLITE_FULL') {
        // Nothing wrong with these articles: counting attempts would fail them for good, and writing
        // the count fails too (it ended the worker). The batch waits, whole, until there is room.
        this.diskFull ??= { since: new Date(), tries: 0 };
        const waitMs = Math.min(DISK_FULL_MAX_WAIT_MS, (this.opts.diskFullRetryMs ?? 1000) * 2 ** this.diskFull.tries++);
        this.log.error({ err: message, jobs: batch.length, first: batch[0]!.id, retryInMs: waitMs }, 'disk full: batch rolled back, its jobs stay pending; free space, it is tried again');
        this.waitingForRoom = true;
        this.retryTimer = setTimeout(() => {
          this.waitingForRoom = false;
          this.kick();
        }, waitMs);
        return false;
      }
      this.log.error({ err: message, jobs: batch.length, first: batch[0]!.id }, 'batch failed and was rolled back');
      if (batch.length > 1) {
        for (const job of batch) {
          if (this.stopping) return false;
          if (!(await this.runBatch([job]))) return false;
        }
        return true;
      }
      const attempts = this.jobs.recordAttempt([batch[0]!.id], message).get(batch[0]!.id) ?? MAX_ATTEMPTS;
      if (attempts >= MAX_ATTEMPTS) {
        this.jobs.finish([{ id: batch[0]!.id, status: 'failed', error: `failed ${attempts} times: ${message}` }]);
        this.finished(batch);
        return true;
      }
      // Try again later, without spinning.
      this.retryTimer = setTimeout(() => this.kick(), 500 * 2 ** attempts);
      return false;
    }
  }

  private async process(batch: PendingJob[]): Promise<void> {
    const t0 = performance.now();
    const newest = new Map<string, PendingJob>();
    for (const job of batch) newest.set(job.articleId, job);
    const kept = batch.filter((j) => newest.get(j.articleId) === j);
    const items: InputItem[] = kept.map((j) => articleFromJson(j.article, j.origin, j.originLine ?? undefined));
    const summary = await new Pipeline(this.ctx).ingest(iterate(items));

    const outcomes = new Map(summary.articles.map((a) => [a.id, a]));
    const errors = new Map(summary.errors.map((e) => [e.id, e.message]));
    const finished: FinishedJob[] = batch.map((job): FinishedJob => {
      if (newest.get(job.articleId) !== job) return { id: job.id, status: 'superseded' };
      const o = outcomes.get(job.articleId);
      if (o) {
        const { id: _id, ...outcome } = o;
        return { id: job.id, status: 'done', outcome };
      }
      return { id: job.id, status: 'failed', error: errors.get(job.articleId) ?? 'not processed' };
    });
    this.jobs.finish(finished);
    this.finished(batch);

    for (const a of summary.articles) {
      if (a.status === 'unchanged') this.metrics.unchanged.inc();
      else {
        this.metrics.ingested.inc({ status: a.status });
        if (a.status !== 'created') this.metrics.duplicates.inc();
      }
    }
    this.metrics.rejected.inc(summary.rejected);
    const seconds = (performance.now() - t0) / 1000;
    this.metrics.batchSeconds.observe(seconds);
    const batchRate = batch.length / Math.max(seconds, 0.001);
    this.rate = this.batches === 0 ? batchRate : 0.8 * this.rate + 0.2 * batchRate;
    this.batches++;
    this.log.debug({ jobs: batch.length, ingested: summary.ingested, unchanged: summary.skipped, rejected: summary.rejected, ms: Math.round(seconds * 1000) }, 'batch done');
  }

  private finished(batch: PendingJob[]): void {
    this.depth = Math.max(0, this.depth - batch.length);
    const files = [...new Set(batch.map((j) => j.inboxFile).filter((f): f is number => f !== null))];
    if (files.length) this.opts.onFilesTouched?.(files);
  }
}
