// The scale benchmark's corpus: a million stored articles cannot be embedded and clustered in a
// benchmark run, and there is no million-article real corpus here. So synthetic articles are
// composed from the windows (title + paragraphs) of the real dev and seed articles, and each one's
// stored vectors are computed from the real window embeddings exactly as the embedder would
// compute them for the composed text (checked against the real embedder on a sample).
//
// How the embedder builds a document vector (models/embedder.ts): each window w is pooled to a raw
// vector p_w; the document vector is normalise(Σ t_w·p_w / Σ t_w − m), m = the language's mean,
// which equals normalise(Σ t_w·(p_w − m)). So a composed article needs, per window, its token
// count t_w and its centred raw vector c_w = p_w − m. The embedder's public API gives
// u = p/|p| (no language) and v = (p − m)/|p − m| (with the language); with m known,
// a·u − b·v = m has one solution, and c_w = b·v.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArticleInput, StoredWindow } from '../../db/store.ts';
import { documentText, type Embedder } from '../../models/embedder.ts';
import { anchors, minhash } from '../../worker/fingerprints.ts';
import { type RawArticle, readInputs } from '../../worker/input.ts';
import { embedArticles, prepareArticle } from '../../worker/article.ts';
import { loadLanguageDetector } from '../../worker/language.ts';
import { dot } from '../../worker/passages.ts';
import { contentHash } from '../../worker/text.ts';
import { prng } from '../model/train.ts';

/** Bumped whenever the composition changes, so cached benchmark databases are rebuilt. */
export const CORPUS_VERSION = 1;

/**
 * A window is reused only if splitting the composed text gives it back unchanged: splitWindows
 * (models/embedder.ts) merges a window shorter than this into the next one.
 */
const MIN_WINDOW_CHARS = 80;

export interface PoolWindow {
  text: string;
  tokens: number;
  hash: string;
  /** The stored window vector (centred, L2-normalised), as the embedder returns it. */
  vector: Float32Array;
  /** p − m, not normalised: token-weighted sums of these give the document vector. */
  centred: Float32Array;
}

/** A title window: the title, a blank line, and the paragraph(s) the embedder merged with it. */
interface HeadWindow extends PoolWindow {
  title: string;
  /** The window's text after the title: the start of the body. */
  rest: string;
}

interface LanguagePool {
  heads: HeadWindow[];
  body: PoolWindow[];
}

export interface SourceArticle {
  raw: RawArticle;
  lang: string;
  windows: number;
  /** The real document vector (a query for recall, never stored). */
  vector: Float32Array;
}

export interface Pool {
  modelId: string;
  /** Hash of every reusable window (text fingerprint, tokens, vector): changes whenever the model or its windowing does. */
  fingerprint: string;
  sources: SourceArticle[];
  languages: Map<string, LanguagePool>;
  windows: number;
}

export interface SyntheticArticle {
  article: ArticleInput;
  vector: Float32Array;
  windows: Omit<StoredWindow, 'idx'>[];
}

/** The language means the embedder subtracts, read from the model folder as the embedder reads them. */
function languageMeans(modelDir: string): Map<string, Float32Array> {
  const own = JSON.parse(readFileSync(join(modelDir, 'newsdedup.json'), 'utf8')) as { language_means?: string };
  if (!own.language_means) throw new Error(`${modelDir}: the scale benchmark composes vectors through the model's language means, and this model has none`);
  const raw = JSON.parse(readFileSync(join(modelDir, own.language_means), 'utf8')) as Record<string, number[]>;
  return new Map(Object.entries(raw).map(([lang, v]) => [lang, Float32Array.from(v)]));
}

/** c = p − m from u = p/|p| and v = (p − m)/|p − m| (see the file comment). */
function centred(u: Float32Array, v: Float32Array, m: Float32Array): Float32Array {
  const s = dot(u, v);
  const b = (s * dot(m, u) - dot(m, v)) / (1 - s * s);
  return Float32Array.from(v, (x) => b * x);
}

