// The ingest pipeline: prepare → embed (concurrent, bounded by p-queue) → decide and store
// (in input order, one SQLite transaction per batch). Each article is added to the vector index
// as soon as it is decided, so later articles of the same batch see it.
import PQueue from 'p-queue';
import type { ArticleVectors, PreparedArticle } from './article.ts';
import { type ArticleWorkers, mainThreadWorkers } from './article-workers.ts';
import { findCandidates } from './candidates.ts';
import { type Candidate, type Decision, decideCluster, type MatchMethod } from './cluster-decision.ts';
import type { Context } from './context.ts';
import type { InputError } from './errors.ts';
import type { InputItem, RawArticle } from './input.ts';

export type ArticleStatus = 'created' | 'joined' | 'merged' | 'unchanged';

export interface ArticleOutcome {
  id: string;
  cluster: number;
  status: ArticleStatus;
  matchedId?: string;
  score?: number;
  method?: MatchMethod;
  /** True when the id was stored before with other content, which this version replaced. */
  replaced?: boolean;
  /** How the model read the article, when not natively: only copies of it are then found (models/embedder.ts). */
  reading?: 'near' | 'none';
}

export interface RejectedInput {
  file: string;
  line?: number;
  id?: string;
  message: string;
}

export interface IngestSummary {
  ingested: number;
  skipped: number;
  rejected: number;
  articles: ArticleOutcome[];
  errors: RejectedInput[];
  /** Clusters that gained, lost or merged members in this run, in first-touched order. */
  touchedClusters: number[];
}

export interface Progress {
  done: number;
  rejected: number;
  elapsedMs: number;
}

interface Embedded extends ArticleVectors {
  article: PreparedArticle;
}

function rejection(err: InputError): RejectedInput {
  return { file: err.file, line: err.line, id: err.articleId, message: err.message };
}

/** What the decision saw for one article: enough to replay it under other thresholds (calibration). */
export interface DecisionRecord {
  id: string;
  lang: string;
  candidates: Candidate[];
}

export interface PipelineOptions {
  onDecision?: (record: DecisionRecord) => void;
}

export class Pipeline {
  constructor(
    private readonly ctx: Context,
    private readonly opts: PipelineOptions = {},
  ) {}

  async ingest(items: AsyncIterable<InputItem>, onProgress?: (p: Progress) => void): Promise<IngestSummary> {
    const { config, log } = this.ctx;
    const started = performance.now();
    const summary: IngestSummary = { ingested: 0, skipped: 0, rejected: 0, articles: [], errors: [], touchedClusters: [] };
    const touched = new Set<number>();
    const onMain = mainThreadWorkers(this.ctx.embedder);
    let threads: ArticleWorkers | undefined;
    let threadsStarting: Promise<void> | undefined;
    // At least one batch more than there are threads, so no thread waits for its next batch.
    const concurrency = Math.max(config.concurrency, config.threads + 1);
    const queue = new PQueue({ concurrency });
    let committing: Promise<void> = Promise.resolve();
    // The last rowid stored once the previous batch and the one before it are committed (at first,
    // the run's start): a batch reuses vectors only from the latter (see embedBatch).
    let storedByPrevious = Promise.resolve(this.ctx.store.lastRowid());
    let storedBeforePrevious = storedByPrevious;
    const inFlight: Promise<void>[] = [];
    let batch: RawArticle[] = [];
    const seen = new Set<string>();

    const reject = (err: InputError) => {
      summary.rejected++;
      summary.errors.push(rejection(err));
      log.warn({ file: err.file, line: err.line, id: err.articleId }, `rejected: ${err.message}`);
    };
    const record = (outcomes: ArticleOutcome[], clusters: Iterable<number>) => {
      for (const o of outcomes) {
        summary.articles.push(o);
        if (o.status === 'unchanged') summary.skipped++;
        else summary.ingested++;
      }
      for (const c of clusters) if (!touched.has(c)) touched.add(c);
      onProgress?.({ done: summary.articles.length, rejected: summary.rejected, elapsedMs: performance.now() - started });
    };

    const flush = async (last: boolean) => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      // Threads take a second or more to start (each compiles the code and loads the model again):
      // the main thread embeds batches itself until they are ready, so a short run never waits for
      // them (nor for threads it ends before they are ready), and input that fits in one batch does
      // not start them at all. Threads that cannot start leave the work to the main thread.
      if (!last) {
        threadsStarting ??= this.ctx.workers().then(
          (w) => void (threads = w),
          (err: Error) => log.warn({ err: err.message }, 'embedding threads did not start: the main thread embeds instead'),
        );
      }
      // The service runs one short ingest per batch: threads started by an earlier run serve this one.
      const workers = threads ?? this.ctx.readyWorkers() ?? onMain;
      const visible = storedBeforePrevious;
      const embedded = queue.add(() => this.embedBatch(workers, current, reject, visible));
      committing = committing.then(async () => {
        const { outcomes, clusters } = this.commitBatch(await embedded);
        record(outcomes, clusters);
      });
      // A failed commit is thrown to the caller once the loop awaits it; meanwhile (reading input)
      // neither it nor the batches embedded after it (they wait for it through `visible`, and are
      // never committed) may count as unhandled, which ends the process with SQLite's stack (a
      // full disk did).
      committing.catch(() => undefined);
      embedded.catch(() => undefined);
      const stored = committing.then(() => this.ctx.store.lastRowid());
      stored.catch(() => undefined); // a failed commit is reported through `committing`
      [storedBeforePrevious, storedByPrevious] = [storedByPrevious, stored];
      inFlight.push(committing);
      // Back-pressure: stop reading input while too many batches wait to be committed.
      while (inFlight.length > concurrency * 2) await inFlight.shift();
    };

