// Preparing and embedding on threads must change nothing but the speed: the same vectors, the
// same clusters and the same input errors (with file, line and id) as on the main thread.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../worker/config.ts';
import { openContext } from '../worker/context.ts';
import { articleFromJson, type InputItem } from '../worker/input.ts';
import { createLogger } from '../worker/log.ts';
import { type IngestSummary, Pipeline } from '../worker/pipeline.ts';
import { FIXTURE_TEXTS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

const rows = [
  ...Object.entries(FIXTURE_TEXTS).map(([id, text]) => ({ id, text })),
  { id: 'quake-copy', text: FIXTURE_TEXTS.quake },
  { id: 'quake-edit', text: `${FIXTURE_TEXTS.quake} Officials promised help.` },
  { id: 'empty-html', html: '<p> </p><script>x()</script>' },
  ...Array.from({ length: 40 }, (_, i) => ({ id: `filler-${i}`, text: `${Object.values(FIXTURE_TEXTS)[i % 4]} Paragraph ${i}.` })),
];

async function* items(): AsyncGenerator<InputItem> {
  for (const [i, row] of rows.entries()) yield articleFromJson(row, 'feed.jsonl', i + 1);
}

async function ingest(threads: number): Promise<{ summary: IngestSummary; vectors: Map<string, Float32Array> }> {
  const dir = tempDir('newsdedup-threads-');
  writeTinyConfig(dir);
  const config = loadConfig({ cwd: dir, env: {}, flags: { modelDir: tinyModel(), threads, batchSize: 8 } });
  const ctx = await openContext(config, createLogger('silent'));
  try {
    // Started before the run (as a long-lived worker's are after its first batches, and the service
    // runs one short ingest per batch): every batch goes to them, the first included.
    const ready = await ctx.workers();
    expect(ready.threads).toBe(threads);
    let batchesOnWorkers = 0;
    const embed = ready.embed.bind(ready);
    ready.embed = (articles) => {
      batchesOnWorkers++;
      return embed(articles);
    };
    const summary = await new Pipeline(ctx).ingest(items());
    expect(batchesOnWorkers).toBe(Math.ceil(rows.length / 8));
    const vectors = new Map(summary.articles.map((a) => [a.id, ctx.store.vectorOf(ctx.store.articleById(a.id)!.rowid)!]));
    return { summary, vectors };
  } finally {
    ctx.close();
  }
}

describe('article workers', () => {
  it('give the same vectors, clusters and errors on two threads as on the main thread', async () => {
    const main = await ingest(0);
    const threaded = await ingest(2);
    expect(threaded.summary.articles).toEqual(main.summary.articles);
    expect(threaded.summary.errors).toEqual(main.summary.errors);
    expect(main.summary.errors).toEqual([{ file: 'feed.jsonl', line: 7, id: 'empty-html', message: 'feed.jsonl:7 (empty-html): article has no text after cleaning' }]);
    expect(main.summary.ingested).toBe(rows.length - 1);
    for (const [id, v] of main.vectors) expect(Array.from(threaded.vectors.get(id)!)).toEqual(Array.from(v));
    // The decisions are real ones: the copy joined its original.
    const cluster = (s: IngestSummary, id: string) => s.articles.find((a) => a.id === id)!.cluster;
    expect(cluster(threaded.summary, 'quake-copy')).toBe(cluster(threaded.summary, 'quake'));
  });
});
