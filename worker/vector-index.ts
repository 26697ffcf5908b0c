// The vector index: an HNSW graph (hnswlib-node, cosine space) over document vectors, labelled by
// articles.rowid and persisted next to the database as `<db>.hnsw`. A sidecar `<db>.hnsw.json`
// records which database generation, model and file size the saved graph belongs to, so that a
// missing, stale, truncated or corrupt file is detected and rebuilt from SQLite.
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import hnswlib from 'hnswlib-node';

const { HierarchicalNSW } = hnswlib;
type HNSW = InstanceType<typeof HierarchicalNSW>;

export interface HnswParams {
  m: number;
  efConstruction: number;
  efSearch: number;
}

export interface IndexSidecar {
  generation: number;
  modelId: string;
  dim: number;
  count: number;
  bytes: number;
  params: HnswParams;
  /** Labels marked deleted in the saved graph (a rolled-back batch's new articles); absent when none. */
  deleted?: number[];
}

export interface Neighbour {
  label: number;
  /** Cosine similarity (1 − cosine distance). */
  score: number;
}

/**
 * What the configured search settings leave on the table at this index size, from the README's
 * measurements (Performance): at 100k stored articles the default efSearch 64 gave `check` the
 * verdict of exact search for every benchmark draft; at 1M, for 430 of 438 (ef 384: 437), with M 32.
 * Said from half a million on, where no measurement backs the defaults.
 */
export const LARGE_INDEX = 500_000;
const LARGE_INDEX_EF = 384;
const LARGE_INDEX_M = 32;

export function indexAdvice(vectors: number, params: { m?: number; efSearch: number }): string[] {
  if (vectors < LARGE_INDEX) return [];
  const out: string[] = [];
  if (params.efSearch < LARGE_INDEX_EF) {
    out.push(`hnsw.efSearch ${params.efSearch} at ${vectors.toLocaleString('en')} vectors: ${LARGE_INDEX_EF} is recommended from about a million (README, Performance)`);
  }
  if (params.m !== undefined && params.m < LARGE_INDEX_M) {
    out.push(`index built with hnsw.m ${params.m}: ${LARGE_INDEX_M} is recommended from about a million (set it, delete the .hnsw file, and the next command rebuilds it)`);
  }
  return out;
}

/** Where the graph saved at `path` records what it belongs to. */
export const sidecarPathOf = (path: string): string => `${path}.json`;

export interface SavedIndexExpectation {
  generation: number;
  modelId: string;
  count: number;
}

/** The sidecar of the graph saved at `path`, whatever it says; undefined when missing or unreadable. */
export function readSidecar(path: string): IndexSidecar | undefined {
  try {
    return JSON.parse(readFileSync(sidecarPathOf(path), 'utf8')) as IndexSidecar;
  } catch {
    return undefined;
  }
}

/**
 * The sidecar of the graph saved at `path`, and unless it belongs to this database generation and
 * model and the file is whole, why not. Reads the sidecar only, not the graph (so `stats` can say
 * what the next open will find).
 */
export function readSavedIndex(
  path: string,
  expected: SavedIndexExpectation & { dim: number },
): { sidecar: IndexSidecar; reason?: undefined } | { sidecar?: IndexSidecar; reason: string } {
  const side = readSidecar(path);
  if (!existsSync(path)) return { sidecar: side, reason: 'index file missing' };
  if (!side) return { reason: existsSync(sidecarPathOf(path)) ? 'index sidecar unreadable' : 'index sidecar missing' };
  const stale = (reason: string) => ({ sidecar: side, reason });
  if (side.modelId !== expected.modelId || side.dim !== expected.dim) return stale('index built with another model');
  if (side.generation !== expected.generation || side.count !== expected.count) {
    return stale(`index stale (generation ${side.generation}, database at ${expected.generation})`);
  }
  // hnswlib trusts the file's header; a truncated file must be caught before it is read.
  if (statSync(path).size !== side.bytes) return stale('index file truncated or altered');
  return { sidecar: side };
}

/** Vectors compared with the database when a saved graph is loaded. */
const SAMPLED_VECTORS = 64;

