// A commit that fails (a full disk: SQLITE_FULL) mid-run: the error reaches the caller, with what
// was committed before it kept. It used to end the process as an unhandled rejection, with
// SQLite's stack: the failed commit, and the batches embedded after it, were awaited only later.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../worker/config.ts';
import { openContext } from '../worker/context.ts';
import { articleFromJson } from '../worker/input.ts';
import { createLogger } from '../worker/log.ts';
import { Pipeline } from '../worker/pipeline.ts';
import { FIXTURE_TEXTS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

describe('a commit that fails mid-run', () => {
  it('rejects the ingest with that error, keeps the batches committed before it, and leaves nothing unhandled', async () => {
    const dir = tempDir('newsdedup-fail-');
    writeTinyConfig(dir);
    const config = loadConfig({ cwd: dir, env: {}, flags: { modelDir: tinyModel(), batchSize: 2, threads: 0 } });
    const ctx = await openContext(config, createLogger('silent'), { writer: 'test' });
    try {
      // Fault injection at the edge SQLite owns: the third transaction fails as a full disk does.
      const transaction = ctx.store.transaction.bind(ctx.store);
      let calls = 0;
      ctx.store.transaction = ((fn: () => unknown) => {
        if (++calls === 3) throw Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' });
        return transaction(fn as never);
      }) as typeof ctx.store.transaction;
      const texts = Object.values(FIXTURE_TEXTS);
      async function* items() {
        for (let i = 0; i < 20; i++) yield articleFromJson({ id: `a${i}`, text: `${texts[i % texts.length]}\nNote ${i}.` }, 'test');
      }
      await expect(new Pipeline(ctx).ingest(items())).rejects.toMatchObject({ code: 'SQLITE_FULL' });
      expect(ctx.store.articleCount()).toBe(4);
    } finally {
      ctx.close();
    }
  });
});
