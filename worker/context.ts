// Opens what the commands work on: the store, the embedder and the vector index, checked
// against each other (the database records which model built its vectors; the index file
// must match the database).
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { SchemaError, Store, type VectorSpace } from '../db/store.ts';
import type { Embedder } from '../models/embedder.ts';
import type { Thresholds } from './cluster-decision.ts';
import { type Config, modelFlags } from './config.ts';
import { ModelMismatchError, UnfinishedReembedError, UsageError } from './errors.ts';
import type { Logger } from './log.ts';
import type { ArticleWorkers } from './article-workers.ts';
import { type LockHolder, lockPath, WriterLock } from './service/lock.ts';
import { VectorIndex } from './vector-index.ts';

/** Used when neither the model nor the configuration says otherwise. */
export const FALLBACK_THRESHOLDS: Thresholds & { passage: number } = {
  sameLanguage: 0.85,
  crossLanguage: 0.75,
  merge: 0.92,
  passage: 0.6,
};

/** The decision's thresholds: fallback < the model's shipped calibration < this database's own calibration < configuration. */
export function resolveThresholds(shipped: object | undefined, own: object | undefined, configured: Config['thresholds']): Context['thresholds'] {
  return { ...FALLBACK_THRESHOLDS, ...(shipped as Partial<Thresholds>), ...(own as Partial<Thresholds> | undefined), ...configured };
}

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
 * Opens the store alone, read-only, for commands that only read what is stored: nothing is written
 * to the database (readerStoreAt). A database with an unfinished re-embedding is refused (its
 * windows belong to two models) unless `unfinishedReembed` is 'allow' (`stats`, which reports it).
 */
export function openStore(config: Config, opts: { unfinishedReembed?: 'allow' } = {}): Store {
  requireDatabase(config);
  checkDatabasePath(config.db);
  const store = readerStoreAt(config.db);
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
  const holder = lockHolder(path);
  throw new UnfinishedReembedError(path, target, holder !== 'unknown' && holder?.command === REEMBED_COMMAND ? holder : undefined);
}

/**
 * Who holds the writer's lock, asked the way a reader may: a lock file that is not there is not
 * created (no writer has it), and 'unknown' when it cannot be probed (no permission).
 */
function lockHolder(path: string): LockHolder | undefined | 'unknown' {
  if (!existsSync(lockPath(path))) return undefined;
  try {
    return WriterLock.holder(path);
  } catch {
    return 'unknown';
  }
}

/** A database path that can never be opened (a folder, or a file in a missing folder) is a usage error that names it. */
function checkDatabasePath(path: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`database ${path} is a folder, not a file`);
  if (!existsSync(dirname(resolve(path)))) throw new UsageError(`cannot create database ${path}: folder ${dirname(resolve(path))} does not exist`);
}

/**
 * The store at a checked path (checkDatabasePath), for writing: one SQLite refuses (not a database,
 * no permission) is a usage error that names it, said at open rather than at the first write.
 */
function storeAt(path: string): Store {
  let store: Store | undefined;
  try {
    store = new Store(path);
    store.assertWritable();
    return store;
  } catch (err) {
    store?.close();
    throw databaseError(err, path, 'write');
  }
}

/**
 * The store at a checked path, read-only (SQLite's read-only connection: nothing is written, not
 * even the schema). A file that is not a newsdedup database (empty, or another SQLite database, or
 * not SQLite at all) and one that needs migrations (which only a writer applies) are usage errors
 * that name it.
 */
function readerStoreAt(path: string): Store {
  try {
    return new Store(path, { readonly: true });
  } catch (err) {
    if (err instanceof SchemaError) {
      if (!err.pending) throw new UsageError(`${path} is not a newsdedup database (${statSync(path).size === 0 ? 'an empty file' : 'it has no newsdedup tables'})`);
      const versions = err.pending.map((m) => m.version).join(', ');
      throw new UsageError(
        `database ${path} is out of date (it lacks migration${err.pending.length > 1 ? 's' : ''} ${versions} of this newsdedup): a read-only command does not upgrade it; ` +
          'open it once with a writer (newsdedup ingest, reembed or worker), which upgrades it',
      );
    }
    throw databaseError(err, path, 'read');
  }
}

