// Candidate neighbours of an article and the evidence gathered for each: what the cluster
// decision (cluster-decision.ts) is a pure function of.
import { asOriginal, type Candidate, clearsJoinBar, type OriginalEvidence, scoreCandidate } from './cluster-decision.ts';
import type { Context } from './context.ts';
import { LRUCache } from 'lru-cache';
import type { NeighbourArticle, Store } from '../db/store.ts';
import { type EvidenceSide, pairEvidence } from './evidence.ts';
import { dot } from './passages.ts';
import type { ArticleVectors, PreparedArticle } from './article.ts';
import type { Reading } from '../models/embedder.ts';

/** A window fingerprint found in this many stored articles is boilerplate (footers, disclaimers, bios). */
export const BOILERPLATE_ARTICLES = 5;
/** Neighbours below this cosine, or further down than this rank, are not worth passage evidence. */
const EVIDENCE_MIN_COSINE = 0.2;
const EVIDENCE_MAX_RANK = 5;

export interface CandidateOptions {
  /** A stored version of the article itself, left out of the neighbours. */
  excludeRowid?: number;
  /**
   * Gather only evidence the decision under `ctx.thresholds` can use; the decision is the same
   * either way. Callers that show or record every candidate (check, calibration) leave it off.
   */
  decisionOnly?: boolean;
}

/**
 * Neighbours of an article with their evidence: the exact copy (same fingerprint) first when
 * there is one, then the nearest vectors. Passage and fingerprint evidence is gathered for the
 * nearest few above a low cosine floor, where a decision could possibly go their way.
 */
export function findCandidates(ctx: Context, article: PreparedArticle, vectors: ArticleVectors, opts: CandidateOptions = {}): Candidate[] {
  const { store, index, config, thresholds } = ctx;
  const out: Candidate[] = [];
  const exact = store.articleByHash(article.contentHash);
  if (exact && exact.id !== article.id) {
    out.push({ articleId: exact.id, clusterId: exact.clusterId, score: 1, lang: exact.lang, method: 'exact' });
  }
  // An exact copy decides the cluster joined: the others of its cluster change nothing (only
  // other clusters may be merged in), so their evidence is not needed.
  const decided = opts.decisionOnly && out[0] ? out[0].clusterId : undefined;
  const self: Side = { lang: article.lang, windows: vectors.windows, anchors: article.anchors, minhash: article.minhash, reading: vectors.reading };
  const isBoilerplate = boilerplateTest(store);
  const ranks = { same: 0, cross: 0 };
  for (const n of index.search(vectors.vector, config.neighbours, opts.excludeRowid)) {
    const a = store.neighbour(n.label);
    if (!a || a.id === article.id || a.id === exact?.id) continue;
    const relation = a.lang === article.lang ? 'same' : 'cross';
    const rank = ranks[relation]++;
    const candidate: Candidate = { articleId: a.id, clusterId: a.clusterId, score: n.score, lang: a.lang, method: 'embedding', ...lexicalOnly(self, a) };
    if (n.score >= EVIDENCE_MIN_COSINE && rank < EVIDENCE_MAX_RANK && a.clusterId !== decided) {
      candidate.evidence = pairEvidence(self, sideOf(store, a), isBoilerplate);
    }
    out.push(candidate);
  }
  // The original check only applies to a neighbour that clears its join bar by its own score.
  const needsOriginal = opts.decisionOnly
    ? (c: Candidate) => clearsJoinBar(article.lang, scoreCandidate(article.lang, c, thresholds), thresholds)
    : () => true;
  attachOriginals(ctx, article, out, needsOriginal, (rowid) => evidenceAgainst(ctx, self, vectors.vector, rowid, isBoilerplate));
  return out;
}

/**
 * What the story count said of fingerprints found in BOILERPLATE_ARTICLES articles or more:
 * how many stories (up to the limit) at how many articles. Remembered across articles (recurring
 * text recurs in the neighbours of one article after another) and exact: each article stored
 * since can add one story at most, and merging clusters only lowers the count (a text that once
 * recurred across that many stories stays boilerplate, as it would by article count alone).
 */
const storyChecks = new WeakMap<Store, LRUCache<string, { articles: number; stories: number }>>();
const CHECKED_FINGERPRINTS = 100_000;