/** Reads dev.jsonl and the seeds, embeds them with the real embedder and collects the reusable windows per language. */
export async function buildPool(embedder: Embedder, modelDir: string, inputs: string[]): Promise<Pool> {
  const raws: RawArticle[] = [];
  for await (const item of readInputs(inputs)) if (item.ok) raws.push(item.article);
  await loadLanguageDetector(raws);
  const articles = raws.map(prepareArticle);
  const docs = await embedArticles(embedder, articles);
  const means = languageMeans(modelDir);
  const languages = new Map<string, LanguagePool>();
  const sources: SourceArticle[] = [];
  let windows = 0;
  for (const [i, article] of articles.entries()) {
    const doc = docs[i]!;
    sources.push({ raw: raws[i]!, lang: article.lang, windows: doc.windows.length, vector: doc.vector });
    const m = means.get(article.lang);
    if (!m) continue;
    const full = documentText({ title: article.title ?? undefined, text: article.text });
    const texts = doc.windows.map((w) => full.slice(w.start, w.end));
    const plain = await embedder.embedTexts(texts);
    const pool = languages.get(article.lang) ?? { heads: [], body: [] };
    languages.set(article.lang, pool);
    doc.windows.forEach((w, k) => {
      const text = texts[k]!;
      // A piece cut at a space keeps it; on a line of its own the split would trim it away.
      if (text.length < MIN_WINDOW_CHARS || text !== text.trim()) return;
      const entry: PoolWindow = { text, tokens: w.tokens, hash: w.hash, vector: w.vector, centred: centred(plain[k]!, w.vector, m) };
      const title = article.title;
      if (title && w.start === 0) {
        if (text !== title && !text.startsWith(`${title}\n\n`)) return;
        pool.heads.push({ ...entry, title, rest: text.slice(title.length + 2) });
      } else pool.body.push(entry);
      windows++;
    });
  }
  const hash = createHash('sha1');
  for (const [lang, pool] of [...languages].sort(([a], [b]) => a.localeCompare(b))) {
    for (const w of [...pool.heads, ...pool.body]) hash.update(`${lang} ${w.hash} ${w.tokens}`).update(new Uint8Array(w.vector.buffer, w.vector.byteOffset, w.vector.byteLength));
  }
  return { modelId: embedder.id, fingerprint: hash.digest('hex').slice(0, 10), sources, languages, windows };
}

/**
 * Synthetic articles, deterministic for a seed. Each takes the language and window count of a
 * random real article, a random title window of that language and random body windows of it.
 */
export function* syntheticArticles(pool: Pool, opts: { count: number; seed: number; idPrefix: string }): Generator<SyntheticArticle> {
  const rand = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const composable = pool.sources.filter((s) => pool.languages.get(s.lang)?.body.length);
  if (composable.length === 0) throw new Error('no source article has composable windows');
  const width = String(opts.count).length;
  for (let n = 0; n < opts.count; n++) {
    const source = pick(composable);
    const lp = pool.languages.get(source.lang)!;
    const head = lp.heads.length ? pick(lp.heads) : undefined;
    const want = Math.min(lp.body.length, Math.max(1, source.windows - (head ? 1 : 0)));
    const chosen = new Set<PoolWindow>();
    while (chosen.size < want) chosen.add(pick(lp.body));
    const body = [...chosen];
    const title = head?.title ?? null;
    const text = [head?.rest ?? '', ...body.map((w) => w.text)].filter(Boolean).join('\n');
    // Offsets into documentText: the head window starts at 0, each later window one newline after the last.
    const windows: Omit<StoredWindow, 'idx'>[] = [];
    let at = 0;
    if (head) {
      windows.push({ start: 0, end: head.text.length, tokens: head.tokens, hash: head.hash, vector: head.vector });
      at = head.rest ? head.text.length + 1 : head.text.length + 2;
    }
    for (const w of body) {
      windows.push({ start: at, end: at + w.text.length, tokens: w.tokens, hash: w.hash, vector: w.vector });
      at += w.text.length + 1;
    }
    const sum = new Float64Array(pool.sources[0]!.vector.length);
    for (const w of head ? [head, ...body] : body) for (let j = 0; j < sum.length; j++) sum[j]! += w.tokens * w.centred[j]!;
    let norm = 0;
    for (const x of sum) norm += x * x;
    norm = Math.sqrt(norm);
    yield {
      article: {
        id: `${opts.idPrefix}${String(n).padStart(width, '0')}`,
        source: 'bench-scale synthetic',
        title,
        lang: source.lang,
        text,
        contentHash: contentHash(title, text),
        minhash: minhash(text),
        anchors: anchors(`${title ?? ''}\n${text}`),
      },
      vector: Float32Array.from(sum, (x) => x / norm),
      windows,
    };
  }
}

/**
 * Re-embeds composed articles with the real embedder and compares: the same windows (offsets,
 * tokens) and the document vector's cosine to the composed one. The composition is only honest
 * if this holds.
 */
export async function verifyComposition(embedder: Embedder, articles: SyntheticArticle[]): Promise<{ checked: number; sameWindows: number; minCosine: number }> {
  const real = await embedArticles(embedder, articles.map((a) => ({ title: a.article.title, text: a.article.text, lang: a.article.lang })));
  let sameWindows = 0;
  let minCosine = 1;
  articles.forEach((a, i) => {
    const r = real[i]!;
    const same =
      r.windows.length === a.windows.length &&
      r.windows.every((w, k) => w.start === a.windows[k]!.start && w.end === a.windows[k]!.end && w.tokens === a.windows[k]!.tokens && w.hash === a.windows[k]!.hash);
    if (same) sameWindows++;
    minCosine = Math.min(minCosine, dot(r.vector, a.vector));
  });
  return { checked: articles.length, sameWindows, minCosine };
}
