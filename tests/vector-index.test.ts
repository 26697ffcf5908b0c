import { existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../db/store.ts';
import { syncIndex } from '../worker/context.ts';
import { indexAdvice, LARGE_INDEX, VectorIndex } from '../worker/vector-index.ts';
import { capturingLogger, cli, SEEDS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

const params = { m: 16, efConstruction: 100, efSearch: 32 };

function unit(seed: number, dim: number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sin(seed * 12.9898 + i * 78.233);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe('VectorIndex', () => {
  it('grows past its initial capacity and finds each vector as its own nearest neighbour', () => {
    const index = new VectorIndex(join(tempDir(), 'x.hnsw'), 16, params);
    for (let i = 1; i <= 3000; i++) index.add(i, unit(i, 16));
    expect(index.size).toBe(3000);
    for (const i of [1, 1500, 3000]) expect(index.search(unit(i, 16), 1)[0]).toMatchObject({ label: i });
    expect(index.search(unit(7, 16), 3, 7).map((n) => n.label)).not.toContain(7);
  });

  it('rebuilds from pairs, reporting progress at the asked interval', () => {
    const index = new VectorIndex(join(tempDir(), 'x.hnsw'), 16, params);
    const seen: number[] = [];
    const pairs = Array.from({ length: 250 }, (_, i) => ({ rowid: i + 1, vector: unit(i + 1, 16) }));
    index.rebuild(pairs, pairs.length, { every: 100, onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([100, 200]);
    expect(index.size).toBe(250);
    expect(index.search(unit(42, 16), 1)[0]!.label).toBe(42);
  });

  it('rolls a batch back: its new labels leave the results, replaced vectors come back, and reused labels revive', () => {
    const path = join(tempDir(), 'x.hnsw');
    const index = new VectorIndex(path, 16, params);
    for (let i = 1; i <= 100; i++) index.add(i, unit(i, 16));
    index.begin();
    for (let i = 101; i <= 110; i++) index.add(i, unit(i, 16));
    index.add(5, unit(500, 16)); // a re-ingested article's new vector
    index.add(105, unit(1050, 16)); // changed twice in the batch: still new
    index.rollback();
    expect(index.size).toBe(100);
    for (let i = 101; i <= 110; i++) expect(index.search(unit(i, 16), 10).map((n) => n.label)).not.toContain(i);
    expect(index.search(unit(5, 16), 1)[0]).toMatchObject({ label: 5 });
    expect(index.search(unit(5, 16), 1)[0]!.score).toBeCloseTo(1, 5);
    expect(() => index.rollback()).toThrow(/without begin/);

    // SQLite hands the rolled-back rowids out again: the next batch revives three of them with other vectors.
    index.begin();
    for (const i of [101, 102, 103]) index.add(i, unit(i + 7000, 16));
    index.keep();
    expect(index.size).toBe(103);
    expect(index.search(unit(7102, 16), 1)[0]).toMatchObject({ label: 102 });

    // Saved with seven labels still deleted, it loads as the 103 live ones, without a rebuild.
    index.save({ generation: 3, modelId: 'm' });
    const stored = (label: number) => (label <= 100 ? unit(label, 16) : label <= 103 ? unit(label + 7000, 16) : undefined);
    const loaded = new VectorIndex(path, 16, params);
    expect(loaded.tryLoad({ generation: 3, modelId: 'm', count: 103 }, stored)).toEqual({ loaded: true });
    expect(loaded.size).toBe(103);
    expect(loaded.search(unit(108, 16), 10).map((n) => n.label)).not.toContain(108);
    loaded.add(108, unit(108, 16)); // revived after loading
    expect(loaded.size).toBe(104);
    expect(loaded.search(unit(108, 16), 1)[0]).toMatchObject({ label: 108 });
  });

  it('takes a new search ef, keeps it across searches, and refuses a nonsensical one', () => {
    const index = new VectorIndex(join(tempDir(), 'x.hnsw'), 16, params);
    expect(index.efSearch).toBe(params.efSearch);
    for (let i = 1; i <= 200; i++) index.add(i, unit(i, 16));
    index.setEfSearch(128);
    expect(index.efSearch).toBe(128);
    expect(index.search(unit(5, 16), 10)).toHaveLength(10);
    expect(index.efSearch).toBe(128);
    // ef below k is raised to k for that search: hnswlib cannot return more than ef results.
    index.setEfSearch(2);
    expect(index.search(unit(5, 16), 10)).toHaveLength(10);
    expect(() => index.setEfSearch(0)).toThrow(/positive integer/);
  });

  it('saves atomically and loads only a file that matches the database state', () => {
    const path = join(tempDir(), 'x.hnsw');
    const index = new VectorIndex(path, 8, params);
    for (let i = 1; i <= 50; i++) index.add(i, unit(i, 8));
    index.save({ generation: 4, modelId: 'm' });
    expect(existsSync(`${path}.tmp`)).toBe(false);
    const side = JSON.parse(readFileSync(`${path}.json`, 'utf8'));
    expect(side).toMatchObject({ generation: 4, modelId: 'm', count: 50, bytes: statSync(path).size });

    const again = new VectorIndex(path, 8, params);
    expect(again.tryLoad({ generation: 4, modelId: 'm', count: 50 })).toEqual({ loaded: true });
    expect(again.search(unit(9, 8), 1)[0]!.label).toBe(9);
    expect(new VectorIndex(path, 8, params).tryLoad({ generation: 5, modelId: 'm', count: 50 })).toMatchObject({ loaded: false, reason: /stale/ });
    expect(new VectorIndex(path, 8, params).tryLoad({ generation: 4, modelId: 'n', count: 50 })).toMatchObject({ loaded: false, reason: /another model/ });
    truncateSync(path, 100);
    expect(new VectorIndex(path, 8, params).tryLoad({ generation: 4, modelId: 'm', count: 50 })).toMatchObject({ loaded: false, reason: /truncated/ });
  });

  it('refuses a file damaged in place (same size, same sidecar) whose vectors are not the database\'s', () => {
    // It loaded, and checks gave wrong answers that were then stored.
    const path = join(tempDir(), 'x.hnsw');
    const index = new VectorIndex(path, 8, params);
    const vectors = new Map(Array.from({ length: 50 }, (_, i) => [i + 1, unit(i + 1, 8)] as const));
    for (const [label, v] of vectors) index.add(label, v);
    index.save({ generation: 1, modelId: 'm' });
    const expected = { generation: 1, modelId: 'm', count: 50 };
    expect(new VectorIndex(path, 8, params).tryLoad(expected, (l) => vectors.get(l))).toEqual({ loaded: true });
    // Find vector 20 in the file (hnswlib may round its normalisation in the last bit) and overwrite it.
    const bytes = readFileSync(path);
    const want = vectors.get(20)!;
    const at = Array.from({ length: bytes.length - 32 }, (_, o) => o).find((o) => want.every((x, j) => Math.abs(bytes.readFloatLE(o + 4 * j) - x) < 1e-6));
    expect(at).toBeDefined();
    for (let j = 0; j < 8; j++) bytes.writeFloatLE(j === 0 ? 1 : 0, at! + 4 * j);
    writeFileSync(path, bytes);
    expect(new VectorIndex(path, 8, params).tryLoad(expected, (l) => vectors.get(l))).toEqual({ loaded: false, reason: 'index file corrupt: its vectors differ from the database' });
  });

  it('keeps the M and efConstruction a loaded graph was built with, also when it saves it again under other settings', () => {
    const path = join(tempDir(), 'x.hnsw');
    const index = new VectorIndex(path, 8, { ...params, m: 32 });
    for (let i = 1; i <= 50; i++) index.add(i, unit(i, 8));
    index.save({ generation: 1, modelId: 'm' });
    const reopened = new VectorIndex(path, 8, { m: 16, efConstruction: 200, efSearch: 64 });
    expect(reopened.graphParams).toEqual({ m: 16, efConstruction: 200 });
    expect(reopened.tryLoad({ generation: 1, modelId: 'm', count: 50 })).toEqual({ loaded: true });
    expect(reopened.graphParams).toEqual({ m: 32, efConstruction: params.efConstruction });
    reopened.add(51, unit(51, 8));
    reopened.save({ generation: 2, modelId: 'm' });
    expect(JSON.parse(readFileSync(`${path}.json`, 'utf8')).params).toEqual({ m: 32, efConstruction: params.efConstruction, efSearch: 64 });
    reopened.rebuild([{ rowid: 1, vector: unit(1, 8) }], 1);
    expect(reopened.graphParams).toEqual({ m: 16, efConstruction: 200 });
  });
});

describe('index persistence next to the database', () => {
  async function ingestedDb() {
    const dir = tempDir();
    writeTinyConfig(dir);
    const r = await cli(['ingest', SEEDS, '--model-dir', tinyModel()], { cwd: dir });
    expect(r.code).toBe(0);
    return join(dir, 'newsdedup.db');
  }

  function reopen(db: string) {
    const store = new Store(db);
    const model = store.getModel()!;
    const index = new VectorIndex(`${db}.hnsw`, model.dim, params);
    const log = capturingLogger();
    syncIndex(store, index, model.modelId, log);
    return { store, index, log, model };
  }

  it('loads the saved index when it is current, without rebuilding', async () => {
    const db = await ingestedDb();
    const { index, log, store } = reopen(db);
    expect(log.warnings).toEqual([]);
    expect(index.size).toBe(3);
    store.close();
  });

  it.each([
    ['deleted', (p: string) => rmSync(p)],
    ['truncated', (p: string) => truncateSync(p, Math.floor(statSync(p).size / 2))],
    ['corrupt', (p: string) => writeFileSync(p, Buffer.alloc(statSync(p).size, 0xff))],
  ])('rebuilds a %s index file from SQLite and says so in the log', async (_what, damage) => {
    const db = await ingestedDb();
    const before = reopen(db);
    const query = before.store.vectorOf(before.store.articleById('000_dfad1a769eb878c2')!.rowid)!;
    const expected = before.index.search(query, 3);
    before.store.close();

    damage(`${db}.hnsw`);
    const after = reopen(db);
    expect(after.log.warnings.join('\n')).toMatch(/rebuilding vector index from SQLite/);
    expect(after.index.size).toBe(3);
    expect(after.index.search(query, 3).map((n) => n.label)).toEqual(expected.map((n) => n.label));
    after.store.close();
    // The rebuilt index was saved: the next open loads it.
    const third = reopen(db);
    expect(third.log.warnings).toEqual([]);
    third.store.close();
  });
});

describe('indexAdvice', () => {
  it('says nothing below half a million vectors, whatever the settings', () => {
    expect(indexAdvice(LARGE_INDEX - 1, { m: 8, efSearch: 10 })).toEqual([]);
  });

  it('from half a million on, names a shallow efSearch and a graph built with a small M, each with the recommended value', () => {
    const advice = indexAdvice(1_000_000, { m: 16, efSearch: 64 });
    expect(advice).toHaveLength(2);
    expect(advice[0]).toMatch(/efSearch 64 at 1,000,000 vectors: 384/);
    expect(advice[1]).toMatch(/hnsw\.m 16: 32/);
    expect(indexAdvice(1_000_000, { m: 32, efSearch: 384 })).toEqual([]);
    // An index not built yet has no M to judge.
    expect(indexAdvice(LARGE_INDEX, { efSearch: 64 })).toHaveLength(1);
  });
});
