// The store: every SQL statement of newsdedup lives here, prepared once. Callers group writes
// with `transaction` (one per batch).
import Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { fromInt8Blob, type Quantised, quantise } from './int8.ts';
import { type Migration, migrate, pendingMigrations } from './migrate.ts';
import type { Reading } from '../models/embedder.ts';

export interface ArticleInput {
  id: string;
  source?: string | null;
  url?: string | null;
  title?: string | null;
  lang: string;
  publishedAt?: string | null;
  contentHash: string;
  text: string;
  /** MinHash of the text's word shingles (near-verbatim detection). */
  minhash?: Uint32Array | null;
  /** Numbers and other language-independent anchors. */
  anchors?: string[];
  /** How the model that built its vectors reads the article (models/embedder.ts); default native. */
  reading?: Reading;
}

export interface StoredArticle extends ArticleInput {
  rowid: number;
  reading: Reading;
  clusterId: number;
  ingestedAt: string;
}

/** What the cluster decision needs of a stored neighbour (no text: reading it is most of the cost). */
export type NeighbourArticle = Pick<StoredArticle, 'rowid' | 'id' | 'clusterId' | 'lang' | 'minhash' | 'anchors' | 'reading'>;

export interface StoredWindow {
  idx: number;
  start: number;
  end: number;
  tokens: number;
  /** Fingerprint of the window's words (worker/fingerprints.ts). */
  hash: string;
  vector: Float32Array;
}

/** A window row as read: `encoding` says how its vector bytes are stored. */
type WindowRow = Omit<StoredWindow, 'vector'> & { vector: Buffer; encoding: number };

/** `windows.encoding` of int8 vectors with a scale (migration 6); 0 is float32, written before it. */
const INT8_WINDOW = 1;

const windowVector = (blob: Buffer, encoding: number): Float32Array => (encoding === INT8_WINDOW ? fromInt8Blob(blob) : fromBlob(blob));

/** A window as written: its quantised form comes along when an embedding thread made it. */
export type NewWindow = Omit<StoredWindow, 'idx'> & { quantised?: Quantised };

export interface MatchRecord {
  articleId: string;
  matchedId: string;
  clusterId: number;
  score: number;
  method: string;
  /** exact | near-verbatim | translation | rewrite */
  kind: string;
  /** Passage coverage between the two articles, when it was measured. */
  coverage: number | null;
  decision: string;
}

export interface StoredMatch extends MatchRecord {
  /** The matched article was replaced after this evidence was recorded: it is about its earlier text. */
  earlierVersion: boolean;
}

const storedMatches = (rows: unknown[]): StoredMatch[] =>
  (rows as (MatchRecord & { earlierVersion: number })[]).map((r) => ({ ...r, earlierVersion: r.earlierVersion === 1 }));

export interface ClusterSummary {
  id: number;
  size: number;
  canonical: { id: string; title: string | null; lang: string; publishedAt: string | null } | null;
  languages: string[];
  createdAt: string;
  updatedAt: string;
}

export interface ClusterMember {
  id: string;
  title: string | null;
  lang: string;
  source: string | null;
  publishedAt: string | null;
}

interface ArticleRow {
  rowid: number;
  id: string;
  source: string | null;
  url: string | null;
  title: string | null;
  lang: string;
  published_at: string | null;
  ingested_at: string;
  content_hash: string;
  text: string;
  cluster_id: number;
  minhash: Buffer | null;
  anchors: string;
  reading: Reading;
}

