// A real newsdedup database of N synthetic articles (same schema, written through db/store.ts) with
// its HNSW index beside it, cached under the benchmark folder: building a million takes a good
// part of an hour, so a second run reuses it. The cache key is model, size and corpus version for
// the database, and the HNSW build parameters for the index (a marker beside the index says which).
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadMigrations } from '../../db/migrate.ts';
import { Store } from '../../db/store.ts';
import type { Embedder } from '../../models/embedder.ts';
import { indexPath } from '../../worker/context.ts';
import { cosine } from '../../worker/passages.ts';
import { type HnswParams, VectorIndex } from '../../worker/vector-index.ts';
import { CORPUS_VERSION, type Pool, syntheticArticles, verifyComposition } from './corpus.ts';

/** Articles per SQLite transaction while building. */
const BUILD_BATCH = 10_000;
/** Composed articles re-embedded by the real embedder to check the composition. */
const VERIFY_SAMPLE = 500;
export const CORPUS_SEED = 20240601;

export interface DatabaseInfo {
  path: string;
  articles: number;
  windows: number;
  /** The database file (after a WAL checkpoint). */
  bytes: number;
  /** When the cached database was built, and how long writing it took. */
  builtAt: string;
  buildSeconds: number;
  reused: boolean;
  composition: { checked: number; sameWindows: number; minCosine: number };
}

export interface IndexInfo {
  params: Omit<HnswParams, 'efSearch'>;
  builtAt: string;
  buildSeconds: number;
  insertsPerSecond: number;
  saveSeconds: number;
  fileBytes: number;
  reused: boolean;
}

interface DatabaseMarker extends Omit<DatabaseInfo, 'path' | 'bytes' | 'reused'> {
  modelId: string;
  size: number;
  corpusVersion: number;
  seed: number;
}

interface IndexMarker extends Omit<IndexInfo, 'fileBytes' | 'reused'> {
  generation: number;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
const readJson = <T>(path: string): T | undefined => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined);
const seconds = (t0: number) => (performance.now() - t0) / 1000;

/**
 * The cache key: model, size, corpus version, the pool's fingerprint (the model's windows and
 * vectors) and the schema version (a database opened by newer code would be migrated in place,
 * inside the timings).
 */
export function databasePath(dir: string, pool: Pool, size: number): string {
  const schema = loadMigrations().at(-1)?.version ?? 0;
  return join(dir, `${slug(pool.modelId)}-n${size}-c${CORPUS_VERSION}-p${pool.fingerprint}-s${schema}`, 'newsdedup.db');
}

/** Returns the cached database for this model and size, building it first when there is none. */
export async function ensureDatabase(opts: { dir: string; size: number; pool: Pool; embedder: Embedder; log: (line: string) => void }): Promise<DatabaseInfo> {
  const { size, pool, embedder, log } = opts;
  const path = databasePath(opts.dir, pool, size);
  const markerPath = join(path, '..', 'corpus.json');
  const marker = readJson<DatabaseMarker>(markerPath);
  if (marker && existsSync(path) && marker.size === size && marker.modelId === pool.modelId && marker.corpusVersion === CORPUS_VERSION) {
    const { modelId: _m, size: _s, corpusVersion: _v, seed: _seed, ...info } = marker;
    return { ...info, path, bytes: statSync(path).size, reused: true };
  }
  // A half-built database (interrupted run) is never reused: start from nothing.
  rmSync(join(path, '..'), { recursive: true, force: true });
  mkdirSync(join(path, '..'), { recursive: true });

  const sample = [...syntheticArticles(pool, { count: Math.min(VERIFY_SAMPLE, size), seed: CORPUS_SEED, idPrefix: 'syn-' })];
  const composition = await verifyComposition(embedder, sample);
  log(`  composition check: ${composition.sameWindows}/${composition.checked} re-embedded articles have the composed windows, min cosine ${composition.minCosine.toFixed(6)}`);
  if (composition.sameWindows !== composition.checked || composition.minCosine < 0.9999) {
    throw new Error('composed articles differ from what the embedder makes of their text: the composition in scripts/bench-scale/corpus.ts is out of date');
  }

  const t0 = performance.now();
  const store = new Store(path);
  let windows = 0;
  try {
    store.setModel(embedder.id, embedder.dim);
    let batch: ReturnType<typeof syntheticArticles> extends Generator<infer T> ? T[] : never = [];
    const flush = () => {
      store.transaction(() => {
        for (const a of batch) {
          // Every synthetic article is its own story: one cluster each, as `new` decisions make.
          const cluster = store.createCluster();
          store.writeArticle(a.article, cluster, a.vector, a.windows);
          store.refreshCluster(cluster);
          windows += a.windows.length;
        }
        store.bumpGeneration();
      });
      batch = [];
    };
    let done = 0;
    for (const a of syntheticArticles(pool, { count: size, seed: CORPUS_SEED, idPrefix: 'syn-' })) {
      batch.push(a);
      if (batch.length === BUILD_BATCH) {
        flush();
        done += BUILD_BATCH;
        if (done % (BUILD_BATCH * 10) === 0) log(`  wrote ${done} articles (${(done / seconds(t0)).toFixed(0)}/s)`);
      }
    }
    flush();
    store.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    store.close();
  }
  const written: DatabaseMarker = {
    modelId: pool.modelId,
    size,
    corpusVersion: CORPUS_VERSION,
    seed: CORPUS_SEED,
    articles: size,
    windows,
    builtAt: new Date().toISOString(),
    buildSeconds: seconds(t0),
    composition,
  };
  writeFileSync(markerPath, JSON.stringify(written, null, 2));
  const { modelId: _m, size: _s, corpusVersion: _v, seed: _seed, ...info } = written;
  return { ...info, path, bytes: statSync(path).size, reused: false };
}

