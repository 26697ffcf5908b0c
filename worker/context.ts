// Opens what the commands work on: the store, the embedder and the vector index, checked
// against each other (the database records which model built its vectors; the index file
// must match the database).
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Store, type VectorSpace } from '../db/store.ts';
import type { Embedder } from '../models/embedder.ts';
import type { Thresholds } from './cluster-decision.ts';
import { type Config, modelFlags } from './config.ts';
import { ModelMismatchError, UnfinishedReembedError, UsageError } from './errors.ts';
import type { Logger } from './log.ts';
import type { ArticleWorkers } from './article-workers.ts';
import { WriterLock } from './service/lock.ts';
import { VectorIndex } from './vector-index.ts';

/** Used when neither the model nor the configuration says otherwise. */
export const FALLBACK_THRESHOLDS: Thresholds & { passage: number } = {
  sameLanguage: 0.85,
  crossLanguage: 0.75,
  merge: 0.92,
  passage: 0.6,
};

export interface Context {
  config: Config;
  log: Logger;
  store: Store;
  embedder: Embedder;
  index: VectorIndex;
  thresholds: Thresholds & { passage: number };
  /** Where articles are prepared and embedded (threads per `config.threads`), started on first use. */
  workers(): Promise<ArticleWorkers>;
  /** The threads once started: a run that begins after that embeds on them from its first batch. */
  readyWorkers(): ArticleWorkers | undefined;
  close(): void;
}

// The embedder (with @huggingface/transformers and onnxruntime) and the thread pool are imported
// when a context is opened, not with this module: commands that only read the store start faster.
export async function loadEmbedder(config: Config, opts: { onnxThreads?: number } = {}): Promise<Embedder> {
  const { Embedder } = await import('../models/embedder.ts');
  return Embedder.load({
    modelDir: config.modelDir,
    model: config.model,
    dtype: config.dtype,
    allowRemote: config.allowRemoteModels,
    cacheDir: config.modelCacheDir,
    onnxThreads: opts.onnxThreads,
  });
}

/** For commands that only read what is stored: the database must be there already. */
export function requireDatabase(config: Config): void {
  if (!existsSync(config.db)) throw new UsageError(`database ${config.db} does not exist (ingest something first, or pass --db)`);
}

/**
 * Opens the store alone, for commands that only read what is stored. A database with an unfinished
 * re-embedding is refused (its windows belong to two models) unless `unfinishedReembed` is
 * 'allow' (`stats`, which reports it, and `reembed` itself).
 */
export function openStore(config: Config, opts: { unfinishedReembed?: 'allow' } = {}): Store {
  requireDatabase(config);
  checkDatabasePath(config.db);
  const store = storeAt(config.db);
  if (opts.unfinishedReembed !== 'allow') refuseUnfinishedReembed(store, config.db);
  return store;
}

/** The command name `reembed` holds the writer's lock under. */
export const REEMBED_COMMAND = 'newsdedup reembed';

/**
 * Between the commit that marks a re-embedding and the one that finishes it, some articles have
 * the new model's vectors and some the old one's: nothing may use them but a `reembed`, which
 * starts over (worker/reembed.ts). Closes the store when it refuses.
 */
function refuseUnfinishedReembed(store: Store, path: string): void {
  const target = store.reembedTarget();
  if (!target) return;
  store.close();
  const holder = WriterLock.holder(path);
  throw new UnfinishedReembedError(path, target, holder?.command === REEMBED_COMMAND ? holder : undefined);
}

/** A database path that can never be opened (a folder, or a file in a missing folder) is a usage error that names it. */
function checkDatabasePath(path: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`database ${path} is a folder, not a file`);
  if (!existsSync(dirname(resolve(path)))) throw new UsageError(`cannot create database ${path}: folder ${dirname(resolve(path))} does not exist`);
}

/** The store at a checked path (checkDatabasePath); one SQLite refuses (not a database, no permission) is a usage error that names it. */
function storeAt(path: string): Store {
  try {
    return new Store(path);
  } catch (err) {
    if ((err as Error).name === 'SqliteError') throw new UsageError(`cannot open database ${path}: ${(err as Error).message}`);
    throw err;
  }
}

export function indexPath(dbPath: string): string {
  return `${dbPath}.hnsw`;
}

