// Re-embeds every stored article with the context's model (after a model change), records the
// new model identity and rebuilds the index. Cluster assignments are kept as they are.
import type { Context } from './context.ts';
import { embedArticles } from './article.ts';

export async function reembedAll(ctx: Context, batchSize = ctx.config.batchSize): Promise<number> {
  const { store, embedder, index, log } = ctx;
  const rowids = store.rowids();
  for (let i = 0; i < rowids.length; i += batchSize) {
    const articles = rowids.slice(i, i + batchSize).map((r) => store.articleByRowid(r)!);
    const docs = await embedArticles(embedder, articles);
    store.transaction(() => articles.forEach((a, k) => store.replaceVectors(a.rowid, docs[k]!.vector, docs[k]!.windows, docs[k]!.reading)));
    log.debug({ done: Math.min(i + batchSize, rowids.length), of: rowids.length }, 're-embedding');
  }
  store.transaction(() => {
    store.setModel(embedder.id, embedder.dim, embedder.vectorSettings);
    store.bumpGeneration();
  });
  index.removeFiles();
  index.rebuild(store.vectors(), rowids.length);
  index.save({ generation: store.generation(), modelId: embedder.id });
  return rowids.length;
}