/** SQLite's error code (SQLITE_FULL, SQLITE_NOTADB…) of an error better-sqlite3 threw; undefined for any other. */
export const sqliteCode = (err: unknown): string | undefined => ((err as Error).name === 'SqliteError' ? (err as { code?: string }).code : undefined);

/**
 * SQLite's refusal to open or write a database (or the writer's lock file beside it), as a usage
 * error of one line that names the file and the cause; any other error is returned as it is.
 */
export function databaseError(err: unknown, path: string, access: 'read' | 'write' | 'lock'): unknown {
  const code = sqliteCode(err);
  if (!code) return err;
  const file = access === 'lock' ? `the writer's lock ${lockPath(path)}` : `database ${path}`;
  // Opening is what fails for a reader; a writer (or the lock) fails when it comes to write.
  const verb = access === 'read' ? 'read' : access === 'lock' ? 'take' : 'write';
  const open = access === 'lock' ? 'take' : 'open';
  const folder = dirname(resolve(path));
  const message = (err as Error).message;
  if (code === 'SQLITE_NOTADB') {
    // The lock file holds no data: it is named, so that no one restores the database over it.
    return new UsageError(
      access === 'lock'
        ? `${file} is not a lock file (${message}); it holds no data: delete it while no newsdedup process uses ${path}`
        : `${path} is not a newsdedup database (${message})`,
    );
  }
  if (code === 'SQLITE_READONLY_DIRECTORY') {
    return new UsageError(
      access === 'read'
        ? `cannot read database ${path}: SQLite reads a WAL database through ${basename(path)}-shm beside it, which this user cannot create in ${folder} ` +
            `(not writable; the file is there while a writer has the database open). Run as a user who can write ${folder}, or read a copy`
        : `cannot ${verb} ${file}: folder ${folder} is not writable by this user, and a writer creates files there (${basename(path)}-wal and -shm, the lock's journal, the index)`,
    );
  }
  if (code.startsWith('SQLITE_READONLY')) return new UsageError(`cannot ${verb} ${file}: the file is read-only for this user (${message})`);
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM') {
    return new UsageError(`cannot ${open} ${file}: ${message} (no permission to it, or to create it in folder ${folder})`);
  }
  return new UsageError(`cannot ${open} ${file}: ${message}`);
}

export function indexPath(dbPath: string): string {
  return `${dbPath}.hnsw`;
}

/**
 * Brings the index in line with SQLite: loads the saved graph when it is current, otherwise rebuilds
 * it and says why, and saves it (`save`: false leaves it unsaved, a function saves it its own way).
 */
export function syncIndex(
  store: Store,
  index: VectorIndex,
  modelId: string,
  log: Logger,
  opts: { save?: boolean | ((state: { generation: number; modelId: string }) => void) } = {},
): void {
  const expected = { generation: store.generation(), modelId, count: store.articleCount() };
  const outcome = index.tryLoad(expected, (rowid) => store.vectorOf(rowid));
  if (outcome.loaded) return;
  if (expected.count === 0) return;
  log.warn({ reason: outcome.reason, articles: expected.count, index: index.path }, 'rebuilding vector index from SQLite');
  const t0 = performance.now();
  index.rebuild(store.vectors(), expected.count);
  if (typeof opts.save === 'function') opts.save({ generation: expected.generation, modelId });
  else if (opts.save !== false) index.save({ generation: expected.generation, modelId });
  log.info({ articles: expected.count, ms: Math.round(performance.now() - t0) }, 'vector index rebuilt');
}

/** The database's single-writer lock for `command`, waited for up to `lockWait` seconds. */
export async function acquireWriterLock(config: Config, command: string, log: Logger): Promise<WriterLock> {
  try {
    return await WriterLock.acquire(config.db, { command, waitMs: config.lockWait * 1000, log });
  } catch (err) {
    // SQLite's own error (a lock file this user may not write, a folder where it cannot be created) says neither which file nor why.
    throw databaseError(err, config.db, 'lock');
  }
}