    try {
      for await (const item of items) {
        if (!item.ok) {
          reject(item.error);
          continue;
        }
        const { id, origin } = item.article;
        // Allowed (the later version replaces the earlier, as on re-ingest) but rarely meant.
        if (seen.has(id)) log.warn({ file: origin.file, line: origin.line, id }, 'id read twice in this input: this version replaces the earlier one');
        seen.add(id);
        batch.push(item.article);
        if (batch.length >= config.batchSize) await flush(false);
      }
      await flush(true);
      await committing;
    } finally {
      await Promise.allSettled(inFlight);
      await queue.onIdle();
    }
    summary.touchedClusters = [...touched].map((c) => this.ctx.store.resolveCluster(c)).filter((c, i, all) => all.indexOf(c) === i);
    return summary;
  }

  /**
   * Prepares and embeds a batch (input errors go to `reject`); articles whose exact text is
   * already stored reuse its vectors instead of being embedded again. Only articles stored up to
   * `visible` (the batch before last, committed by the time this one is embedded) count, not
   * whatever the previous batch has committed by now: which articles are embedded together must
   * not depend on timing, as onnxruntime's sums differ in the last bit with a run's padding.
   */
  private async embedBatch(workers: ArticleWorkers, raws: RawArticle[], reject: (err: InputError) => void, visible: Promise<number>): Promise<Embedded[]> {
    const { store } = this.ctx;
    const batch: PreparedArticle[] = [];
    for (const p of await workers.prepare(raws)) {
      if (p.ok) batch.push(p.article);
      else reject(p.error);
    }
    const lastVisible = await visible;
    const reused = new Map<number, Embedded>();
    const toEmbed: PreparedArticle[] = [];
    batch.forEach((article, i) => {
      const same = store.articleByHash(article.contentHash);
      if (same && same.rowid <= lastVisible && same.title === article.title) {
        const vector = store.vectorOf(same.rowid)!;
        reused.set(i, { article, vector, windows: store.windowsForCopy(same.rowid), reading: same.reading });
      } else toEmbed.push(article);
    });
    const docs = toEmbed.length > 0 ? await workers.embed(toEmbed) : [];
    let k = 0;
    return batch.map((article, i) => reused.get(i) ?? { article, ...docs[k++]! });
  }

  private commitBatch(batch: Embedded[]): { outcomes: ArticleOutcome[]; clusters: Set<number> } {
    const { store, index, log } = this.ctx;
    const touched = new TouchedClusters();
    index.begin();
    try {
      const outcomes = store.transaction(() => {
        const result = batch.map((e) => this.commitOne(e, touched));
        this.finishClusters(touched);
        if (result.some((o) => o.status !== 'unchanged')) store.bumpGeneration();
        return result;
      });
      index.keep();
      return { outcomes, clusters: touched.all };
    } catch (err) {
      // SQLite rolled the batch back; the index already holds the vectors added before the failure.
      this.undoIndex(err as Error);
      throw err;
    }
  }

  /** Takes a rolled-back batch out of the index, or, should that fail too, rebuilds it from SQLite. */
  private undoIndex(cause: Error): void {
    const { store, index, log } = this.ctx;
    try {
      index.rollback();
      log.error({ err: cause.message }, 'batch failed and was rolled back, in the vector index too');
    } catch (undo) {
      log.error({ err: cause.message, undo: (undo as Error).message }, 'batch failed and was rolled back; rebuilding the vector index from SQLite');
      index.rebuild(store.vectors(), store.articleCount());
    }
  }

  private commitOne(e: Embedded, touched: TouchedClusters): ArticleOutcome {
    const { store, index, thresholds } = this.ctx;
    const { article } = e;
    const existing = store.articleById(article.id);
    if (existing && existing.contentHash === article.contentHash) {
      return { id: article.id, cluster: existing.clusterId, status: 'unchanged' };
    }
    // A recorded decision is replayed under other thresholds: it needs every candidate's evidence.
    const candidates = findCandidates(this.ctx, article, e, { excludeRowid: existing?.rowid, decisionOnly: !this.opts.onDecision });
    this.opts.onDecision?.({ id: article.id, lang: article.lang, candidates });
    const decision: Decision = decideCluster(article, candidates, thresholds);
    if (existing) {
      store.deleteMatchesOf(article.id);
      touched.lost(existing.clusterId);
    }
    // A new version of an article that was alone in its story stays in that story: a fresh id
    // each time would leave an empty cluster behind and break links to the old id.
    const staysAlone = decision.action === 'new' && existing && touched.gained(existing.clusterId) === 0 && store.cluster(existing.clusterId)?.size === 1;
    const clusterId = decision.action !== 'new' ? decision.clusterId : staysAlone ? existing.clusterId : store.createCluster();
    if (decision.action === 'merge') {
      for (const from of decision.mergeFrom) touched.merged(clusterId, from, store.mergeCluster(clusterId, from));
    }
    const rowid = store.writeArticle({ ...article, reading: e.reading }, clusterId, e.vector, e.windows, existing?.rowid);
    this.keepOriginal(decision, clusterId, rowid, article.publishedAt, touched);
    if (decision.action !== 'new') {
      for (const ev of decision.evidence) {
        store.addMatch({
          articleId: article.id,
          matchedId: ev.articleId,
          clusterId,
          score: ev.verified,
          method: ev.method,
          kind: ev.method === 'exact' ? 'exact' : (ev.evidence?.kind ?? (ev.lang === article.lang ? 'rewrite' : 'translation')),
          coverage: ev.evidence?.coverage ?? null,
          decision: decision.action,
        });
      }
    }
    index.add(rowid, e.vector);
    touched.joined(clusterId);
    const best = decision.action === 'new' ? undefined : decision.evidence[0];
    return {
      id: article.id,
      cluster: clusterId,
      status: decision.action === 'new' ? 'created' : decision.action === 'join' ? 'joined' : 'merged',
      ...(best && { matchedId: best.articleId, score: best.verified, method: best.method }),
      ...(existing && { replaced: true }),
      ...(e.reading !== 'native' && { reading: e.reading }),
    };
  }

  /**
   * Keeps the cluster's original current now, not at the end of the batch: the next article's
   * decision checks it (its size can wait). An undated article that joins without containing the
   * original cannot come before it (dated members come first, then the one named original), so in
   * that common case there is nothing to recompute, unless the cluster lost a member this batch.
   */
  private keepOriginal(decision: Decision, clusterId: number, rowid: number, publishedAt: string | null, touched: TouchedClusters): void {
    const { store } = this.ctx;
    if (decision.action === 'new') return store.setOriginal(clusterId, rowid); // its only member
    if (decision.containsOriginal) store.setOriginal(clusterId, rowid);
    else if (decision.action === 'join' && !publishedAt && !touched.shrank(clusterId)) return;
    store.refreshOriginal(clusterId);
  }

  /**
   * Brings the batch's clusters up to date. Their originals are current already (keepOriginal),
   * so a cluster that only gained members needs its new size alone; one that lost a member (to a
   * re-ingested article) is recounted and its original recomputed.
   */
  private finishClusters(touched: TouchedClusters): void {
    const { store } = this.ctx;
    for (const c of touched.all) {
      if (touched.shrank(c)) store.refreshCluster(c);
      else store.growCluster(c, touched.gained(c));
    }
  }
}

/** The clusters a batch touched (in the order first touched) and how. */
class TouchedClusters {
  readonly all = new Set<number>();
  private readonly gains = new Map<number, number>();
  private readonly losers = new Set<number>();

  /** An article joined (or started) the cluster. */
  joined(clusterId: number): void {
    this.all.add(clusterId);
    this.gains.set(clusterId, this.gained(clusterId) + 1);
  }

  /** A re-ingested article left the cluster. */
  lost(clusterId: number): void {
    this.all.add(clusterId);
    this.losers.add(clusterId);
  }

  /** `moved` members of `from` went into `into`; `from` is left empty. */
  merged(into: number, from: number, moved: number): void {
    this.all.add(from);
    this.gains.set(into, this.gained(into) + moved);
    this.gains.delete(from);
  }

  gained(clusterId: number): number {
    return this.gains.get(clusterId) ?? 0;
  }

  shrank(clusterId: number): boolean {
    return this.losers.has(clusterId);
  }
}
