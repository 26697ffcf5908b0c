// The editor's check: what a draft would match, with passage evidence, without storing anything.
import { documentText } from '../models/embedder.ts';
import { type Decision, decideCluster, thresholdFor } from './cluster-decision.ts';
import type { Context } from './context.ts';
import type { RawArticle } from './input.ts';
import { alignPassages } from './passages.ts';
import { Pipeline, prepareArticle } from './pipeline.ts';

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
  score: number;
  method: string;
  /** Whether this neighbour alone clears the decision threshold. */
  qualifies: boolean;
  crossLanguage: boolean;
  /** Windows of each side that found a counterpart in the other. */
  coverage: { draft: string; stored: string };
  passages: PassageMatch[];
}

export interface CheckReport {
  article: { id: string; title: string | null; lang: string; windows: number; tokens: number };
  verdict: 'original' | 'duplicate';
  decision: Decision;
  matches: CheckMatch[];
}

const excerpt = (raw: string, max = 300) => {
  const text = raw.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

export async function checkArticle(ctx: Context, raw: RawArticle, opts: { limit?: number } = {}): Promise<CheckReport> {
  const { store, embedder, thresholds } = ctx;
  const article = prepareArticle(raw);
  const [doc] = await embedder.embedDocuments([{ title: article.title ?? undefined, text: article.text, lang: article.lang }]);
  const draftText = documentText({ title: article.title ?? undefined, text: article.text });
  const candidates = new Pipeline(ctx).candidates(article, doc!.vector).slice(0, opts.limit ?? ctx.config.neighbours);
  const decision = decideCluster(article, candidates, thresholds);
  const matches = candidates.map((c): CheckMatch => {
    const stored = store.articleById(c.articleId)!;
    const windows = store.windowsOf(stored.rowid);
    const storedText = documentText({ title: stored.title ?? undefined, text: stored.text });
    const alignment = alignPassages(
      doc!.windows.map((w) => w.vector),
      windows.map((w) => w.vector),
      thresholds.passage,
    );
    return {
      id: stored.id,
      title: stored.title ?? null,
      lang: stored.lang,
      cluster: stored.clusterId,
      publishedAt: stored.publishedAt ?? null,
      score: c.score,
      method: c.method,
      qualifies: c.score >= thresholdFor(article.lang, c, thresholds),
      crossLanguage: stored.lang !== article.lang,
      coverage: {
        draft: `${alignment.pairs.length} of ${doc!.windows.length}`,
        stored: `${alignment.pairs.length} of ${windows.length}`,
      },
      passages: alignment.pairs.map((p) => {
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
    article: { id: article.id, title: article.title, lang: article.lang, windows: doc!.windows.length, tokens: doc!.tokens },
    verdict: decision.action === 'new' ? 'original' : 'duplicate',
    decision,
    matches,
  };
}
