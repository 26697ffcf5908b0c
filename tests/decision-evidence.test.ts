// Ingest gathers only the evidence its decisions can use (no evidence against the rest of an
// exact copy's cluster, no original check for a neighbour that does not clear its join bar);
// a recorded ingest (calibration) gathers all of it. Both must decide the same, to the last digit.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../scripts/bench-corpus.ts';
import { loadConfig } from '../worker/config.ts';
import { openContext } from '../worker/context.ts';
import { articleFromJson } from '../worker/input.ts';
import { createLogger } from '../worker/log.ts';
import { type DecisionRecord, Pipeline, type PipelineOptions } from '../worker/pipeline.ts';
import { DEV_FILE, SEEDS, tempDir } from './helpers.ts';

async function ingest(n: number, opts: PipelineOptions) {
  const dir = tempDir();
  const config = loadConfig({ cwd: dir, env: {}, flags: { db: join(dir, 'test.db'), threads: 0 } });
  const ctx = await openContext(config, createLogger('silent'));
  try {
    const corpus = buildCorpus({ devFile: DEV_FILE, seedsDir: SEEDS, n });
    const summary = await new Pipeline(ctx, opts).ingest(
      (async function* () {
        for (const [i, a] of corpus.entries()) yield articleFromJson({ id: a.id, title: a.title, text: a.text, lang: a.lang }, 'corpus', i + 1);
      })(),
    );
    return { outcomes: summary.articles, matches: ctx.store.db.prepare('SELECT * FROM matches ORDER BY id').all(), rows: ctx.store.exportRows() };
  } finally {
    ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(existsSync(DEV_FILE))('evidence gathered for the decision only', () => {
  it('decides exactly as with every candidate examined', async () => {
    const records: DecisionRecord[] = [];
    const full = await ingest(900, { onDecision: (r) => records.push(r) });
    const lean = await ingest(900, {});
    // The corpus exercises both shortcuts: exact copies, and neighbours that clear no bar.
    expect(records.some((r) => r.candidates.some((c) => c.method === 'exact'))).toBe(true);
    expect(lean.outcomes).toEqual(full.outcomes);
    expect(lean.rows).toEqual(full.rows);
    expect(lean.matches.map(({ created_at, ...m }: any) => m)).toEqual(full.matches.map(({ created_at, ...m }: any) => m));
  }, 120_000);
});