export function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function fromBlob(b: Buffer): Float32Array {
  // Copy: the Buffer may share a pool, and Float32Array needs 4-byte alignment.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

const decodeMinhash = (b: Buffer | null) => (b ? new Uint32Array(Uint8Array.from(b).buffer) : null);

function toArticle(r: ArticleRow): StoredArticle {
  return {
    rowid: r.rowid,
    id: r.id,
    source: r.source,
    url: r.url,
    title: r.title,
    lang: r.lang,
    publishedAt: r.published_at,
    ingestedAt: r.ingested_at,
    contentHash: r.content_hash,
    text: r.text,
    clusterId: r.cluster_id,
    minhash: decodeMinhash(r.minhash),
    anchors: JSON.parse(r.anchors) as string[],
    reading: r.reading,
  };
}

/**
 * A cluster's original: the earliest published member; among undated members the one named by
 * setOriginal while it stays a member, else the first ingested.
 */
const ORIGINAL = `(SELECT rowid FROM articles WHERE cluster_id = @id
                   ORDER BY published_at IS NULL, published_at, rowid = clusters.canonical DESC, rowid LIMIT 1)`;

/**
 * Stored evidence, and whether the matched article has been replaced since (its id came back with
 * new content): the evidence then describes the earlier version.
 */
const MATCH_QUERY = `SELECT m.article_id AS articleId, m.matched_id AS matchedId, m.cluster_id AS clusterId, m.score, m.method, m.kind,
                            m.coverage, m.decision, coalesce(m.created_at < a.ingested_at, 0) AS earlierVersion
                     FROM matches m LEFT JOIN articles a ON a.id = m.matched_id`;

const ARTICLE_COLS = 'rowid, id, source, url, title, lang, published_at, ingested_at, content_hash, text, cluster_id, minhash, anchors, reading';

/**
 * What is decoded of this many recently read or written articles stays in memory: each new
 * article is compared with its nearest neighbours, and neighbours recur (a story's members are
 * compared with every newcomer to it). Windows are about 8 KB an article, so a few tens of MB.
 */
const CACHED_ARTICLES = 4096;
/** Fingerprint counts kept (about 100k articles' windows); the whole cache is dropped past it. */
const CACHED_COUNTS = 1_000_000;

/** Cluster ids by article rowid (0: not known), about 4 bytes an article: an LRU cost more than the reads it saved. */
class ClusterIds {
  private ids = new Int32Array(1024);

  get(rowid: number): number | undefined {
    return this.ids[rowid] || undefined;
  }

  set(rowid: number, clusterId: number): void {
    if (rowid >= this.ids.length) {
      const grown = new Int32Array(Math.max(rowid + 1, this.ids.length * 2));
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[rowid] = clusterId;
  }

  clear(): void {
    this.ids.fill(0);
  }
}

/** What a neighbour's comparison reads that only changes when the article is rewritten (its cluster does change). */
type NeighbourFacts = Omit<NeighbourArticle, 'clusterId'>;

/** What makes two articles' stored vectors comparable: the same model, used the same way. */
export interface VectorSpace {
  modelId: string;
  dim: number;
  /** The embedder's settings besides the weights (window size, centering); absent in older databases. */
  settings?: string;
}

/** The model a re-embedding is moving the database to, recorded in `meta` while it runs. */
export interface ReembedTarget extends Required<VectorSpace> {
  /** The command-line flags that load that model (`--model-dir DIR`, `--model ID --dtype q8`), for the message that asks to finish it. */
  modelFlags: string;
}

/**
 * A database a read-only Store cannot use as it is: not a newsdedup database (`pending` undefined),
 * or one that needs migrations (`pending`), which a reader does not apply.
 */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly pending: Migration[] | undefined,
  ) {
    super(pending ? `${path} needs migration${pending.length > 1 ? 's' : ''} ${pending.map((m) => m.version).join(', ')}` : `${path} is not a newsdedup database`);
    this.name = 'SchemaError';
  }
}

export class Store {
  readonly db: Database.Database;
  private readonly s;
  private readonly windowCache = new LRUCache<number, readonly StoredWindow[]>({ max: CACHED_ARTICLES });
  private readonly factCache = new LRUCache<number, NeighbourFacts>({ max: CACHED_ARTICLES });
  private readonly vectorCache = new LRUCache<number, Float32Array>({ max: CACHED_ARTICLES });
  /**
   * What changes as articles are written (each article's cluster, each fingerprint's article
   * count), read for every neighbour of every decision: kept exact by this connection's own
   * writes and used only inside a transaction. Every cache is dropped when another connection
   * has written since the last transaction.
   */
  private readonly clusterCache = new ClusterIds();
  private readonly dfCache = new Map<string, number>();
  private dataVersion = -1;
  /** Inside transaction(): no other connection can write until it ends. */
  private writing = false;

