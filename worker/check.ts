// The editor's check: what a draft would match, with passage evidence, without storing anything.
import type { ClusterSummary } from '../db/store.ts';
import { documentText, type Reading } from '../models/embedder.ts';
import { type Decision, decideCluster, qualifyingCandidates, type ScoredCandidate, scoreCandidate } from './cluster-decision.ts';
import type { Context } from './context.ts';
import type { PairEvidence } from './evidence.ts';
import type { RawArticle } from './input.ts';
import { alignPassages } from './passages.ts';
import { findCandidates } from './candidates.ts';
import { embedArticles, prepareArticle } from './article.ts';
import { loadLanguageDetector } from './language.ts';

export interface PassageMatch {
  score: number;
  draft: { start: number; end: number; text: string };
  stored: { start: number; end: number; text: string };
}

export interface CheckMatch {
  id: string;
  title: string | null;
  lang: string;
  cluster: number;
  publishedAt: string | null;
  /** The decision score (verifier), and the plain document cosine. */
  score: number;
  cosine: number;
  method: string;
  /**
   * What the neighbour is to the draft, as an editor would name it (matchLabel): exact copy,
   * near-verbatim copy, rewrite, translation, or related (below the threshold) when its evidence
   * is not enough to call it any of those. The evidence keeps the raw kind.
   */
  kind: string;
  /** The raw evidence behind the score (passage coverage, length ratio, shared text, anchors), when gathered. */
  evidence?: PairEvidence;
  /**
   * Whether this neighbour alone would let the draft join its cluster, as the decision judges it:
   * its score clears the threshold for the language relation, and, when it is not the cluster's
   * original, the draft's evidence against that original clears the original check too.
   */
  qualifies: boolean;
  crossLanguage: boolean;
  /** Which of the two was published first, when both dates are known. */
  earlier: 'draft' | 'stored' | 'unknown';
  /** Windows of each side that found a counterpart in the other. */
  coverage: { draft: string; stored: string };
  passages: PassageMatch[];
}

export interface CheckReport {
  /** `reading`: how the model reads the draft; `none`: only copies of it are found (models/embedder.ts). */
  article: { id: string; title: string | null; lang: string; windows: number; tokens: number; reading: Reading };
  verdict: 'original' | 'duplicate';
  decision: Decision;
  /** For a duplicate: the original (canonical article) of the cluster it would join. */
  original: ClusterSummary['canonical'];
  matches: CheckMatch[];
}

/** The id of a draft that comes without one. */
export const DRAFT_ID = 'draft';

/** How an editor would name a neighbour: what it is to the draft, or merely related when its evidence does not qualify. */
export function matchLabel(c: Pick<ScoredCandidate, 'method' | 'evidence'>, qualifies: boolean, crossLanguage: boolean): string {
  if (c.method === 'exact') return 'exact copy';
  if (!qualifies) return 'related (below the threshold)';
  if (crossLanguage) return 'translation';
  return c.evidence?.kind === 'near-verbatim' ? 'near-verbatim copy' : 'rewrite';
}

const excerpt = (raw: string, max = 300) => {
  const text = raw.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

export async function checkArticle(ctx: Context, raw: RawArticle, opts: { limit?: number } = {}): Promise<CheckReport> {
  const { store, embedder, thresholds } = ctx;
  await loadLanguageDetector([raw]);
  const article = prepareArticle(raw);
  const [doc] = await embedArticles(embedder, [article]);
  const draftText = documentText({ title: article.title ?? undefined, text: article.text });
  // The verdict weighs every neighbour, as ingest would; `limit` only trims what is listed.
  const candidates = findCandidates(ctx, article, doc!);
  const decision = decideCluster(article, candidates, thresholds);
  const qualifying = new Set(qualifyingCandidates(article.lang, candidates, thresholds).map((c) => c.articleId));
  const matches = candidates.slice(0, opts.limit ?? ctx.config.neighbours).map((candidate): CheckMatch => {
    const c = scoreCandidate(article.lang, candidate, thresholds);
    const qualifies = qualifying.has(c.articleId);
    const stored = store.articleById(c.articleId)!;
    const crossLanguage = stored.lang !== article.lang;
    const windows = store.windowsOf(stored.rowid);
    const storedText = documentText({ title: stored.title ?? undefined, text: stored.text });
    const aligned = alignPassages(
      doc!.windows.map((w) => w.vector),
      windows.map((w) => w.vector),
      thresholds.passage,
    );
    // Where the model cannot read one side, passages correspond only word for word.
    const pairs = c.lexicalOnly ? aligned.pairs.filter((p) => doc!.windows[p.a]!.hash === windows[p.b]!.hash) : aligned.pairs;
    return {
      id: stored.id,
      title: stored.title ?? null,
      lang: stored.lang,
      cluster: stored.clusterId,
      publishedAt: stored.publishedAt ?? null,
      score: c.verified,
      cosine: c.score,
      method: c.method,
      kind: matchLabel(c, qualifies, crossLanguage),
      ...(c.evidence && { evidence: c.evidence }),
      qualifies,
      crossLanguage,
      earlier:
        article.publishedAt && stored.publishedAt ? (article.publishedAt < stored.publishedAt ? 'draft' : 'stored') : 'unknown',
      coverage: {
        draft: `${pairs.length} of ${doc!.windows.length}`,
        stored: `${pairs.length} of ${windows.length}`,
      },
      passages: pairs.map((p) => {
        const a = doc!.windows[p.a]!;
        const b = windows[p.b]!;
        return {
          score: p.score,
          draft: { start: a.start, end: a.end, text: excerpt(draftText.slice(a.start, a.end)) },
          stored: { start: b.start, end: b.end, text: excerpt(storedText.slice(b.start, b.end)) },
        };
      }),
    };
  });
  return {
    article: {
      id: article.id,
      title: article.title,
      lang: article.lang,
      windows: doc!.windows.length,
      tokens: doc!.windows.reduce((n, w) => n + w.tokens, 0),
      reading: doc!.reading,
    },
    verdict: decision.action === 'new' ? 'original' : 'duplicate',
    decision,
    original: decision.action === 'new' ? null : (store.cluster(store.resolveCluster(decision.clusterId))?.canonical ?? null),
    matches,
  };
}