/** Brings the index in line with SQLite: loads the saved graph when it is current, otherwise rebuilds it and says why. */
export function syncIndex(store: Store, index: VectorIndex, modelId: string, log: Logger, opts: { save?: boolean } = {}): void {
  const expected = { generation: store.generation(), modelId, count: store.articleCount() };
  const outcome = index.tryLoad(expected);
  if (outcome.loaded) return;
  if (expected.count === 0) return;
  log.warn({ reason: outcome.reason, articles: expected.count, index: index.path }, 'rebuilding vector index from SQLite');
  const t0 = performance.now();
  index.rebuild(store.vectors(), expected.count);
  if (opts.save !== false) index.save({ generation: expected.generation, modelId });
  log.info({ articles: expected.count, ms: Math.round(performance.now() - t0) }, 'vector index rebuilt');
}

/**
 * Opens the context. A writer (`opts.writer` names the command: worker, ingest, reembed) first
 * takes the database's single-writer lock (worker/service/lock.ts), waiting up to `lockWait`
 * seconds, and holds it until close(). Readers take no lock, and leave the index file to the
 * writer while one is at work.
 */
export async function openContext(config: Config, log: Logger, opts: { reembed?: boolean; writer?: string } = {}): Promise<Context> {
  // Checked once, before the model loads and before a writer's lock file is created beside it.
  checkDatabasePath(config.db);
  if (!opts.writer) return openContextUnlocked(config, log, opts);
  const lock = await WriterLock.acquire(config.db, { command: opts.writer, waitMs: config.lockWait * 1000, log });
  try {
    const ctx = await openContextUnlocked(config, log, opts);
    const close = ctx.close;
    return {
      ...ctx,
      close() {
        try {
          close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * Vectors of one model used with other settings (passages cut at another size, the language
 * taken out another way) do not compare either; a database that predates the record is taken as is.
 */
function sameVectorSpace(stored: VectorSpace, requested: Required<VectorSpace>): boolean {
  return stored.modelId === requested.modelId && stored.dim === requested.dim && (stored.settings ?? requested.settings) === requested.settings;
}

/** Whether this process may write the index file: a writer always; a reader only while no writer holds the database. */
const mayWriteIndex = (config: Config, opts: { writer?: string }) => Boolean(opts.writer) || WriterLock.holder(config.db) === undefined;

async function openContextUnlocked(config: Config, log: Logger, opts: { reembed?: boolean; writer?: string }): Promise<Context> {
  const embedder = await loadEmbedder(config);
  const store = storeAt(config.db);
  try {
    const stored = store.getModel();
    const requested = { modelId: embedder.id, dim: embedder.dim, settings: embedder.vectorSettings };
    const unfinished = store.reembedTarget();
    if (unfinished && opts.reembed && !sameVectorSpace(unfinished, requested)) {
      // Safe: the new run re-embeds every article, whichever model it had.
      log.warn({ db: config.db, interrupted: unfinished, now: requested }, 'an interrupted reembed to another model is replaced by this one');
    }
    if (!opts.reembed) refuseUnfinishedReembed(store, config.db);
    if (!stored) store.setModel(embedder.id, embedder.dim, embedder.vectorSettings);
    else if (!sameVectorSpace(stored, requested) && !opts.reembed) {
      throw new ModelMismatchError(config.db, stored, requested, modelFlags(config));
    }
    const index = new VectorIndex(indexPath(config.db), embedder.dim, config.hnsw);
    if (!opts.reembed) syncIndex(store, index, embedder.id, log, { save: mayWriteIndex(config, opts) });
    // Fallback < the model's shipped calibration < this database's own calibration < configuration.
    const thresholds: Context['thresholds'] = {
      ...FALLBACK_THRESHOLDS,
      ...(embedder.recommendedThresholds as Partial<Thresholds>),
      ...(store.calibration(embedder.id) as Partial<Thresholds> | undefined),
      ...config.thresholds,
    };
    let workers: Promise<ArticleWorkers> | undefined;
    let ready: ArticleWorkers | undefined;
    return {
      config,
      log,
      store,
      embedder,
      index,
      thresholds,
      workers: () =>
        (workers ??= import('./article-workers.ts')
          .then((m) => m.startArticleWorkers(config, embedder))
          .then((w) => (ready = w))),
      readyWorkers: () => ready,
      close() {
        // Threads hold no state worth waiting for; terminating them lets the process exit.
        void workers?.then((w) => w.close(), () => undefined);
        if (index.isDirty && store.db.open && mayWriteIndex(config, opts)) index.save({ generation: store.generation(), modelId: embedder.id });
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
