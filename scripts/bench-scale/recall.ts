// HNSW recall@k against exact search, and query latency, across ef: the curve the index
// parameters are chosen from.
import { dot } from '../../worker/passages.ts';
import type { VectorIndex } from '../../worker/vector-index.ts';

export interface CurvePoint {
  ef: number;
  /** Mean over queries of |HNSW top-k ∩ exact top-k| / k (ties with the k-th exact score count as found). */
  recall: number;
  /** Share of queries whose whole exact top-k was found. */
  perfect: number;
  /** Share of queries whose exact nearest neighbour was among the results: the one a duplicate decision hinges on. */
  top1: number;
  p50Ms: number;
  p99Ms: number;
}

export interface Truth {
  k: number;
  /** Per query, the exact top-k labels, best first. */
  labels: Int32Array[];
  /** Per query, the scores of those labels, in the same order. */
  scores: Float32Array[];
  /** Per query, the k-th best exact score (the tie line). */
  kthScore: Float32Array;
  /** The exact score of any (query, label): for judging HNSW hits that tie with the k-th. */
  scoreOf: (query: number, label: number) => number;
}

export const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/**
 * Exact top-k by dot product (vectors are L2-normalised, so this is the cosine ranking) over
 * every stored vector. Queries are scanned together so each stored vector is read once.
 */
export function exactTopK(vectors: { rowids: Int32Array; data: Float32Array }, queries: readonly Float32Array[], k: number): Truth {
  const dim = queries[0]!.length;
  const nq = queries.length;
  const bestScore = Array.from({ length: nq }, () => new Float32Array(k).fill(-Infinity));
  const bestPos = Array.from({ length: nq }, () => new Int32Array(k).fill(-1));
  const floor = new Float32Array(nq).fill(-Infinity);
  const { data, rowids } = vectors;
  const row = (i: number) => data.subarray(i * dim, (i + 1) * dim);
  for (let i = 0; i < rowids.length; i++) {
    const v = row(i);
    for (let j = 0; j < nq; j++) {
      const s = dot(v, queries[j]!);
      if (s <= floor[j]!) continue;
      // Replace the current worst of the k kept, then find the new worst.
      const sc = bestScore[j]!;
      let worst = 0;
      for (let t = 1; t < k; t++) if (sc[t]! < sc[worst]!) worst = t;
      sc[worst] = s;
      bestPos[j]![worst] = i;
      let min = Infinity;
      for (let t = 0; t < k; t++) min = Math.min(min, sc[t]!);
      floor[j] = min;
    }
  }
  const orders = bestPos.map((pos, j) => [...pos.keys()].filter((t) => pos[t]! >= 0).sort((a, b) => bestScore[j]![b]! - bestScore[j]![a]!));
  const labels = orders.map((order, j) => Int32Array.from(order, (t) => rowids[bestPos[j]![t]!]!));
  const scores = orders.map((order, j) => Float32Array.from(order, (t) => bestScore[j]![t]!));
  // Built on the first call only: a caller that searches one query at a time (probe.ts agreement)
  // never needs it, and it holds every stored rowid.
  let position: Map<number, number> | undefined;
  const scoreOf = (query: number, label: number) => {
    if (!position) {
      position = new Map();
      rowids.forEach((r, i) => position!.set(r, i));
    }
    const i = position.get(label);
    return i === undefined ? -Infinity : dot(row(i), queries[query]!);
  };
  return { k, labels, scores, kthScore: floor, scoreOf };
}

/** Recall@k and per-query latency (through VectorIndex.search, as the product calls it) at each ef. */
export function recallCurve(index: VectorIndex, queries: readonly Float32Array[], truth: Truth, efs: readonly number[]): CurvePoint[] {
  const { k } = truth;
  const before = index.efSearch;
  // One unmeasured pass first: the first queries of a fresh process pay for JIT and cold pages.
  index.setEfSearch(Math.max(...efs));
  for (const v of queries) index.search(v, k);
  const out: CurvePoint[] = [];
  for (const ef of efs) {
    index.setEfSearch(ef);
    const times: number[] = [];
    let found = 0;
    let perfect = 0;
    let top1 = 0;
    queries.forEach((v, j) => {
      const t0 = performance.now();
      const got = index.search(v, k);
      times.push(performance.now() - t0);
      const exact = new Set(truth.labels[j]);
      let hits = 0;
      for (const n of got) if (exact.has(n.label) || truth.scoreOf(j, n.label) >= truth.kthScore[j]! - 1e-6) hits++;
      hits = Math.min(hits, k);
      found += hits;
      if (hits === k) perfect++;
      if (got.some((n) => n.label === truth.labels[j]![0])) top1++;
    });
    times.sort((a, b) => a - b);
    out.push({ ef, recall: found / (k * queries.length), perfect: perfect / queries.length, top1: top1 / queries.length, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99) });
  }
  index.setEfSearch(before);
  return out;
}