/**
 * Whether a window fingerprint is known boilerplate: found in BOILERPLATE_ARTICLES stored
 * articles of as many different stories. A paragraph that recurs only within one story (a wire
 * story copied by many sites, its cuts and reworkings) is that story's text, not boilerplate:
 * counted by articles, a story's own paragraphs would be set aside once it had been copied five
 * times, and its next copies compared on the scraps left (two such stories' scraps then look
 * alike by chance: at 6,000 articles of the bench corpus this was most wrong links). Each
 * fingerprint is looked up once per use, not once per comparison.
 */
export function boilerplateTest(store: Store): (hash: string) => boolean {
  let checked = storyChecks.get(store);
  if (!checked) storyChecks.set(store, (checked = new LRUCache({ max: CHECKED_FINGERPRINTS })));
  const known = new Map<string, boolean>();
  return (hash) => {
    let b = known.get(hash);
    if (b === undefined) {
      const articles = store.windowFrequency(hash);
      const seen = checked.get(hash);
      if (articles < BOILERPLATE_ARTICLES) b = false;
      else if (seen && seen.stories >= BOILERPLATE_ARTICLES) b = true;
      else if (seen && seen.stories + Math.max(0, articles - seen.articles) < BOILERPLATE_ARTICLES) b = false;
      else {
        const stories = store.storiesWith(hash, BOILERPLATE_ARTICLES);
        checked.set(hash, { articles, stories });
        b = stories >= BOILERPLATE_ARTICLES;
      }
      known.set(hash, b);
    }
    return b;
  };
}

/** One side of a comparison, with how the model reads it (models/embedder.ts). */
export type Side = EvidenceSide & { reading: Reading };

/**
 * A pair is judged on its words alone (cluster-decision.ts) when the model cannot read one side,
 * or reads both only through another language, which leaves them looking alike.
 */
export const lexicalOnly = (a: { reading: Reading }, b: { reading: Reading }) =>
  a.reading === 'none' || b.reading === 'none' || (a.reading === 'near' && b.reading === 'near') ? ({ lexicalOnly: true } as const) : {};

/** A stored article as one side of a comparison. */
export function storedSide(store: Store, rowid: number): Side {
  return sideOf(store, store.neighbour(rowid)!);
}

function sideOf(store: Store, a: NeighbourArticle): Side {
  return { lang: a.lang, windows: store.windowsOf(a.rowid), anchors: a.anchors ?? [], minhash: a.minhash, reading: a.reading };
}

/** An article's evidence against a stored one that is not among its neighbours. */
export function evidenceAgainst(ctx: Context, self: Side, vector: Float32Array, rowid: number, isBoilerplate: (hash: string) => boolean): OriginalEvidence {
  const other = ctx.store.neighbour(rowid)!;
  return {
    articleId: other.id,
    score: dot(vector, ctx.store.vectorOf(rowid)!),
    lang: other.lang,
    method: 'embedding',
    evidence: pairEvidence(self, sideOf(ctx.store, other), isBoilerplate),
    ...lexicalOnly(self, other),
  };
}

/**
 * The article's evidence against the original of each examined neighbour's cluster (the decision
 * checks it: no joining a story through one drifted member; and it tells whether the article
 * contains the original). Reuses the neighbour's own evidence when the original is among the
 * neighbours; otherwise compares with it once per cluster.
 */
function attachOriginals(
  ctx: Context,
  article: PreparedArticle,
  candidates: Candidate[],
  needed: (c: Candidate) => boolean,
  against: (rowid: number) => OriginalEvidence,
): void {
  const { store } = ctx;
  const byCluster = new Map<number, OriginalEvidence | undefined>();
  for (const c of candidates) {
    if (c.method !== 'embedding' || !c.evidence || !needed(c)) continue;
    if (!byCluster.has(c.clusterId)) {
      const rowid = store.originalOf(c.clusterId);
      const id = rowid === undefined ? undefined : store.neighbour(rowid)?.id;
      let original: OriginalEvidence | undefined;
      if (rowid !== undefined && id !== undefined && id !== article.id) {
        const seen = candidates.find((x) => x.articleId === id && x.method === 'embedding' && x.evidence);
        original = seen ? asOriginal(seen) : against(rowid);
      }
      byCluster.set(c.clusterId, original);
    }
    const original = byCluster.get(c.clusterId);
    if (original) c.original = original;
  }
}
