// Candidate neighbours of an article and the evidence gathered for each: what the cluster
// decision (cluster-decision.ts) is a pure function of.
import type { Candidate } from './cluster-decision.ts';
import type { Context } from './context.ts';
import { pairEvidence } from './evidence.ts';
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
  // Each window is looked up once per article, not once per candidate it is compared with.
  const frequency = new Map<string, number>();
  const isBoilerplate = (hash: string) => {
    let n = frequency.get(hash);
    if (n === undefined) frequency.set(hash, (n = store.windowFrequency(hash)));
    return n >= BOILERPLATE_ARTICLES;
  };
  const ranks = { same: 0, cross: 0 };
  for (const n of index.search(vectors.vector, config.neighbours, excludeRowid)) {
    const a = store.neighbour(n.label);
    if (!a || a.id === article.id || a.id === exact?.id) continue;
    const relation = a.lang === article.lang ? 'same' : 'cross';
    const rank = ranks[relation]++;
    const candidate: Candidate = { articleId: a.id, clusterId: a.clusterId, score: n.score, lang: a.lang, method: 'embedding', rank };
    if (n.score >= EVIDENCE_MIN_COSINE && rank < EVIDENCE_MAX_RANK) {
      candidate.evidence = pairEvidence(self, { lang: a.lang, windows: store.windowsOf(a.rowid), anchors: a.anchors ?? [], minhash: a.minhash }, isBoilerplate);
    }
    out.push(candidate);
  }
  return out;
}
