// The naive baseline of the benchmark: newsdedup's own components (the same cleaning, model,
// evidence and decision, so the same clusters) composed the way a newcomer would: one pipeline
// call per article (no batching, no threads: one embedding call and one SQLite transaction
// each), and nearest neighbours by brute-force cosine over every stored vector in JavaScript
// instead of the HNSW index.
import type { Context } from '../worker/context.ts';
import type { InputItem } from '../worker/input.ts';
import { type ArticleOutcome, Pipeline } from '../worker/pipeline.ts';
import type { Neighbour, VectorIndex } from '../worker/vector-index.ts';

/** Exact search: every stored vector scored against the query. What the pipeline calls is typed against VectorIndex. */
export class BruteForceIndex implements Pick<VectorIndex, 'size' | 'isDirty' | 'add' | 'search' | 'rebuild' | 'begin' | 'keep' | 'rollback'> {
  private readonly vectors = new Map<number, Float32Array>();
  private journal: Map<number, Float32Array | undefined> | undefined;
  readonly isDirty = false;

  get size(): number {
    return this.vectors.size;
  }

  add(label: number, vector: Float32Array): void {
    if (this.journal && !this.journal.has(label)) this.journal.set(label, this.vectors.get(label));
    this.vectors.set(label, vector);
  }

  begin(): void {
    this.journal = new Map();
  }

  keep(): void {
    this.journal = undefined;
  }

  rollback(): void {
    for (const [label, before] of this.journal ?? []) {
      if (before) this.vectors.set(label, before);
      else this.vectors.delete(label);
    }
    this.journal = undefined;
  }

  search(query: Float32Array, k: number, exclude?: number): Neighbour[] {
    const scored: Neighbour[] = [];
    for (const [label, v] of this.vectors) {
      if (label === exclude) continue;
      let dot = 0;
      for (let j = 0; j < v.length; j++) dot += v[j]! * query[j]!;
      scored.push({ label, score: dot });
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, k);
  }

  rebuild(vectors: Iterable<{ rowid: number; vector: Float32Array }>): void {
    this.vectors.clear();
    for (const { rowid, vector } of vectors) this.add(rowid, vector);
  }
}

/**
 * Ingests `items` one pipeline call at a time into `ctx`, whose vector index is replaced by a
 * brute-force one. Calls `onArticle` with each article's outcome and latency.
 */
export async function naiveIngest(
  ctx: Context,
  items: Iterable<InputItem>,
  onArticle: (outcome: ArticleOutcome, ms: number) => void,
): Promise<void> {
  // The pipeline only searches and adds; the brute-force index answers both the same way.
  const naive: Context = { ...ctx, index: new BruteForceIndex() as unknown as VectorIndex };
  const pipeline = new Pipeline(naive);
  for (const item of items) {
    const t0 = performance.now();
    const summary = await pipeline.ingest(
      (async function* () {
        yield item;
      })(),
    );
    const ms = performance.now() - t0;
    for (const o of summary.articles) onArticle(o, ms);
  }
}
