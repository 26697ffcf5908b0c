import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../db/migrate.ts';
import { Store } from '../db/store.ts';
import { tempDir } from './helpers.ts';

const article = (id: string, publishedAt: string | null = null) => ({ id, lang: 'en', contentHash: `h-${id}`, text: `text of ${id}`, title: id, publishedAt });
const vec = (...v: number[]) => Float32Array.from(v);

describe('migrations', () => {
  it('applies every numbered .sql file once and records it', () => {
    const db = new Database(join(tempDir(), 'm.db'));
    const all = loadMigrations().map((m) => m.version);
    expect(all[0]).toBe(1);
    expect(migrate(db)).toEqual(all);
    expect(migrate(db)).toEqual([]);
    const recorded = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(recorded).toEqual(all);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['articles', 'clusters', 'matches', 'model', 'windows', 'meta']));
  });

  it('counts articles per language from an index, not by reading every article row (migration 8)', () => {
    const db = new Database(join(tempDir(), 'm.db'));
    migrate(db);
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT lang, count(*) AS n FROM articles GROUP BY lang ORDER BY n DESC').all() as { detail: string }[];
    expect(plan.map((p) => p.detail)).toContain('SCAN articles USING COVERING INDEX articles_lang');
  });

  it('applies only the migrations a database has not seen, in order', () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'm.db'));
    writeFileSync(join(dir, '001_a.sql'), 'CREATE TABLE a (x);');
    writeFileSync(join(dir, '002_b.sql'), 'ALTER TABLE a ADD COLUMN y;');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    expect(migrate(db, loadMigrations(dir).slice(0, 1))).toEqual([1]);
    expect(migrate(db, loadMigrations(dir))).toEqual([2]);
    expect(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('a')).toEqual(['x', 'y']);
  });

  it('keeps the windows of a database written before they moved to a rowid table (migration 5)', () => {
    const path = join(tempDir(), 'old.db');
    const old = new Database(path);
    old.pragma('foreign_keys = ON');
    migrate(old, loadMigrations().filter((m) => m.version < 5));
    old.prepare("INSERT INTO clusters (id, created_at, updated_at) VALUES (1, 'now', 'now')").run();
    old.prepare("INSERT INTO articles (rowid, id, lang, ingested_at, content_hash, text, cluster_id, vector) VALUES (7, 'a', 'en', 'now', 'h', 't', 1, x'00')").run();
    old.prepare("INSERT INTO windows (article_rowid, idx, start, end, tokens, vector, hash) VALUES (7, 0, 0, 4, 2, ?, 'w0'), (7, 1, 5, 9, 3, ?, 'w1')").run(
      Buffer.from(vec(1, 0).buffer),
      Buffer.from(vec(0, 1).buffer),
    );
    old.close();
    const store = new Store(path);
    expect(store.windowsOf(7).map((w) => [w.idx, w.start, w.end, w.tokens, w.hash, Array.from(w.vector)])).toEqual([
      [0, 0, 4, 2, 'w0', [1, 0]],
      [1, 5, 9, 3, 'w1', [0, 1]],
    ]);
    expect(store.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'windows'").pluck().get()).not.toMatch(/WITHOUT ROWID/);
    store.close();
  });

  it('rolls back a failing migration and leaves it unrecorded', () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'm.db'));
    writeFileSync(join(dir, '001_bad.sql'), 'CREATE TABLE t (x); INSERT INTO nowhere VALUES (1);');
    expect(() => migrate(db, loadMigrations(dir))).toThrow(/nowhere/);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 't'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(0);
  });
});