/** Every stored vector in rowid order, in one block (the brute-force side of recall). */
export function readVectors(store: Store, dim: number): { rowids: Int32Array; data: Float32Array } {
  const n = store.articleCount();
  const rowids = new Int32Array(n);
  const data = new Float32Array(n * dim);
  let i = 0;
  for (const { rowid, vector } of store.vectors()) {
    rowids[i] = rowid;
    data.set(vector, i * dim);
    i++;
  }
  return { rowids, data };
}

/**
 * Where built indexes are kept apart from their database: keyed by what determines the vectors
 * and labels (model windows, size, corpus version) and the build parameters, not by the schema.
 * A database rebuilt for a new schema holds the same vectors under the same rowids, so its index
 * (a million vectors: an hour or more on two cores) is taken from here instead of built again.
 */
export function indexCachePath(dir: string, pool: Pool, size: number, params: Omit<HnswParams, 'efSearch'>): string {
  return join(dir, 'indexes', `${slug(pool.modelId)}-n${size}-c${CORPUS_VERSION}-p${pool.fingerprint}-m${params.m}-efc${params.efConstruction}.hnsw`);
}

/** The index file, its sidecar (VectorIndex) and its build marker (here). */
const indexFiles = (path: string) => [path, `${path}.json`, `${path}.build.json`];

/** Hard-links (else copies) an index's files to another path; saves write a temp file and rename, so links never see a half-written file. */
function linkIndex(from: string, to: string): void {
  indexFiles(from).forEach((src, i) => {
    const dst = indexFiles(to)[i]!;
    rmSync(dst, { force: true });
    try {
      linkSync(src, dst);
    } catch {
      copyFileSync(src, dst);
    }
  });
}

/**
 * The database's index built with `params`: loaded when the database's own or the cached one
 * (`cachePath`) was built with them for this database generation, else built from `vectors`,
 * timed, saved beside the database (where openContext finds it) and linked into the cache.
 */
