// In-process embedding with an exported-style table (token weights already folded into the rows),
// computed exactly as the product embedder does: mean of the token rows of the whole text,
// minus the mean vector of the text's language (if known), L2-normalised.
import type { WordPieceEncoder } from './tokenize.ts';

export interface TableModel {
  rows: Float32Array; // V × dim
  dim: number;
  enc: WordPieceEncoder;
  means?: Map<string, Float32Array>;
}

export function meanOfIds(m: TableModel, ids: Int32Array, out?: Float32Array): Float32Array {
  const d = m.dim;
  const v = out ?? new Float32Array(d);
  v.fill(0);
  for (let k = 0; k < ids.length; k++) {
    const o = ids[k]! * d;
    for (let j = 0; j < d; j++) v[j]! += m.rows[o + j]!;
  }
  if (ids.length) for (let j = 0; j < d; j++) v[j]! /= ids.length;
  return v;
}

export function finish(m: TableModel, v: Float32Array, lang?: string): Float32Array {
  const mu = lang ? m.means?.get(lang) : undefined;
  if (mu) for (let j = 0; j < v.length; j++) v[j]! -= mu[j]!;
  let n = 0;
  for (let j = 0; j < v.length; j++) n += v[j]! * v[j]!;
  n = Math.sqrt(n) || 1;
  for (let j = 0; j < v.length; j++) v[j]! /= n;
  return v;
}

export function embedText(m: TableModel, text: string, lang?: string): Float32Array {
  return finish(m, meanOfIds(m, m.enc.encode(text)), lang);
}

/** Document = title + paragraphs (the product's windows, token-count weighted = mean of all token rows). */
export function embedDoc(m: TableModel, doc: { title?: string; text: string; lang?: string }): Float32Array {
  const t = doc.title ? `${doc.title}\n${doc.text}` : doc.text;
  return embedText(m, t, doc.lang);
}

/** Token-level mean row per language over the given texts (what a long document converges to). */
export function languageMeans(m: TableModel, textsByLang: Map<string, Int32Array[]>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [lang, list] of textsByLang) {
    const acc = new Float64Array(m.dim);
    let n = 0;
    for (const ids of list)
      for (let k = 0; k < ids.length; k++) {
        const o = ids[k]! * m.dim;
        for (let j = 0; j < m.dim; j++) acc[j]! += m.rows[o + j]!;
        n++;
      }
    out.set(lang, Float32Array.from(acc, (x) => (n ? x / n : 0)));
  }
  return out;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}
