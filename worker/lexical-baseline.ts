// The lexical baseline that `eval` reports beside our figures: articles linked when the Jaccard
// similarity of their word-shingle sets (estimated by MinHash, as MinHash dedup tools do) reaches
// 0.5, clusters = connected components. Candidate pairs come from LSH banding, so it scales.
import type { StoredArticle } from '../db/store.ts';
import { jaccard, MINHASH_SIZE, minhash } from './fingerprints.ts';

const BANDS = 16;
const ROWS = MINHASH_SIZE / BANDS;

export function lexicalClusters(articles: readonly Pick<StoredArticle, 'id' | 'text' | 'minhash'>[], threshold = 0.5): Map<string, string> {
  const sigs = articles.map((a) => a.minhash ?? minhash(a.text));
  const parent = articles.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let band = 0; band < BANDS; band++) {
    const buckets = new Map<string, number[]>();
    sigs.forEach((sig, i) => {
      const key = Array.from(sig.subarray(band * ROWS, (band + 1) * ROWS)).join(',');
      const bucket = buckets.get(key);
      if (bucket) bucket.push(i);
      else buckets.set(key, [i]);
    });
    for (const bucket of buckets.values()) {
      for (let x = 0; x < bucket.length; x++) {
        for (let y = x + 1; y < bucket.length; y++) {
          const [i, j] = [bucket[x]!, bucket[y]!];
          if (find(i) !== find(j) && jaccard(sigs[i]!, sigs[j]!) >= threshold) parent[find(i)] = find(j);
        }
      }
    }
  }
  return new Map(articles.map((a, i) => [a.id, `lex-${find(i)}`]));
}