export function ensureIndex(opts: {
  store: Store;
  modelId: string;
  dim: number;
  params: HnswParams;
  vectors: { rowids: Int32Array; data: Float32Array };
  cachePath: string;
  log: (line: string) => void;
}): { index: VectorIndex; info: IndexInfo } {
  const { store, modelId, dim, params, vectors, cachePath, log } = opts;
  const index = new VectorIndex(indexPath(store.path), dim, params);
  const generation = store.generation();
  const n = vectors.rowids.length;
  const usable = (path: string) => {
    const marker = readJson<IndexMarker>(`${path}.build.json`);
    const fits = marker && marker.generation === generation && marker.params.m === params.m && marker.params.efConstruction === params.efConstruction;
    return fits && indexFiles(path).every((f) => existsSync(f)) ? marker : undefined;
  };
  for (const source of [index.path, cachePath]) {
    const marker = usable(source);
    if (!marker) continue;
    if (source !== index.path) {
      log(`  index: taking the one built for these vectors from ${source}`);
      linkIndex(source, index.path);
    }
    if (index.tryLoad({ generation, modelId, count: n }).loaded) {
      const wrong = sampleMismatches(index, vectors);
      if (wrong.length) {
        log(`  index at ${source} does not hold these vectors under these rowids (${wrong.length} of ${INDEX_SAMPLE} sampled, e.g. rowid ${wrong[0]}): not used`);
        continue;
      }
      log(`  index: ${INDEX_SAMPLE} sampled rowids found with their own vectors (cosine ≥ ${SAME_VECTOR})`);
      const { generation: _g, ...info } = marker;
      return { index, info: { ...info, fileBytes: statSync(index.path).size, reused: true } };
    }
  }
  const buildSeconds = timedRebuild(index, vectors, log);
  const t1 = performance.now();
  index.save({ generation, modelId });
  const written: IndexMarker = {
    params: { m: params.m, efConstruction: params.efConstruction },
    builtAt: new Date().toISOString(),
    buildSeconds,
    insertsPerSecond: n / buildSeconds,
    saveSeconds: seconds(t1),
    generation,
  };
  writeFileSync(`${index.path}.build.json`, JSON.stringify(written, null, 2));
  mkdirSync(dirname(cachePath), { recursive: true });
  linkIndex(index.path, cachePath);
  const { generation: _g, ...info } = written;
  return { index, info: { ...info, fileBytes: statSync(index.path).size, reused: false } };
}

/** Stored vectors looked up in a cached index before it is reused. */
const INDEX_SAMPLE = 500;
const SAME_VECTOR = 0.9999;

/**
 * The rowids of an evenly spread sample whose vector in the index (hnswlib's getPoint: exact, not
 * a search) is not the database's vector for that rowid (cosine < SAME_VECTOR) or is missing: an
 * index taken from the cache must hold the database's vectors under the database's rowids, and
 * generation and count alone do not prove it.
 */
export function sampleMismatches(index: VectorIndex, vectors: { rowids: Int32Array; data: Float32Array }): number[] {
  // VectorIndex keeps its hnswlib graph private; the benchmark reads it to check, never to change it.
  const graph = (index as unknown as { index: { getPoint(label: number): number[] } }).index;
  const n = vectors.rowids.length;
  const count = Math.min(INDEX_SAMPLE, n);
  const wrong: number[] = [];
  for (let s = 0; s < count; s++) {
    const i = Math.floor((s * n) / count);
    const rowid = vectors.rowids[i]!;
    let point: number[];
    try {
      point = graph.getPoint(rowid);
    } catch {
      wrong.push(rowid);
      continue;
    }
    const v = vectors.data.subarray(i * index.dim, (i + 1) * index.dim);
    if (point.length !== v.length || cosine(v, Float32Array.from(point)) < SAME_VECTOR) wrong.push(rowid);
  }
  return wrong;
}

/** Fills `index` with every vector; returns the seconds it took (hnswlib inserts only, the vectors are in memory). */
export function timedRebuild(index: VectorIndex, vectors: { rowids: Int32Array; data: Float32Array }, log: (line: string) => void): number {
  const n = vectors.rowids.length;
  const t0 = performance.now();
  index.rebuild(rows(vectors, index.dim), n, {
    every: 100_000,
    onProgress: (added) => log(`  index M ${index.params.m} efC ${index.params.efConstruction}: ${added} of ${n} vectors (${(added / seconds(t0)).toFixed(0)}/s)`),
  });
  return seconds(t0);
}

function* rows(vectors: { rowids: Int32Array; data: Float32Array }, dim: number): Generator<{ rowid: number; vector: Float32Array }> {
  for (let i = 0; i < vectors.rowids.length; i++) yield { rowid: vectors.rowids[i]!, vector: vectors.data.subarray(i * dim, (i + 1) * dim) };
}