  /**
   * Opens (a writer: creates) the database and applies the migrations it has not seen. `readonly`
   * opens it as SQLite's read-only connection that writes nothing, not even the schema: the file
   * must exist and be a current newsdedup database, else SchemaError (or SQLite's own error: a
   * file that is not SQLite, a WAL database whose -shm file this user cannot create).
   */
  constructor(
    readonly path: string,
    opts: { readonly?: boolean } = {},
  ) {
    this.db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    if (opts.readonly) {
      try {
        const pending = pendingMigrations(this.db);
        if (!pending || pending.length > 0) throw new SchemaError(path, pending);
      } catch (err) {
        this.db.close();
        throw err;
      }
    } else {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      migrate(this.db);
    }
    this.db.pragma('busy_timeout = 5000');
    const p = (sql: string) => this.db.prepare(sql);
    this.s = {
      getModel: p('SELECT model_id AS modelId, dim FROM model WHERE singleton = 1'),
      setModel: p(`INSERT INTO model (singleton, model_id, dim, recorded_at) VALUES (1, ?, ?, ?)
                   ON CONFLICT(singleton) DO UPDATE SET model_id = excluded.model_id, dim = excluded.dim, recorded_at = excluded.recorded_at`),
      getMeta: p('SELECT value FROM meta WHERE key = ?'),
      setMeta: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      deleteMeta: p('DELETE FROM meta WHERE key = ?'),
      articleById: p(`SELECT ${ARTICLE_COLS} FROM articles WHERE id = ?`),
      articleByRowid: p(`SELECT ${ARTICLE_COLS} FROM articles WHERE rowid = ?`),
      clusterOf: p('SELECT cluster_id FROM articles WHERE rowid = ?').pluck(),
      neighbourFacts: p('SELECT rowid, id, lang, minhash, anchors, reading FROM articles WHERE rowid = ?'),
      articleByHash: p(`SELECT ${ARTICLE_COLS} FROM articles WHERE content_hash = ? ORDER BY rowid LIMIT 1`),
      vectorOf: p('SELECT vector FROM articles WHERE rowid = ?'),
      lastRowid: p('SELECT max(rowid) FROM articles').pluck(),
      insertArticle: p(`INSERT INTO articles (id, source, url, title, lang, published_at, ingested_at, content_hash, text, cluster_id, vector, minhash, anchors, reading)
                        VALUES (@id, @source, @url, @title, @lang, @publishedAt, @ingestedAt, @contentHash, @text, @clusterId, @vector, @minhash, @anchors, @reading)`),
      updateArticle: p(`UPDATE articles SET source = @source, url = @url, title = @title, lang = @lang, published_at = @publishedAt,
                        ingested_at = @ingestedAt, content_hash = @contentHash, text = @text, cluster_id = @clusterId, vector = @vector,
                        minhash = @minhash, anchors = @anchors, reading = @reading
                        WHERE rowid = @rowid`),
      setVector: p('UPDATE articles SET vector = ?, reading = ? WHERE rowid = ?'),
      deleteWindows: p('DELETE FROM windows WHERE article_rowid = ?'),
      insertWindow: p('INSERT INTO windows (article_rowid, idx, start, end, tokens, hash, vector, encoding) VALUES (?, ?, ?, ?, ?, ?, ?, 1)'),
      windowsOf: p('SELECT idx, start, end, tokens, hash, vector, encoding FROM windows WHERE article_rowid = ? ORDER BY idx'),
      windowHashesOf: p('SELECT DISTINCT hash FROM windows WHERE article_rowid = ?').pluck(),
      dfUp: p('INSERT INTO window_df (hash, articles) VALUES (?, 1) ON CONFLICT(hash) DO UPDATE SET articles = articles + 1 RETURNING articles').pluck(),
      dfDown: p('UPDATE window_df SET articles = articles - 1 WHERE hash = ? RETURNING articles').pluck(),
      dfOf: p('SELECT articles FROM window_df WHERE hash = ?').pluck(),
      articlesWithWindow: p('SELECT DISTINCT article_rowid FROM windows WHERE hash = ?').pluck(),
      dataVersion: p('PRAGMA data_version').pluck(),
      deleteMatchesOf: p('DELETE FROM matches WHERE article_id = ?'),
      insertMatch: p(`INSERT INTO matches (article_id, matched_id, cluster_id, score, method, kind, coverage, decision, created_at)
                      VALUES (@articleId, @matchedId, @clusterId, @score, @method, @kind, @coverage, @decision, @createdAt)`),
      matchesOfCluster: p(`${MATCH_QUERY} WHERE m.cluster_id = ? ORDER BY m.id`),
      createCluster: p('INSERT INTO clusters (size, created_at, updated_at) VALUES (0, ?, ?)'),
      mergedInto: p('SELECT merged_into AS mergedInto FROM clusters WHERE id = ?'),
      moveMembers: p('UPDATE articles SET cluster_id = ? WHERE cluster_id = ? RETURNING rowid').pluck(),
      moveMatches: p('UPDATE matches SET cluster_id = ? WHERE cluster_id = ?'),
      originalOf: p('SELECT canonical FROM clusters WHERE id = ?').pluck(),
      markMerged: p('UPDATE clusters SET merged_into = ?, size = 0, canonical = NULL, updated_at = ? WHERE id = ?'),
      setOriginal: p('UPDATE clusters SET canonical = ? WHERE id = ?'),
      refreshCluster: p(`UPDATE clusters SET size = (SELECT count(*) FROM articles WHERE cluster_id = @id), canonical = ${ORIGINAL}, updated_at = @now
                         WHERE id = @id`),
      refreshOriginal: p(`UPDATE clusters SET canonical = ${ORIGINAL} WHERE id = @id`),
      growCluster: p('UPDATE clusters SET size = size + @members, updated_at = @now WHERE id = @id'),
      clusterById: p(`SELECT c.id, c.size, c.created_at AS createdAt, c.updated_at AS updatedAt,
                             a.id AS canonicalId, a.title AS canonicalTitle, a.lang AS canonicalLang, a.published_at AS canonicalPublished,
                             (SELECT group_concat(DISTINCT lang) FROM (SELECT lang FROM articles WHERE cluster_id = c.id ORDER BY lang)) AS langs
                      FROM clusters c LEFT JOIN articles a ON a.rowid = c.canonical WHERE c.id = ?`),
      clusterIds: p('SELECT id FROM clusters WHERE merged_into IS NULL AND size >= ? ORDER BY id'),
      members: p(`SELECT id, title, lang, source, published_at AS publishedAt FROM articles WHERE cluster_id = ?
                  ORDER BY published_at IS NULL, published_at, rowid`),
      exportRows: p(`SELECT a.id, a.cluster_id AS cluster, c2.id AS canonical, a.lang
                     FROM articles a JOIN clusters c ON c.id = a.cluster_id LEFT JOIN articles c2 ON c2.rowid = c.canonical
                     ORDER BY a.cluster_id, a.rowid`),
      rowids: p('SELECT rowid FROM articles ORDER BY rowid').pluck(),
      allVectors: p('SELECT rowid, vector FROM articles ORDER BY rowid'),
      counts: p(`SELECT (SELECT count(*) FROM articles) AS articles,
                        (SELECT count(*) FROM clusters WHERE merged_into IS NULL AND size > 0) AS clusters,
                        (SELECT count(*) FROM clusters WHERE merged_into IS NULL AND size > 1) AS multiClusters,
                        (SELECT count(*) FROM matches) AS matches,
                        (SELECT count(*) FROM windows) AS windows`),
      articleCount: p('SELECT count(*) FROM articles').pluck(),
      languages: p('SELECT lang, count(*) AS n FROM articles GROUP BY lang ORDER BY n DESC'),
      recentClusterIds: p(`SELECT c.id FROM clusters c
                           WHERE c.merged_into IS NULL AND c.size >= @minSize
                             AND (@since IS NULL OR c.updated_at >= @since)
                             AND (@lang IS NULL OR EXISTS (SELECT 1 FROM articles a WHERE a.cluster_id = c.id AND a.lang = @lang))
                           ORDER BY c.updated_at DESC, c.id DESC LIMIT @limit`),
      matchesOfArticle: p(`${MATCH_QUERY} WHERE m.article_id = ? ORDER BY m.id`),
      firstMembers: p(`SELECT id, title, lang, source, published_at AS publishedAt FROM articles WHERE cluster_id = ?
                       ORDER BY published_at IS NULL, published_at, rowid LIMIT ?`),
    };
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(() => {
        // Another connection's commit since the last transaction may have changed anything cached.
        const version = this.s.dataVersion.get() as number;
        if (version !== this.dataVersion) this.dropCaches();
        this.dataVersion = version;
        const outer = this.writing;
        this.writing = true;
        try {
          return fn();
        } finally {
          this.writing = outer;
        }
      })();
    } catch (err) {
      // The rolled-back rows may be cached under rowids that will be reused.
      this.dropCaches();
      throw err;
    }
  }

  private dropCaches(): void {
    this.windowCache.clear();
    this.factCache.clear();
    this.vectorCache.clear();
    this.clusterCache.clear();
    this.dfCache.clear();
  }

  /** The article's cluster (undefined: no such article). */
  private clusterOf(rowid: number): number | undefined {
    const cached = this.writing ? this.clusterCache.get(rowid) : undefined;
    if (cached !== undefined) return cached;
    const clusterId = this.s.clusterOf.get(rowid) as number | undefined;
    if (clusterId !== undefined) this.clusterCache.set(rowid, clusterId);
    return clusterId;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Throws SQLite's own error (SQLITE_READONLY...) when this connection cannot write: SQLite opens a
   * file the user may not write read-only without a word, and says so only at the first write. A
   * row is written and rolled back, so nothing changes.
   */
  assertWritable(): void {
    this.db.exec('SAVEPOINT write_check');
    try {
      this.s.setMeta.run('write_check', '');
    } finally {
      this.db.exec('ROLLBACK TO write_check; RELEASE write_check');
    }
  }

  /** The model whose vectors the database holds, and the settings it was used with. */
  getModel(): VectorSpace | undefined {
    const model = this.s.getModel.get() as { modelId: string; dim: number } | undefined;
    const settings = this.getMeta('vector_settings');
    return model && (settings === undefined ? model : { ...model, settings });
  }

  setModel(modelId: string, dim: number, settings?: string): void {
    this.s.setModel.run(modelId, dim, new Date().toISOString());
    if (settings !== undefined) this.setMeta('vector_settings', settings);
  }

  /**
   * The re-embedding under way or interrupted, if any: from the commit before its first article is
   * rewritten to the one that records the new model, the stored vectors belong to two models.
   */
  reembedTarget(): ReembedTarget | undefined {
    const v = this.getMeta('reembed_to');
    return v === undefined ? undefined : (JSON.parse(v) as ReembedTarget);
  }

  beginReembed(target: ReembedTarget): void {
    this.setMeta('reembed_to', JSON.stringify(target));
  }

  /** Records the model the re-embedding has moved every article to, and clears the mark (call both in one transaction). */
  finishReembed(target: ReembedTarget): void {
    this.setModel(target.modelId, target.dim, target.settings);
    this.s.deleteMeta.run('reembed_to');
  }

  getMeta(key: string): string | undefined {
    return (this.s.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value);
  }

  /** Decision thresholds calibrated for a model on this database's own labelled data, if any. */
  calibration(modelId: string): Record<string, unknown> | undefined {
    const v = this.getMeta(`thresholds:${modelId}`);
    return v ? (JSON.parse(v) as Record<string, unknown>) : undefined;
  }

  setCalibration(modelId: string, thresholds: Record<string, unknown>): void {
    this.setMeta(`thresholds:${modelId}`, JSON.stringify(thresholds));
  }

  /** A counter bumped by every committed write batch: an index file saved at another generation is stale. */
  generation(): number {
    return Number(this.getMeta('generation') ?? 0);
  }

  bumpGeneration(): number {
    const next = this.generation() + 1;
    this.setMeta('generation', String(next));
    return next;
  }

  articleById(id: string): StoredArticle | undefined {
    const r = this.s.articleById.get(id) as ArticleRow | undefined;
    return r && toArticle(r);
  }

  articleByRowid(rowid: number): StoredArticle | undefined {
    const r = this.s.articleByRowid.get(rowid) as ArticleRow | undefined;
    return r && toArticle(r);
  }

  neighbour(rowid: number): NeighbourArticle | undefined {
    const clusterId = this.clusterOf(rowid);
    if (clusterId === undefined) return undefined;
    let facts = this.factCache.get(rowid);
    if (!facts) {
      const r = this.s.neighbourFacts.get(rowid) as Pick<ArticleRow, 'rowid' | 'id' | 'lang' | 'minhash' | 'anchors' | 'reading'>;
      facts = { rowid: r.rowid, id: r.id, lang: r.lang, minhash: decodeMinhash(r.minhash), anchors: JSON.parse(r.anchors) as string[], reading: r.reading };
      this.factCache.set(rowid, facts);
    }
    return { ...facts, clusterId };
  }

  articleByHash(hash: string): StoredArticle | undefined {
    const r = this.s.articleByHash.get(hash) as ArticleRow | undefined;
    return r && toArticle(r);
  }

  /** The article's document vector. Shared with a cache: callers must not modify it. */
  vectorOf(rowid: number): Float32Array | undefined {
    let vector = this.vectorCache.get(rowid);
    if (!vector) {
      const r = this.s.vectorOf.get(rowid) as { vector: Buffer } | undefined;
      if (!r) return undefined;
      vector = fromBlob(r.vector);
      this.vectorCache.set(rowid, vector);
    }
    return vector;
  }

  /** The article's windows in order. Shared with a cache: callers must not modify them. */
  windowsOf(rowid: number): readonly StoredWindow[] {
    let windows = this.windowCache.get(rowid);
    if (!windows) {
      windows = this.windowRows(rowid).map(({ encoding, vector, ...w }) => ({ ...w, vector: windowVector(vector, encoding) }));
      this.windowCache.set(rowid, windows);
    }
    return windows;
  }

  private windowRows(rowid: number): WindowRow[] {
    return this.s.windowsOf.all(rowid) as WindowRow[];
  }

  /**
   * An article's windows as a copy of it would write them: int8 windows with their stored bytes, so
   * that the copy's windows are the same to the last bit (quantising a read-back vector again can
   * move its scale by one float32 step).
   */
  windowsForCopy(rowid: number): NewWindow[] {
    return this.windowRows(rowid).map(({ idx, encoding, vector: blob, ...w }) => {
      const vector = windowVector(blob, encoding);
      return encoding === INT8_WINDOW ? { ...w, vector, quantised: { blob, vector } } : { ...w, vector };
    });
  }

  /** Inserts a new article, or rewrites the one with this rowid; replaces its windows. Returns the rowid. */
  writeArticle(a: ArticleInput, clusterId: number, vector: Float32Array, windows: readonly NewWindow[], rowid?: number): number {
    const row = {
      id: a.id,
      source: a.source ?? null,
      url: a.url ?? null,
      title: a.title ?? null,
      lang: a.lang,
      publishedAt: a.publishedAt ?? null,
      ingestedAt: new Date().toISOString(),
      contentHash: a.contentHash,
      text: a.text,
      clusterId,
      vector: toBlob(vector),
      minhash: a.minhash ? Buffer.from(a.minhash.buffer, a.minhash.byteOffset, a.minhash.byteLength) : null,
      anchors: JSON.stringify(a.anchors ?? []),
      reading: a.reading ?? 'native',
    };
    if (rowid === undefined) {
      rowid = Number(this.s.insertArticle.run(row).lastInsertRowid);
    } else {
      this.s.updateArticle.run({ ...row, rowid });
      this.factCache.delete(rowid);
      this.deleteWindows(rowid);
    }
    this.clusterCache.set(rowid, clusterId);
    this.vectorCache.set(rowid, fromBlob(row.vector));
    this.insertWindows(rowid, windows);
    return rowid;
  }

  /** Window rows plus the document frequency of their fingerprints. */
  private insertWindows(rowid: number, windows: readonly NewWindow[]): void {
    // The cache holds what a later read would decode, so a comparison never depends on whether it hit.
    const stored = windows.map((w, idx) => {
      const { blob, vector } = w.quantised ?? quantise(w.vector);
      this.s.insertWindow.run(rowid, idx, w.start, w.end, w.tokens, w.hash, Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
      return { idx, start: w.start, end: w.end, tokens: w.tokens, hash: w.hash, vector };
    });
    this.windowCache.set(rowid, stored);
    for (const hash of new Set(windows.map((w) => w.hash))) this.setFrequency(hash, this.s.dfUp.get(hash) as number);
  }

  private deleteWindows(rowid: number): void {
    this.windowCache.delete(rowid);
    for (const hash of this.s.windowHashesOf.all(rowid) as string[]) this.setFrequency(hash, this.s.dfDown.get(hash) as number);
    this.s.deleteWindows.run(rowid);
  }

  /** In how many stored articles a window fingerprint occurs. */
  windowFrequency(hash: string): number {
    let n = this.writing ? this.dfCache.get(hash) : undefined;
    if (n === undefined) {
      n = (this.s.dfOf.get(hash) as number | undefined) ?? 0;
      this.setFrequency(hash, n);
    }
    return n;
  }

  private setFrequency(hash: string, n: number): void {
    if (this.dfCache.size >= CACHED_COUNTS && !this.dfCache.has(hash)) this.dfCache.clear();
    this.dfCache.set(hash, n);
  }

  /** In how many clusters (stories) the stored articles with a window fingerprint are, counted up to `limit`. */
  storiesWith(hash: string, limit: number): number {
    const stories = new Set<number>();
    // The articles' clusters come from the cache: reading cluster_id from the article row reads past its text.
    // Iterated, not fetched whole: a paragraph reused by thousands of articles usually shows `limit`
    // stories within its first rows, and each row costs a cluster lookup (a disk read for a reader).
    for (const rowid of this.s.articlesWithWindow.iterate(hash) as IterableIterator<number>) {
      const clusterId = this.clusterOf(rowid);
      if (clusterId !== undefined) stories.add(clusterId);
      if (stories.size >= limit) break;
    }
    return stories.size;
  }

  /** Replaces an article's vectors (re-embedding), leaving everything else as it is. */
  replaceVectors(rowid: number, vector: Float32Array, windows: readonly NewWindow[], reading: Reading = 'native'): void {
    this.s.setVector.run(toBlob(vector), reading, rowid);
    this.factCache.delete(rowid);
    this.vectorCache.set(rowid, Float32Array.from(vector));
    this.deleteWindows(rowid);
    this.insertWindows(rowid, windows);
  }

  rowids(): number[] {
    return this.s.rowids.all() as number[];
  }

  deleteMatchesOf(articleId: string): void {
    this.s.deleteMatchesOf.run(articleId);
  }

  addMatch(m: MatchRecord): void {
    this.s.insertMatch.run({ ...m, createdAt: new Date().toISOString() });
  }

  matchesOfCluster(clusterId: number): StoredMatch[] {
    return storedMatches(this.s.matchesOfCluster.all(clusterId));
  }

  createCluster(): number {
    const now = new Date().toISOString();
    return Number(this.s.createCluster.run(now, now).lastInsertRowid);
  }

  /** Follows merge links to the cluster that now holds the members. */
  resolveCluster(id: number): number {
    for (let hops = 0; hops < 1000; hops++) {
      const r = this.s.mergedInto.get(id) as { mergedInto: number | null } | undefined;
      if (!r?.mergedInto) return id;
      id = r.mergedInto;
    }
    throw new Error(`cluster merge chain from ${id} does not end`);
  }

  /** Moves every member and match of `from` into `into`; `from` keeps its id as a pointer to `into`. Returns the members moved. */
  mergeCluster(into: number, from: number): number {
    const now = new Date().toISOString();
    const moved = this.s.moveMembers.all(into, from) as number[];
    for (const rowid of moved) this.clusterCache.set(rowid, into);
    this.s.moveMatches.run(into, from);
    this.s.markMerged.run(into, now, from);
    return moved.length;
  }

  /** The rowid of a cluster's canonical article (its likely original), as last refreshed. */
  originalOf(clusterId: number): number | undefined {
    return (this.s.originalOf.get(clusterId) as number | null | undefined) ?? undefined;
  }

  /** Names an article its cluster's original; a dated member still comes first (refreshCluster). */
  setOriginal(clusterId: number, rowid: number): void {
    this.s.setOriginal.run(rowid, clusterId);
  }

  /** Recomputes size and canonical article (the likely original, see ORIGINAL). */
  refreshCluster(id: number): void {
    this.s.refreshCluster.run({ id, now: new Date().toISOString() });
  }

  /** Adds `members` to the cluster's size (which refreshCluster counted last) and marks it updated. */
  growCluster(id: number, members: number): void {
    this.s.growCluster.run({ id, members, now: new Date().toISOString() });
  }

  /** Recomputes the canonical article alone (refreshCluster also counts the members). */
  refreshOriginal(id: number): void {
    this.s.refreshOriginal.run({ id });
  }

  cluster(id: number): ClusterSummary | undefined {
    const r = this.s.clusterById.get(id) as
      | {
          id: number;
          size: number;
          createdAt: string;
          updatedAt: string;
          canonicalId: string | null;
          canonicalTitle: string | null;
          canonicalLang: string | null;
          canonicalPublished: string | null;
          langs: string | null;
        }
      | undefined;
    if (!r) return undefined;
    return {
      id: r.id,
      size: r.size,
      canonical: r.canonicalId
        ? { id: r.canonicalId, title: r.canonicalTitle, lang: r.canonicalLang!, publishedAt: r.canonicalPublished }
        : null,
      languages: r.langs ? r.langs.split(',') : [],
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  }

  clusterIds(minSize = 1): number[] {
    return (this.s.clusterIds.all(minSize) as { id: number }[]).map((r) => r.id);
  }

  members(clusterId: number): ClusterMember[] {
    return this.s.members.all(clusterId) as ClusterMember[];
  }

  /** Live clusters, most recently updated first: at least `minSize` members, updated at or after `since` (ISO time), with a member in `lang`. */
  recentClusterIds(filter: { minSize: number; limit: number; since?: string; lang?: string }): number[] {
    return (this.s.recentClusterIds.all({ minSize: filter.minSize, limit: filter.limit, since: filter.since ?? null, lang: filter.lang ?? null }) as { id: number }[]).map(
      (r) => r.id,
    );
  }

  /** The first `limit` members of a cluster, in the order of members(). */
  firstMembers(clusterId: number, limit: number): ClusterMember[] {
    return this.s.firstMembers.all(clusterId, limit) as ClusterMember[];
  }

  /** The evidence recorded for one article's cluster decision. */
  matchesOfArticle(articleId: string): StoredMatch[] {
    return storedMatches(this.s.matchesOfArticle.all(articleId));
  }

  exportRows(): { id: string; cluster: number; canonical: string; lang: string }[] {
    return this.s.exportRows.all() as { id: string; cluster: number; canonical: string; lang: string }[];
  }

  *vectors(): IterableIterator<{ rowid: number; vector: Float32Array }> {
    for (const r of this.s.allVectors.iterate() as IterableIterator<{ rowid: number; vector: Buffer }>) {
      yield { rowid: r.rowid, vector: fromBlob(r.vector) };
    }
  }

  counts(): { articles: number; clusters: number; multiClusters: number; matches: number; windows: number } {
    return this.s.counts.get() as { articles: number; clusters: number; multiClusters: number; matches: number; windows: number };
  }

  /** The highest article rowid in use (0 when empty): articles stored later have higher ones. */
  lastRowid(): number {
    return (this.s.lastRowid.get() as number | null) ?? 0;
  }

  /** The article count alone: counts() also scans every window, seconds at a million articles. */
  articleCount(): number {
    return this.s.articleCount.get() as number;
  }

  languages(): { lang: string; n: number }[] {
    return this.s.languages.all() as { lang: string; n: number }[];
  }
}
