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