/** The store alone, for a writer that needs no model (calibrate --save): refused in one line when it cannot be written. */
export function openWriterStore(config: Config): Store {
  checkDatabasePath(config.db);
  return storeAt(config.db);
}

export interface OpenOptions {
  reembed?: boolean;
  /** The command that writes (worker, ingest, reembed): it holds the writer's lock. */
  writer?: string;
  /** A command that only reads (`check`): the database is opened read-only and must be there, current. */
  readOnly?: boolean;
}

/**
 * Opens the context. A writer (`opts.writer` names the command: worker, ingest, reembed) first
 * takes the database's single-writer lock (worker/service/lock.ts), waiting up to `lockWait`
 * seconds, and holds it until close(). Readers take no lock, and leave the index file to the
 * writer while one is at work; a `readOnly` one writes nothing to the database.
 */
export async function openContext(config: Config, log: Logger, opts: OpenOptions = {}): Promise<Context> {
  // Checked once, before the model loads and before a writer's lock file is created beside it.
  checkDatabasePath(config.db);
  if (!opts.writer) return openContextUnlocked(config, log, opts);
  const lock = await acquireWriterLock(config, opts.writer, log);
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

/**
 * Whether this process may write the index file: a writer always; a reader only while no writer
 * holds the database (a read-only reader: as far as it can tell without writing).
 */
function mayWriteIndex(config: Config, opts: OpenOptions): boolean {
  if (opts.writer) return true;
  if (opts.readOnly) return lockHolder(config.db) === undefined;
  return WriterLock.holder(config.db) === undefined;
}

/** Saves the index; a read-only reader that cannot (a folder it may not write) says so and goes on: the next open rebuilds it. */
function saveIndex(index: VectorIndex, state: { generation: number; modelId: string }, log: Logger, opts: OpenOptions): void {
  try {
    index.save(state);
  } catch (err) {
    if (!opts.readOnly) throw err;
    log.warn({ index: index.path, err: (err as Error).message }, 'cannot save the rebuilt vector index; it is rebuilt again on the next open');
  }
}

async function openContextUnlocked(config: Config, log: Logger, opts: OpenOptions): Promise<Context> {
  const embedder = await loadEmbedder(config);
  const store = opts.readOnly ? readerStoreAt(config.db) : storeAt(config.db);
  try {
    const stored = store.getModel();
    const requested = { modelId: embedder.id, dim: embedder.dim, settings: embedder.vectorSettings };
    const unfinished = store.reembedTarget();
    if (unfinished && opts.reembed && !sameVectorSpace(unfinished, requested)) {
      // Safe: the new run re-embeds every article, whichever model it had.
      log.warn({ db: config.db, interrupted: unfinished, now: requested }, 'an interrupted reembed to another model is replaced by this one');
    }
    if (!opts.reembed) refuseUnfinishedReembed(store, config.db);
    if (!stored) {
      // A reader of a database that has no model recorded yet (nothing ingested) records nothing.
      if (!opts.readOnly) store.setModel(embedder.id, embedder.dim, embedder.vectorSettings);
    } else if (!sameVectorSpace(stored, requested) && !opts.reembed) {
      throw new ModelMismatchError(config.db, stored, requested, modelFlags(config));
    }
    const index = new VectorIndex(indexPath(config.db), embedder.dim, config.hnsw);
    if (!opts.reembed) syncIndex(store, index, embedder.id, log, { save: mayWriteIndex(config, opts) ? (state) => saveIndex(index, state, log, opts) : false });
    const thresholds = resolveThresholds(embedder.recommendedThresholds, store.calibration(embedder.id), config.thresholds);
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
        try {
          if (index.isDirty && store.db.open && mayWriteIndex(config, opts)) saveIndex(index, { generation: store.generation(), modelId: embedder.id }, log, opts);
        } catch (err) {
          // The graph is derived from SQLite: an unsaved one (a full disk) costs a rebuild at the next
          // open, and must neither leave the database open nor hide the error that stopped the run.
          log.error({ index: index.path, err: (err as Error).message }, 'cannot save the vector index; it is rebuilt from SQLite at the next open');
        }
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
