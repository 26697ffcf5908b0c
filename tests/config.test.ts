// The configuration's layers (defaults < file < environment < flags): where relative paths lead.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../worker/config.ts';
import { tempDir } from './helpers.ts';

describe('paths in the configuration', () => {
  it("reads a config file's relative paths from the file's folder, the environment's and flags' from the working folder", () => {
    const dir = tempDir('newsdedup-config-');
    const etc = join(dir, 'etc');
    const elsewhere = join(dir, 'cron');
    mkdirSync(etc);
    mkdirSync(elsewhere);
    const file = join(etc, 'newsdedup.config.json');
    writeFileSync(file, JSON.stringify({ db: 'news.db', modelDir: '../models/m', modelCacheDir: 'cache', inbox: 'inbox' }));
    // A cron run started in another folder gets the same database (it got <cron>/news.db).
    const fromFile = loadConfig({ cwd: elsewhere, env: { NEWSDEDUP_CONFIG: file } });
    expect(fromFile).toMatchObject({ db: join(etc, 'news.db'), modelDir: join(dir, 'models', 'm'), modelCacheDir: join(etc, 'cache'), inbox: join(etc, 'inbox') });
    const overridden = loadConfig({ cwd: elsewhere, env: { NEWSDEDUP_CONFIG: file, NEWSDEDUP_DB: 'env.db' }, flags: { inbox: 'drop' } });
    expect(overridden).toMatchObject({ db: join(elsewhere, 'env.db'), inbox: join(elsewhere, 'drop') });
  });
});

describe('the hnsw block', () => {
  it('refuses unknown keys and a block that is not an object (a misspelt efSearch kept the default)', () => {
    const dir = tempDir('newsdedup-config-');
    const withHnsw = (hnsw: unknown) => {
      writeFileSync(join(dir, 'newsdedup.config.json'), JSON.stringify({ hnsw }));
      return () => loadConfig({ cwd: dir, env: {} });
    };
    expect(withHnsw({ efsearch: 384 })).toThrow(/unknown setting "hnsw\.efsearch" \(known: m, efConstruction, efSearch\)/);
    for (const bad of [5, 'fast', null, [384]]) expect(withHnsw(bad), JSON.stringify(bad)).toThrow(/hnsw must be an object/);
    expect(withHnsw({ efSearch: 384 })().hnsw).toEqual({ m: 16, efConstruction: 200, efSearch: 384 });
  });
});

describe('errors in flags', () => {
  it('name the flag the user typed (they said "flags: http.port")', () => {
    const dir = tempDir('newsdedup-config-');
    expect(() => loadConfig({ cwd: dir, env: {}, flags: { http: { port: '99999' } } })).toThrow(/^--port must be an integer from 0 to 65535, got "99999"$/);
    expect(() => loadConfig({ cwd: dir, env: {}, flags: { threads: 'x' } })).toThrow(/^--threads must be an integer/);
    expect(() => loadConfig({ cwd: dir, env: {}, flags: { logLevel: 'loud' } })).toThrow(/^--log-level must be one of/);
    // Numbers in decimal only, as the environment gives them too (0x10 was 16, 1e2 was 100).
    expect(() => loadConfig({ cwd: dir, env: { NEWSDEDUP_BATCH_SIZE: '0x10' } })).toThrow(/^NEWSDEDUP_BATCH_SIZE must be a positive integer, got "0x10"$/);
    expect(() => loadConfig({ cwd: dir, env: { NEWSDEDUP_LOCK_WAIT: '1e2' } })).toThrow(/^NEWSDEDUP_LOCK_WAIT must be an integer/);
    expect(loadConfig({ cwd: dir, env: { NEWSDEDUP_BATCH_SIZE: '128' } }).batchSize).toBe(128);
  });
});
