// The body of an embedding thread (worker/article-workers.ts): loads the model once, then
// prepares and embeds the batches the main thread sends, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { embedArticles } from './article.ts';
import type { PreparedData, ThreadReply, ThreadRequest } from './article-workers.ts';
import { prepareSafely } from './article-workers.ts';
import type { Config } from './config.ts';
import { loadEmbedder } from './context.ts';

const port = parentPort!;
const reply = (r: ThreadReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);

try {
  // One onnxruntime thread: the parallelism is across these threads, not inside one batch.
  const embedder = await loadEmbedder((workerData as { config: Config }).config, { onnxThreads: 1 });
  port.on('message', async (req: ThreadRequest) => {
    try {
      if (req.op === 'prepare') {
        const prepared: PreparedData[] = await prepareSafely(req.raws);
        reply({ seq: req.seq, prepared });
      } else {
        const vectors = await embedArticles(embedder, req.docs);
        // Hand the vectors over instead of copying them.
        const buffers = new Set<ArrayBuffer>();
        for (const v of vectors) {
          buffers.add(v.vector.buffer as ArrayBuffer);
          for (const w of v.windows) {
            buffers.add(w.vector.buffer as ArrayBuffer);
            if (w.quantised) buffers.add(w.quantised.blob.buffer as ArrayBuffer).add(w.quantised.vector.buffer as ArrayBuffer);
          }
        }
        reply({ seq: req.seq, vectors }, [...buffers]);
      }
    } catch (err) {
      reply({ seq: req.seq, error: (err as Error).stack ?? String(err) });
    }
  });
  reply({ seq: 0, ready: true });
} catch (err) {
  reply({ seq: 0, fatal: (err as Error).message });
}
