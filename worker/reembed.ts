// Re-embeds every stored article with the context's model (after a model change), records the
// new model identity and rebuilds the index. Cluster assignments are kept as they are.
//
// One transaction per batch, not one for the whole database (which may hold millions of articles):
// the database is marked as being re-embedded (meta `reembed_to`) in a commit before the first
// article is rewritten, and the mark is cleared in the commit that records the new model. A run
// that stops in between, however it stops, leaves the mark, and every open other than `reembed`
// is refused until a reembed finishes (worker/context.ts). A new run starts over.
import type { ReembedTarget } from '../db/store.ts';
import { modelFlags } from './config.ts';
import type { Context } from './context.ts';
import { embedArticles } from './article.ts';

export async function reembedAll(ctx: Context, batchSize = ctx.config.batchSize): Promise<number> {
  const { store, embedder, index, log } = ctx;
  const target: ReembedTarget = { modelId: embedder.id, dim: embedder.dim, settings: embedder.vectorSettings, modelFlags: modelFlags(ctx.config) };
  store.transaction(() => {
    store.beginReembed(target);
    // The index file is stale from here on, whatever happens.
    store.bumpGeneration();
  });
  const rowids = store.rowids();
  for (let i = 0; i < rowids.length; i += batchSize) {
    const articles = rowids.slice(i, i + batchSize).map((r) => store.articleByRowid(r)!);
    const docs = await embedArticles(embedder, articles);
    store.transaction(() => articles.forEach((a, k) => store.replaceVectors(a.rowid, docs[k]!.vector, docs[k]!.windows, docs[k]!.reading)));
    log.debug({ done: Math.min(i + batchSize, rowids.length), of: rowids.length }, 're-embedding');
  }
  store.transaction(() => {
    store.finishReembed(target);
    store.bumpGeneration();
  });
  index.removeFiles();
  index.rebuild(store.vectors(), rowids.length);
  index.save({ generation: store.generation(), modelId: embedder.id });
  return rowids.length;
}
