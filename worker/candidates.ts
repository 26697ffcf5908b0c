// Candidate neighbours of an article and the evidence gathered for each: what the cluster
// decision (cluster-decision.ts) is a pure function of.
import type { Candidate, OriginalEvidence } from './cluster-decision.ts';
import type { Context } from './context.ts';
import type { Store } from '../db/store.ts';
import { type EvidenceSide, pairEvidence } from './evidence.ts';
import { dot } from './passages.ts';
import type { ArticleVectors, PreparedArticle } from './article.ts';

/** A window fingerprint found in this many stored articles is boilerplate (footers, disclaimers, bios). */
export const BOILERPLATE_ARTICLES = 5;
/** Neighbours below this cosine, or further down than this rank, are not worth passage evidence. */
const EVIDENCE_MIN_COSINE = 0.2;
const EVIDENCE_MAX_RANK = 5;

/**
 * Neighbours of an article with their evidence: the exact copy (same fingerprint) first when
 * there is one, then the nearest vectors. Passage and fingerprint evidence is gathered for the
 * nearest few above a low cosine floor, where a decision could possibly go their way.
 */
export function findCandidates(ctx: Context, article: PreparedArticle, vectors: ArticleVectors, excludeRowid?: number): Candidate[] {
  const { store, index, config } = ctx;
  const out: Candidate[] = [];
  const exact = store.articleByHash(article.contentHash);
  if (exact && exact.id !== article.id) {
    out.push({ articleId: exact.id, clusterId: exact.clusterId, score: 1, lang: exact.lang, method: 'exact' });
  }
  const self = { lang: article.lang, windows: vectors.windows, anchors: article.anchors, minhash: article.minhash };
  const isBoilerplate = boilerplateTest(store);
  const ranks = { same: 0, cross: 0 };
  for (const n of index.search(vectors.vector, config.neighbours, excludeRowid)) {
    const a = store.neighbour(n.label);
    if (!a || a.id === article.id || a.id === exact?.id) continue;
    const relation = a.lang === article.lang ? 'same' : 'cross';
    const rank = ranks[relation]++;
    const candidate: Candidate = { articleId: a.id, clusterId: a.clusterId, score: n.score, lang: a.lang, method: 'embedding', rank };
    if (n.score >= EVIDENCE_MIN_COSINE && rank < EVIDENCE_MAX_RANK) {
      candidate.evidence = pairEvidence(self, storedSide(store, a.rowid), isBoilerplate);
    }
    out.push(candidate);
  }
  attachOriginals(ctx, article, out, (rowid) => evidenceAgainst(ctx, self, vectors.vector, rowid, isBoilerplate));
  return out;
}

/** Whether a window fingerprint is known boilerplate; each one is looked up once per use, not once per comparison. */
export function boilerplateTest(store: Store): (hash: string) => boolean {
  const frequency = new Map<string, number>();
  return (hash) => {
    let n = frequency.get(hash);
    if (n === undefined) frequency.set(hash, (n = store.windowFrequency(hash)));
    return n >= BOILERPLATE_ARTICLES;
  };
}

/** A stored article as one side of a comparison. */
export function storedSide(store: Store, rowid: number): EvidenceSide {
  const a = store.neighbour(rowid)!;
  return { lang: a.lang, windows: store.windowsOf(rowid), anchors: a.anchors ?? [], minhash: a.minhash };
}

/** An article's evidence against a stored one that is not among its neighbours (so ranked past them). */
export function evidenceAgainst(ctx: Context, self: EvidenceSide, vector: Float32Array, rowid: number, isBoilerplate: (hash: string) => boolean): OriginalEvidence {
  const other = storedSide(ctx.store, rowid);
  return {
    articleId: ctx.store.neighbour(rowid)!.id,
    score: dot(vector, ctx.store.vectorOf(rowid)!),
    lang: other.lang,
    method: 'embedding',
    evidence: pairEvidence(self, other, isBoilerplate),
    rank: ctx.config.neighbours,
  };
}

/**
 * The article's evidence against the original of each examined neighbour's cluster (the decision
 * checks it: no joining a story through one drifted member; and it tells whether the article
 * contains the original). Reuses the neighbour's own evidence when the original is among the
 * neighbours; otherwise compares with it once per cluster.
 */
function attachOriginals(ctx: Context, article: PreparedArticle, candidates: Candidate[], against: (rowid: number) => OriginalEvidence): void {
  const { store } = ctx;
  const byCluster = new Map<number, OriginalEvidence | undefined>();
  for (const c of candidates) {
    if (c.method !== 'embedding' || !c.evidence) continue;
    if (!byCluster.has(c.clusterId)) {
      const rowid = store.originalOf(c.clusterId);
      const id = rowid === undefined ? undefined : store.neighbour(rowid)?.id;
      let original: OriginalEvidence | undefined;
      if (rowid !== undefined && id !== undefined && id !== article.id) {
        const seen = candidates.find((x) => x.articleId === id && x.method === 'embedding' && x.evidence);
        original = seen ? { articleId: id, score: seen.score, lang: seen.lang, method: 'embedding', evidence: seen.evidence, rank: seen.rank } : against(rowid);
      }
      byCluster.set(c.clusterId, original);
    }
    const original = byCluster.get(c.clusterId);
    if (original) c.original = original;
  }
}
