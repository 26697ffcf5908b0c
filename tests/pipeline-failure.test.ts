// A commit that fails (a full disk: SQLITE_FULL) mid-run: the error reaches the caller, with what
// was committed before it kept. It used to end the process as an unhandled rejection, with
// SQLite's stack: the failed commit, and the batches embedded after it, were awaited only later.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../worker/config.ts';
import { openContext } from '../worker/context.ts';
import { articleFromJson } from '../worker/input.ts';
import { createLogger } from '../worker/log.ts';
import { Pipeline } from '../worker/pipeline.ts';
import { capturingLogger, FIXTURE_TEXTS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

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

describe('a batch that fails after adding its vectors to the index', () => {
  it('takes them out of the index again instead of rebuilding it, and the saved index loads at the next open', async () => {
    const dir = tempDir('newsdedup-undo-');
    writeTinyConfig(dir);
    const config = loadConfig({ cwd: dir, env: {}, flags: { modelDir: tinyModel(), batchSize: 4, threads: 0 } });
    const texts = Object.values(FIXTURE_TEXTS);
    async function* items(from: number, to: number) {
      for (let i = from; i < to; i++) yield articleFromJson({ id: `a${i}`, text: `${texts[i % texts.length]}\nNote ${i}.` }, 'test');
    }
    const ctx = await openContext(config, createLogger('silent'), { writer: 'test' });
    let rebuilds = 0;
    try {
      await new Pipeline(ctx).ingest(items(0, 8));
      const rebuild = ctx.index.rebuild.bind(ctx.index);
      ctx.index.rebuild = ((...args: Parameters<typeof rebuild>) => {
        rebuilds++;
        return rebuild(...args);
      }) as typeof rebuild;
      // The last statement of the next batch's transaction fails, after its four vectors went into the index.
      const bump = ctx.store.bumpGeneration.bind(ctx.store);
      let failed = false;
      ctx.store.bumpGeneration = () => {
        if (!failed) {
          failed = true;
          throw Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' });
        }
        return bump();
      };
      await expect(new Pipeline(ctx).ingest(items(8, 12))).rejects.toMatchObject({ code: 'SQLITE_FULL' });
      expect(ctx.store.articleCount()).toBe(8);
      expect(ctx.index.size).toBe(8);
      const rolledBack = ctx.store.lastRowid() + 1;
      expect(ctx.index.search(ctx.store.vectorOf(1)!, 20).map((n) => n.label)).not.toContain(rolledBack);

      // Half of it again: two rowids are handed out again, two stay deleted in the graph.
      const again = await new Pipeline(ctx).ingest(items(8, 10));
      expect(again.ingested).toBe(2);
      expect(ctx.index.size).toBe(10);
      expect(rebuilds).toBe(0);
    } finally {
      ctx.close();
    }
    const log = capturingLogger();
    const reopened = await openContext(config, log, { writer: 'test' });
    try {
      expect(log.warnings.filter((w) => /rebuilding/.test(w))).toEqual([]);
      expect(reopened.index.size).toBe(10);
    } finally {
      reopened.close();
    }
  });
});