describe('Store', () => {
  it('opens in WAL mode', () => {
    const store = new Store(join(tempDir(), 's.db'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
  });

  it('answers from its caches only what is still stored: a rewritten article and a rolled-back batch are read afresh', () => {
    const store = new Store(join(tempDir(), 's.db'));
    const c = store.createCluster();
    const w = (hash: string, ...v: number[]) => ({ start: 0, end: 4, tokens: 2, hash, vector: vec(...v) });
    const rowid = store.writeArticle({ ...article('a'), anchors: ['10'] }, c, vec(1, 0), [w('old', 1, 0)]);
    expect(store.neighbour(rowid)).toMatchObject({ id: 'a', clusterId: c, anchors: ['10'] });
    expect(store.windowsOf(rowid).map((x) => x.hash)).toEqual(['old']);
    const other = store.createCluster();
    store.writeArticle({ ...article('a'), anchors: ['20'] }, other, vec(0, 1), [w('new', 0, 1), w('new2', 1, 0)], rowid);
    expect(store.neighbour(rowid)).toMatchObject({ id: 'a', clusterId: other, anchors: ['20'] });
    expect(store.windowsOf(rowid).map((x) => x.hash)).toEqual(['new', 'new2']);
    expect(() =>
      store.transaction(() => {
        store.writeArticle(article('b'), c, vec(1, 0), [w('doomed', 1, 0)]);
        throw new Error('batch fails');
      }),
    ).toThrow('batch fails');
    const next = store.writeArticle(article('c'), c, vec(1, 0), [w('kept', 1, 0)]);
    expect(store.neighbour(next)).toMatchObject({ id: 'c' });
    expect(store.windowsOf(next).map((x) => x.hash)).toEqual(['kept']);
    store.close();
  });

  it('stores window vectors as int8 with a scale (a quarter of the bytes), close enough that cosines move by under 1e-3', () => {
    const store = new Store(join(tempDir(), 's.db'));
    let seed = 3;
    const v = Float32Array.from({ length: 256 }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
    const norm = Math.hypot(...v);
    const unit = v.map((x) => x / norm);
    const rowid = store.writeArticle(article('q'), store.createCluster(), unit, [{ start: 0, end: 4, tokens: 2, hash: 'h', vector: unit }]);
    const cached = store.windowsOf(rowid)[0]!.vector;
    const fresh = new Store(store.path).windowsOf(rowid)[0]!.vector;
    expect(Array.from(fresh)).toEqual(Array.from(cached));
    let cos = 0;
    for (let i = 0; i < unit.length; i++) cos += unit[i]! * fresh[i]!;
    expect(Math.abs(cos - 1)).toBeLessThan(1e-3);
    expect(store.db.prepare('SELECT length(vector) FROM windows WHERE article_rowid = ?').pluck().get(rowid)).toBe(260);
    store.close();
  });

  it('keeps cluster ids stable and picks the earliest published article as canonical', () => {
    const store = new Store(join(tempDir(), 's.db'));
    const c1 = store.createCluster();
    const c2 = store.createCluster();
    store.writeArticle(article('late', '2024-05-02T00:00:00.000Z'), c1, vec(1, 0), []);
    store.writeArticle(article('undated'), c1, vec(1, 0), []);
    store.writeArticle(article('early', '2024-05-01T00:00:00.000Z'), c1, vec(1, 0), []);
    store.writeArticle(article('other'), c2, vec(0, 1), [{ start: 0, end: 4, tokens: 2, hash: 'h', vector: vec(0, 1) }]);
    store.refreshCluster(c1);
    store.refreshCluster(c2);
    expect(store.cluster(c1)).toMatchObject({ id: c1, size: 3, canonical: { id: 'early' } });
    // Without dates, the first ingested is canonical.
    expect(store.cluster(c2)).toMatchObject({ size: 1, canonical: { id: 'other' } });
    const c3 = store.createCluster();
    expect(c3).toBe(c2 + 1);

    store.mergeCluster(c1, c2);
    store.refreshCluster(c1);
    expect(store.resolveCluster(c2)).toBe(c1);
    expect(store.cluster(c1)!.size).toBe(4);
    expect(store.clusterIds(1)).toEqual([c1]);
    expect(store.windowsOf(store.articleById('other')!.rowid)[0]!.vector).toEqual(vec(0, 1));
    store.close();
  });

  it('keeps the original named among undated members while it stays one, and lets a dated member come first', () => {
    const store = new Store(join(tempDir(), 's.db'));
    const c = store.createCluster();
    store.writeArticle(article('first'), c, vec(1, 0), []);
    const full = store.writeArticle(article('full'), c, vec(1, 0), []);
    store.refreshCluster(c);
    expect(store.cluster(c)!.canonical!.id).toBe('first');
    store.setOriginal(c, full);
    store.refreshCluster(c);
    expect(store.originalOf(c)).toBe(full);
    store.writeArticle(article('later'), c, vec(1, 0), []);
    store.refreshCluster(c);
    expect(store.cluster(c)!.canonical!.id).toBe('full');
    store.writeArticle(article('dated', '2024-05-01T00:00:00.000Z'), c, vec(1, 0), []);
    store.refreshCluster(c);
    expect(store.cluster(c)!.canonical!.id).toBe('dated');
    store.close();
  });

  it('marks evidence recorded against an article that has since been replaced', async () => {
    const store = new Store(join(tempDir(), 's.db'));
    const c = store.createCluster();
    const a = store.writeArticle(article('a'), c, vec(1, 0), []);
    store.writeArticle(article('b'), c, vec(1, 0), []);
    const match = { articleId: 'b', matchedId: 'a', clusterId: c, score: 0.9, method: 'embedding', kind: 'rewrite', coverage: 0.8, decision: 'join' };
    store.addMatch(match);
    expect(store.matchesOfCluster(c)).toEqual([{ ...match, earlierVersion: false }]);
    // Timestamps are to the millisecond: let the clock move before the replacement.
    await new Promise((r) => setTimeout(r, 5));
    store.writeArticle({ ...article('a'), text: 'new text of a', contentHash: 'h-a2' }, c, vec(0, 1), [], a);
    expect(store.matchesOfCluster(c)).toEqual([{ ...match, earlierVersion: true }]);
    expect(store.matchesOfArticle('b')).toEqual([{ ...match, earlierVersion: true }]);
    store.close();
  });

  it('records the model identity', () => {
    const store = new Store(join(tempDir(), 's.db'));
    expect(store.getModel()).toBeUndefined();
    store.setModel('m@q8', 256);
    expect(store.getModel()).toEqual({ modelId: 'm@q8', dim: 256 });
    store.close();
  });
});
