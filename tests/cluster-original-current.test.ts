// Each article's decision checks the originals of its neighbours' clusters, so ingest keeps them
// current article by article, recomputing only when a newcomer could come first (a dated one, one
// that contains the original, a merge, a cluster that lost a member), and at the end of a batch
// recounts only clusters that lost a member (the others add what they gained). This must give
// what recomputing every cluster after each article and batch gave: same decisions, originals
// and sizes, on a feed of dated and undated articles with re-ingested ids.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../scripts/bench-corpus.ts';
import { prng } from '../scripts/model/train.ts';
import type { Decision } from '../worker/cluster-decision.ts';
import { loadConfig } from '../worker/config.ts';
import { openContext } from '../worker/context.ts';
import { articleFromJson } from '../worker/input.ts';
import { createLogger } from '../worker/log.ts';
import { Pipeline } from '../worker/pipeline.ts';
import { DEV_FILE, SEEDS, tempDir } from './helpers.ts';

function feed() {
  const rnd = prng(7);
  const corpus = buildCorpus({ devFile: DEV_FILE, seedsDir: SEEDS, n: 700 });
  const dated = corpus.map((a) => ({ ...a, published_at: rnd() < 0.5 ? new Date(Date.UTC(2024, 0, 1 + Math.floor(rnd() * 60))).toISOString() : undefined }));
  // Some ids come again later with other content (their first paragraphs only) and another date.
  const again = dated.filter(() => rnd() < 0.05).map((a) => ({ ...a, text: a.text.split('\n').slice(0, 2).join('\n'), published_at: rnd() < 0.5 ? '2023-12-01T00:00:00.000Z' : undefined }));
  return [...dated, ...again];
}

async function ingest(everyArticle: boolean) {
  const dir = tempDir();
  const config = loadConfig({ cwd: dir, env: {}, flags: { db: join(dir, 'test.db'), threads: 0 } });
  const ctx = await openContext(config, createLogger('silent'));
  try {
    // The originals each decision sees: those of its neighbours' clusters.
    const originals: (number | undefined)[][] = [];
    const pipeline = new Pipeline(ctx, { onDecision: (r) => originals.push(r.candidates.map((c) => ctx.store.originalOf(c.clusterId))) });
    if (everyArticle) {
      // What ingest did before: the whole cluster recomputed after every article and at the end of the batch.
      const before = pipeline as unknown as { keepOriginal: (d: Decision, c: number, r: number) => void; finishClusters: (t: { all: Set<number> }) => void };
      before.keepOriginal = (d, c, r) => {
        if (d.action !== 'new' && d.containsOriginal) ctx.store.setOriginal(c, r);
        ctx.store.refreshCluster(c);
      };
      before.finishClusters = (t) => {
        for (const c of t.all) ctx.store.refreshCluster(c);
      };
    }
    const clusters = ctx.store.db.prepare('SELECT id, size, canonical, merged_into FROM clusters ORDER BY id');
    const batches: unknown[] = [];
    const summary = await pipeline.ingest(
      (async function* () {
        for (const [i, a] of feed().entries()) {
          yield articleFromJson({ id: a.id, title: a.title, text: a.text, lang: a.lang, published_at: a.published_at }, 'feed', i + 1);
        }
      })(),
      () => batches.push(clusters.all()),
    );
    const final = ctx.store.clusterIds().map((c) => ctx.store.originalOf(c));
    return { outcomes: summary.articles, originals, final, batches, rows: ctx.store.exportRows() };
  } finally {
    ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(existsSync(DEV_FILE))('cluster originals kept current during a batch', () => {
  it('are those a recomputation after every article names', async () => {
    const before = await ingest(true);
    const now = await ingest(false);
    expect(now.outcomes.some((o) => o.replaced)).toBe(true);
    expect(now.outcomes).toEqual(before.outcomes);
    expect(now.originals).toEqual(before.originals);
    expect(now.final).toEqual(before.final);
    expect(now.batches).toEqual(before.batches);
    expect(now.rows).toEqual(before.rows);
  }, 120_000);
});
