// One article from raw input to what the store keeps: clean text, language and fingerprints
// (prepareArticle), then document and window vectors (embedArticles). Pure of the store, so it
// runs on any thread (worker/article-workers.ts).
import { quantise } from '../db/int8.ts';
import type { NewWindow } from '../db/store.ts';
import { documentText, type Embedder, type Reading } from '../models/embedder.ts';
import { InputError } from './errors.ts';
import { anchors, minhash, windowHash } from './fingerprints.ts';
import { MAX_TITLE_CHARS, type RawArticle } from './input.ts';
import { detectLanguage } from './language.ts';
import { contentHash, normaliseText, pageText, withoutMarkup } from './text.ts';

export interface PreparedArticle {
  id: string;
  title: string | null;
  text: string;
  lang: string;
  url: string | null;
  source: string | null;
  publishedAt: string | null;
  contentHash: string;
  minhash: Uint32Array;
  anchors: string[];
  origin: RawArticle['origin'];
}

export interface ArticleVectors {
  vector: Float32Array;
  windows: readonly NewWindow[];
  /** How the model reads the article (models/embedder.ts). */
  reading: Reading;
}

/** Document and window vectors of articles, each window with the fingerprint of its words and its stored (quantised) form. */
export async function embedArticles(
  embedder: Embedder,
  articles: readonly { title?: string | null; text: string; lang: string }[],
): Promise<ArticleVectors[]> {
  const docs = articles.map((a) => ({ title: a.title ?? undefined, text: a.text, lang: a.lang }));
  const embedded = await embedder.embedDocuments(docs);
  return embedded.map((e, i) => {
    const full = documentText(docs[i]!);
    const windows = e.windows.map((w) => ({ ...w, hash: windowHash(full.slice(w.start, w.end)), quantised: quantise(w.vector) }));
    return { vector: e.vector, windows, reading: e.reading };
  });
}

/**
 * Longest article text accepted: about 30,000 words, ten times a long news feature. Comparing two
 * articles costs the product of their passage counts; two texts of millions of characters would
 * need gigabytes for one comparison (and stopped a whole run before this limit existed).
 */
export const MAX_TEXT_CHARS = 200_000;

/** Turns raw input into the stored form: plain text, language, fingerprint. Throws InputError. */
export function prepareArticle(raw: RawArticle): PreparedArticle {
  const page = raw.text === undefined ? pageText(raw.html ?? '') : undefined;
  const text = normaliseText(page ? page.text : withoutMarkup(raw.text!));
  // A page sent without a title has its own headline.
  const titleField = raw.title || page?.headline;
  const title = titleField ? normaliseText(withoutMarkup(titleField)).replace(/\n/g, ' ') || null : null;
  if (!text) throw new InputError('article has no text after cleaning', raw.origin.file, raw.origin.line, raw.id);
  const limit = (field: string, value: string, max: number, advice: string) => {
    if (value.length <= max) return;
    const reason = `article ${field} is ${value.length.toLocaleString('en')} characters after cleaning, over the limit of ${max.toLocaleString('en')} (${advice})`;
    throw new InputError(reason, raw.origin.file, raw.origin.line, raw.id);
  };
  if (title) limit('title', title, MAX_TITLE_CHARS, 'a title is one line; put the rest in the text');
  limit('text', text, MAX_TEXT_CHARS, 'split or trim it');
  return {
    id: raw.id,
    title,
    text,
    lang: raw.lang ?? detectLanguage(title, text),
    url: raw.url ?? null,
    source: raw.source ?? null,
    publishedAt: raw.publishedAt ?? null,
    contentHash: contentHash(title, text),
    minhash: minhash(text),
    anchors: anchors(`${title ?? ''}\n${text}`),
    origin: raw.origin,
  };
}
