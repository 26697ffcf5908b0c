// Evaluation shared by the trainer (in-process) and scripts/bench-model.ts (through the product
// embedder): dev.jsonl document translation recall@1 per language and bitext retrieval accuracy.
import { dot } from './embed.ts';

export interface DevDoc {
  lang: string;
  cluster: string;
}

/**
 * For each article that has an other-language article in its gold cluster: is its nearest
 * other-language article (cosine over all other-language articles) in the same cluster?
 */
export function devRecall(docs: DevDoc[], vecs: Float32Array[]): { perLang: Record<string, { n: number; hit: number; recall: number }>; overall: number; n: number } {
  const perLang: Record<string, { n: number; hit: number; recall: number }> = {};
  let n = 0;
  let hit = 0;
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i]!;
    if (!docs.some((o) => o.cluster === d.cluster && o.lang !== d.lang)) continue;
    let best = -Infinity;
    let bestJ = -1;
    for (let j = 0; j < docs.length; j++) {
      if (docs[j]!.lang === d.lang) continue;
      const s = dot(vecs[i]!, vecs[j]!);
      if (s > best) {
        best = s;
        bestJ = j;
      }
    }
    const ok = bestJ >= 0 && docs[bestJ]!.cluster === d.cluster;
    const r = (perLang[d.lang] ??= { n: 0, hit: 0, recall: 0 });
    r.n++;
    n++;
    if (ok) {
      r.hit++;
      hit++;
    }
  }
  for (const r of Object.values(perLang)) r.recall = r.hit / r.n;
  return { perLang, overall: n ? hit / n : 0, n };
}

/** Accuracy of nearest-neighbour retrieval: query i must retrieve target i. */
export function retrievalAccuracy(queries: Float32Array[], targets: Float32Array[]): number {
  let ok = 0;
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i]!;
    let best = -Infinity;
    let bestJ = -1;
    for (let j = 0; j < targets.length; j++) {
      const s = dot(q, targets[j]!);
      if (s > best) {
        best = s;
        bestJ = j;
      }
    }
    if (bestJ === i) ok++;
  }
  return queries.length ? ok / queries.length : 0;
}

export function bitextScores(xx: Float32Array[], en: Float32Array[]): { xx2en: number; en2xx: number } {
  return { xx2en: retrievalAccuracy(xx, en), en2xx: retrievalAccuracy(en, xx) };
}

/**
 * LaBSE Tatoeba accuracy (%), mean of xx→en and en→xx, from the per-language Tatoeba table of
 * Feng et al. 2022 ("Language-agnostic BERT Sentence Embedding", ACL). APPROXIMATE: recalled, not
 * re-checked against the paper here (no network on the build machine); all six are about 95-99.
 */
export const LABSE_TATOEBA: Record<string, number> = { fr: 96.0, de: 99.4, es: 98.4, ru: 95.3, cs: 97.5, it: 95.6 };