/** Whether evenly spaced labels' vectors in the graph are the stored ones (hnswlib keeps cosine vectors normalised, as ours are). */
function sampleMatches(index: HNSW, ids: readonly number[], stored: (label: number) => Float32Array | undefined): boolean {
  const step = Math.max(1, Math.floor(ids.length / SAMPLED_VECTORS));
  for (let i = 0; i < ids.length; i += step) {
    const want = stored(ids[i]!);
    if (!want) return false;
    const got = index.getPoint(ids[i]!);
    if (got.length !== want.length) return false;
    for (let j = 0; j < want.length; j++) if (!(Math.abs(got[j]! - want[j]!) < 1e-4)) return false;
  }
  return true;
}

export type OpenOutcome = { loaded: true } | { loaded: false; reason: string };

const INITIAL_CAPACITY = 1024;

export class VectorIndex {
  private index: HNSW;
  private labels = new Set<number>();
  /**
   * Labels marked deleted in the graph and not live: hnswlib cannot remove a point, and SQLite
   * hands a rolled-back batch's rowids out again, so most are revived by the next batch.
   */
  private deleted = new Set<number>();
  /** While a batch is open: each label it changed, with its vector before (null: it was new). */
  private journal: Map<number, Float32Array | null> | undefined;
  private dirty = false;
  /** What the graph in memory was built with: the configured values, or a loaded file's own. */
  private built: Pick<HnswParams, 'm' | 'efConstruction'>;
  /**
   * hnswlib-node takes vectors as JS arrays only. One array, refilled for every call, instead of
   * Array.from per call: that allocated about 40 KB an ingested article (a sixth of the main
   * thread's allocations, iterating the Float32Array).
   */
  private readonly scratch: number[];

  constructor(
    readonly path: string,
    readonly dim: number,
    readonly params: HnswParams,
  ) {
    this.scratch = new Array<number>(dim).fill(0);
    this.built = { m: params.m, efConstruction: params.efConstruction };
    this.index = this.fresh(INITIAL_CAPACITY);
  }

  get graphParams(): Pick<HnswParams, 'm' | 'efConstruction'> {
    return this.built;
  }

  get sidecarPath(): string {
    return sidecarPathOf(this.path);
  }

