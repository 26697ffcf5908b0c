// The cluster decision: a pure function from an article and its scored neighbours to one of
// "start a new cluster", "join cluster X" or "join X and merge Y, Z into it". No IO, no model.
//
// Why best-neighbour only: linking an article to every neighbour above the threshold (single
// link) chains unrelated stories into giant clusters as a corpus grows. An article joins the
// cluster of its single best qualifying neighbour; another cluster is merged in only when its
// own evidence clears the stricter merge threshold.

export type MatchMethod = 'exact' | 'embedding';

export interface Candidate {
  articleId: string;
  clusterId: number;
  /** Cosine similarity of document vectors; 1 for exact copies. */
  score: number;
  lang: string;
  method: MatchMethod;
}

export interface Thresholds {
  /** Minimum score to join a cluster through a neighbour in the same language. */
  sameLanguage: number;
  /** Minimum score to join through a neighbour in another language (translations score lower). */
  crossLanguage: number;
  /** Minimum score for a second cluster to be merged into the joined one. */
  merge: number;
}

export type Decision =
  | { action: 'new' }
  | { action: 'join'; clusterId: number; evidence: Candidate[] }
  | { action: 'merge'; clusterId: number; mergeFrom: number[]; evidence: Candidate[] };

export function thresholdFor(articleLang: string, candidate: Candidate, t: Thresholds): number {
  if (candidate.method === 'exact') return 0;
  return candidate.lang === articleLang ? t.sameLanguage : t.crossLanguage;
}

export function decideCluster(article: { lang: string }, candidates: readonly Candidate[], t: Thresholds): Decision {
  const qualifying = candidates
    .filter((c) => c.score >= thresholdFor(article.lang, c, t))
    .sort((a, b) => Number(b.method === 'exact') - Number(a.method === 'exact') || b.score - a.score);
  const best = qualifying[0];
  if (!best) return { action: 'new' };

  // The strongest piece of evidence for every other cluster that clears the merge bar.
  const others = new Map<number, Candidate>();
  for (const c of qualifying) {
    if (c.clusterId === best.clusterId || others.has(c.clusterId)) continue;
    if (c.method === 'exact' || c.score >= t.merge) others.set(c.clusterId, c);
  }
  if (others.size === 0) return { action: 'join', clusterId: best.clusterId, evidence: [best] };

  // The oldest cluster (lowest id) survives, so ids that users have seen keep pointing somewhere stable.
  const ids = [best.clusterId, ...others.keys()].sort((a, b) => a - b);
  const [into, ...mergeFrom] = ids as [number, ...number[]];
  return { action: 'merge', clusterId: into, mergeFrom, evidence: [best, ...others.values()] };
}