  get size(): number {
    return this.labels.size;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  private fresh(capacity: number): HNSW {
    const index = new HierarchicalNSW('cosine', this.dim);
    index.initIndex({ maxElements: capacity, m: this.params.m, efConstruction: this.params.efConstruction, randomSeed: 100 });
    index.setEf(this.params.efSearch);
    return index;
  }

  /** Loads the saved graph if it belongs to this database generation and model; otherwise says why not. */
  tryLoad(expected: SavedIndexExpectation, stored?: (label: number) => Float32Array | undefined): OpenOutcome {
    const saved = readSavedIndex(this.path, { ...expected, dim: this.dim });
    if (saved.reason !== undefined) return { loaded: false, reason: saved.reason };
    const side = saved.sidecar;
    try {
      const index = new HierarchicalNSW('cosine', this.dim);
      index.readIndexSync(this.path);
      index.setEf(this.params.efSearch);
      const deleted = new Set(side.deleted ?? []);
      const ids = index.getIdsList().filter((id) => !deleted.has(id));
      if (ids.length !== expected.count) return { loaded: false, reason: `index holds ${ids.length} vectors, database ${expected.count}` };
      // Size and sidecar agree for a file damaged in place: a sample of its vectors must be the database's.
      if (stored && !sampleMatches(index, ids, stored)) return { loaded: false, reason: 'index file corrupt: its vectors differ from the database' };
      this.index = index;
      this.labels = new Set(ids);
      this.deleted = deleted;
      this.journal = undefined;
      this.dirty = false;
      this.built = { m: side.params.m, efConstruction: side.params.efConstruction };
      return { loaded: true };
    } catch (err) {
      return { loaded: false, reason: `index file corrupt: ${(err as Error).message}` };
    }
  }

  /**
   * Rebuilds the graph from (label, vector) pairs, e.g. every vector stored in SQLite. At a million
   * vectors this takes many minutes, so `onProgress` is told the count every `every` vectors.
   */
  rebuild(
    vectors: Iterable<{ rowid: number; vector: Float32Array }>,
    expectedCount: number,
    progress?: { every: number; onProgress: (added: number) => void },
  ): void {
    this.index = this.fresh(Math.max(INITIAL_CAPACITY, expectedCount + 1));
    this.built = { m: this.params.m, efConstruction: this.params.efConstruction };
    this.labels.clear();
    this.deleted.clear();
    this.journal = undefined;
    for (const { rowid, vector } of vectors) {
      this.add(rowid, vector);
      if (progress && this.labels.size % progress.every === 0) progress.onProgress(this.labels.size);
    }
    this.dirty = true;
  }

  /** The search-time candidate list size (hnswlib's ef): recall against query latency. */
  get efSearch(): number {
    return this.index.getEf();
  }

  /** Sets ef for the searches that follow (it is not saved with the graph; every load applies the configured one). */
  setEfSearch(ef: number): void {
    if (!Number.isInteger(ef) || ef < 1) throw new Error(`ef must be a positive integer, got ${ef}`);
    this.index.setEf(ef);
  }

  /** Adds a vector, or replaces the vector of an existing label. */
  add(label: number, vector: Float32Array): void {
    const point = this.asArray(vector);
    const live = this.labels.has(label);
    if (this.journal && !this.journal.has(label)) this.journal.set(label, live ? Float32Array.from(this.index.getPoint(label)) : null);
    // A deleted label still holds its slot, and addPoint revives it in place.
    if (!live && !this.deleted.has(label) && this.index.getCurrentCount() >= this.index.getMaxElements()) {
      this.index.resizeIndex(Math.max(INITIAL_CAPACITY, this.index.getMaxElements() * 2));
    }
    this.index.addPoint(point, label);
    this.labels.add(label);
    this.deleted.delete(label);
    this.dirty = true;
  }

  /**
   * Starts recording the changes of a batch, so that a batch SQLite rolls back can be taken out of
   * the graph again by `rollback` instead of rebuilding it (89 minutes at a million articles).
   */
  begin(): void {
    this.journal = new Map();
  }

  /** The batch was committed: its changes stay. */
  keep(): void {
    this.journal = undefined;
  }

  /** Undoes the batch's changes: its new labels are marked deleted, replaced vectors put back. */
  rollback(): void {
    const journal = this.journal;
    if (!journal) throw new Error('rollback without begin');
    this.journal = undefined;
    for (const [label, before] of journal) {
      if (before) {
        this.index.addPoint(this.asArray(before), label);
      } else {
        this.index.markDelete(label);
        this.labels.delete(label);
        this.deleted.add(label);
      }
    }
    this.dirty = true;
  }

  private asArray(vector: Float32Array): number[] {
    if (vector.length !== this.dim) throw new Error(`vector of dimension ${vector.length}, index expects ${this.dim}`);
    for (let i = 0; i < vector.length; i++) this.scratch[i] = vector[i]!;
    return this.scratch;
  }

  search(vector: Float32Array, k: number, exclude?: number): Neighbour[] {
    if (this.labels.size === 0) return [];
    const want = Math.min(this.labels.size, k + (exclude !== undefined ? 1 : 0));
    if (this.index.getEf() < want) this.index.setEf(want);
    const { neighbors, distances } = this.index.searchKnn(this.asArray(vector), want);
    const out: Neighbour[] = [];
    neighbors.forEach((label, i) => {
      if (label !== exclude) out.push({ label, score: 1 - distances[i]! });
    });
    return out.slice(0, k);
  }

  /** Writes the graph to a temp file and renames it over the old one, then the sidecar, so a crash leaves either the old or the new pair. */
  save(state: { generation: number; modelId: string }): void {
    const tmp = `${this.path}.tmp`;
    this.index.writeIndexSync(tmp);
    const bytes = statSync(tmp).size;
    renameSync(tmp, this.path);
    const side: IndexSidecar = {
      ...state,
      dim: this.dim,
      count: this.labels.size,
      bytes,
      params: { ...this.params, ...this.built },
      ...(this.deleted.size > 0 && { deleted: [...this.deleted] }),
    };
    writeFileSync(`${this.sidecarPath}.tmp`, JSON.stringify(side));
    renameSync(`${this.sidecarPath}.tmp`, this.sidecarPath);
    this.dirty = false;
  }

  /** Removes the saved files (used when the database is re-embedded with another model). */
  removeFiles(): void {
    rmSync(this.path, { force: true });
    rmSync(this.sidecarPath, { force: true });
  }
}
