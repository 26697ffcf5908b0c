import { cpSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { loadMigrations, migrate } from '../db/migrate.ts';
import { Store } from '../db/store.ts';
import { MAX_TEXT_CHARS } from '../worker/article.ts';
import { FALLBACK_THRESHOLDS } from '../worker/context.ts';
import { WriterLock } from '../worker/service/lock.ts';
import { cli, FIXTURE_TEXTS, jsonl, SEEDS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

let model: string;
let dir: string;
const run = (args: string[], stdin?: string) => cli([...args, '--model-dir', model], { cwd: dir, stdin });
const runNoModel = (args: string[]) => cli(args, { cwd: dir });

beforeAll(() => {
  model = tinyModel();
});
beforeEach(() => {
  dir = tempDir();
  writeTinyConfig(dir);
});

const article = (id: string, text: string, extra: object = {}) => ({ id, title: `${id} title`, text, ...extra });

describe('ingest', () => {
  it('records the seeds and prints the --json summary shape', async () => {
    const r = await run(['ingest', SEEDS, '--json']);
    expect(r.code).toBe(0);
    const out = r.json();
    expect(Object.keys(out).sort()).toEqual(['articles', 'clusters', 'errors', 'ingested', 'rejected', 'skipped']);
    expect(out).toMatchObject({ ingested: 3, skipped: 0, rejected: 0, errors: [] });
    expect(out.articles.map((a: { id: string }) => a.id).sort()).toEqual(['000_dfad1a769eb878c2', '001_1731066e91127400', '002_24598282812c099b']);
    for (const a of out.articles) {
      expect(a).toMatchObject({ id: expect.any(String), cluster: expect.any(Number), status: expect.stringMatching(/^(created|joined|merged)$/) });
    }
    // The two English versions share most words, so even the tiny bag-of-words model pairs them.
    const joined = out.articles.find((a: { status: string }) => a.status === 'joined');
    expect(joined).toMatchObject({ matchedId: expect.any(String), score: expect.any(Number), method: 'embedding' });
    expect(out.clusters[0]).toMatchObject({ id: expect.any(Number), size: expect.any(Number), languages: expect.any(Array), members: expect.any(Array) });
    expect(existsSync(join(dir, 'newsdedup.db'))).toBe(true);
    expect(existsSync(join(dir, 'newsdedup.db.hnsw'))).toBe(true);
  });

  it('is idempotent: the same ids with the same content are left unchanged', async () => {
    await run(['ingest', SEEDS]);
    const again = (await run(['ingest', SEEDS, '--json'])).json();
    expect(again).toMatchObject({ ingested: 0, skipped: 3, rejected: 0 });
    expect(again.articles.every((a: { status: string }) => a.status === 'unchanged')).toBe(true);
    const stats = (await runNoModel(['stats', '--json'])).json();
    expect(stats).toMatchObject({ articles: 3, matches: 1 });
  });

  it('replaces an article whose id comes back with new content, and re-clusters it', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, jsonl([article('q', FIXTURE_TEXTS.quake), article('b', FIXTURE_TEXTS.budget), article('x', FIXTURE_TEXTS.match)]));
    const first = (await run(['ingest', file, '--json'])).json();
    const xBefore = first.articles.find((a: { id: string }) => a.id === 'x');
    expect(xBefore.status).toBe('created');
    // x now carries a copy of the budget story: it must leave its old cluster and join b's.
    writeFileSync(file, jsonl([article('x', `${FIXTURE_TEXTS.budget} Updated.`)]));
    const second = (await run(['ingest', file, '--json'])).json();
    expect(second.articles[0]).toMatchObject({ id: 'x', status: 'joined', matchedId: 'b', replaced: true });
    const store = new Store(join(dir, 'newsdedup.db'));
    expect(store.articleById('x')!.text).toContain('Updated.');
    expect(store.articleById('x')!.clusterId).toBe(store.articleById('b')!.clusterId);
    expect(store.counts().articles).toBe(3);
    store.close();
  });

  it('keeps an article alone in its story in the same cluster when a new version of it comes', async () => {
    const file = join(dir, 'lone.jsonl');
    writeFileSync(file, jsonl([article('lone', FIXTURE_TEXTS.quake)]));
    const first = (await run(['ingest', file, '--json'])).json();
    writeFileSync(file, jsonl([article('lone', `${FIXTURE_TEXTS.quake} Updated at noon.`)]));
    const second = (await run(['ingest', file, '--json'])).json();
    expect(second.articles[0]).toMatchObject({ id: 'lone', status: 'created', replaced: true, cluster: first.articles[0].cluster });
    const store = new Store(join(dir, 'newsdedup.db'));
    expect(store.cluster(first.articles[0].cluster)).toMatchObject({ size: 1 });
    expect(store.counts().clusters).toBe(1);
    store.close();
  });

  it('clusters two copies that arrive in the same batch', async () => {
    const file = join(dir, 'pair.jsonl');
    writeFileSync(file, jsonl([article('one', FIXTURE_TEXTS.quake), article('two', FIXTURE_TEXTS.quake, { title: 'one title' })]));
    const out = (await run(['ingest', file, '--json'])).json();
    expect(out.articles[1]).toMatchObject({ id: 'two', status: 'joined', matchedId: 'one', method: 'exact', score: 1 });
  });

  it('reads JSON lines from stdin with -', async () => {
    const r = await run(['ingest', '-', '--json'], jsonl([article('s1', FIXTURE_TEXTS.match)]));
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ingested: 1 });
  });

  it('accepts html instead of text and ignores unknown fields such as labels', async () => {
    const file = join(dir, 'h.json');
    writeFileSync(file, JSON.stringify([{ id: 'h1', html: `<html><body><h1>Quake</h1><p>${FIXTURE_TEXTS.quake}</p><script>x()</script></body></html>`, cluster: 'gold-7', lang: 'en' }]));
    const r = await run(['ingest', file, '--json']);
    expect(r.code).toBe(0);
    const store = new Store(join(dir, 'newsdedup.db'));
    const stored = store.articleById('h1')!;
    expect(stored.text).toContain('Valparaiso');
    expect(stored.text).not.toContain('x()');
    store.close();
  });
});

describe('bad input', () => {
  it('rejects an article too long to compare by name, and ingests the rest of its batch', async () => {
    const file = join(dir, 'long.jsonl');
    writeFileSync(file, jsonl([article('huge', 'word '.repeat(MAX_TEXT_CHARS / 4)), article('ok', FIXTURE_TEXTS.quake)]));
    const r = await run(['ingest', file, '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ ingested: 1, rejected: 1, errors: [{ id: 'huge', line: 1, message: expect.stringMatching(/over the limit of 200,000/) }] });
  });

  it('rejects bad lines and files by name and line, ingests the rest, keeps what was stored, exits 1', async () => {
    await run(['ingest', SEEDS]);
    const good = join(dir, 'mixed.jsonl');
    writeFileSync(
      good,
      [
        JSON.stringify(article('ok1', FIXTURE_TEXTS.quake)),
        '{"id": "broken", "text": ',
        JSON.stringify({ id: 'empty', title: 'no body', text: '   ' }),
        JSON.stringify({ title: 'no id', text: 'x' }),
        JSON.stringify(article('ok2', FIXTURE_TEXTS.budget)),
      ].join('\n'),
    );
    const binary = join(dir, 'photo.json');
    writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    const latin1 = join(dir, 'latin1.txt');
    writeFileSync(latin1, Buffer.from('Titre\nUn caf\xe9 \xe0 Paris\n', 'latin1'));
    const missing = join(dir, 'nope.jsonl');

    const r = await run(['ingest', good, binary, latin1, missing, '--json']);
    expect(r.code).toBe(1);
    const out = r.json();
    expect(out.ingested).toBe(2);
    expect(out.rejected).toBe(6);
    const messages = out.errors.map((e: { file: string; line?: number; message: string }) => `${e.file}:${e.line ?? ''} ${e.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/mixed\.jsonl:2 .*malformed JSON/),
        expect.stringMatching(/mixed\.jsonl:3 .*\(empty\).*no "text" or "html"/),
        expect.stringMatching(/mixed\.jsonl:4 .*missing "id"/),
        expect.stringMatching(/photo\.json: .*binary/),
        expect.stringMatching(/latin1\.txt: .*not valid UTF-8/),
        expect.stringMatching(/nope\.jsonl: .*ENOENT/),
      ]),
    );
    // What was stored before is intact.
    const stats = (await runNoModel(['stats', '--json'])).json();
    expect(stats.articles).toBe(5);
  });

  it('exits 2 on usage errors and 0 on --help for every command', async () => {
    expect((await runNoModel(['ingest'])).code).toBe(2);
    expect((await runNoModel(['frobnicate'])).code).toBe(2);
    expect((await runNoModel(['clusters', '--min-size', 'zero'])).code).toBe(2);
    // Only decimal digits: Number() read "0x2" as 2 and "1e1" as 10.
    for (const n of ['0x2', '1e1', ' 2']) {
      const r = await runNoModel(['clusters', '--min-size', n]);
      expect(r.code, n).toBe(2);
      expect(r.stderr).toBe(`newsdedup: --min-size must be a positive integer, got ${JSON.stringify(n)}\n`);
    }
    expect((await runNoModel(['export', '--format', 'xml'])).code).toBe(2);
    const threads = await runNoModel(['ingest', 'x.jsonl', '--threads', 'many']);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toMatch(/threads must be an integer/);
    for (const cmd of [[], ['ingest'], ['clusters'], ['check'], ['export'], ['eval'], ['stats'], ['reembed']]) {
      const r = await runNoModel([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: newsdedup/);
    }
  });

  it('names the missing database for read-only commands', async () => {
    const r = await runNoModel(['clusters', '--db', 'absent.db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/absent\.db does not exist/);
  });
});

describe('model identity', () => {
  it('refuses a database built with another model, until the user re-embeds', async () => {
    await run(['ingest', SEEDS]);
    const other = join(tempDir(), 'other');
    const { makeTinyModel } = await import('../scripts/make-tiny-model.ts');
    makeTinyModel({ outDir: other, texts: [FIXTURE_TEXTS.quake], dim: 16, name: 'other-model' });
    const refused = await cli(['ingest', SEEDS, '--model-dir', other], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/built with model tiny-test-model@fp32 \(dim 32\), not other-model@fp32 \(dim 16\)/);
    // Named with the model to re-embed with: `reembed` without it would use the bundled model.
    expect(refused.stderr).toContain(`newsdedup reembed --db ${join(dir, 'newsdedup.db')} --model-dir ${other}`);

    const re = await cli(['reembed', '--model-dir', other, '--json'], { cwd: dir });
    expect(re.code).toBe(0);
    expect(re.json()).toEqual({ reembedded: 3, model: 'other-model@fp32' });
    const after = await cli(['ingest', SEEDS, '--model-dir', other, '--json'], { cwd: dir });
    expect(after.code).toBe(0);
    expect(after.json().skipped).toBe(3);
    expect((await runNoModel(['stats', '--json'])).json().model).toEqual({ modelId: 'other-model@fp32', dim: 16, settings: 'windows=256 centering=none' });
  });

  it('counts the model settings (here the passage window size) as part of the model: other settings need a re-embed', async () => {
    await run(['ingest', SEEDS]);
    const resized = join(tempDir(), 'resized');
    cpSync(model, resized, { recursive: true });
    writeFileSync(join(resized, 'newsdedup.json'), JSON.stringify({ window_tokens: 64 }));
    const refused = await cli(['ingest', SEEDS, '--model-dir', resized], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/built with model tiny-test-model@fp32 \(dim 32, windows=256 centering=none\), not tiny-test-model@fp32 \(dim 32, windows=64 centering=none\)/);

    expect((await cli(['reembed', '--model-dir', resized, '--json'], { cwd: dir })).code).toBe(0);
    expect((await runNoModel(['stats', '--json'])).json().model).toEqual({ modelId: 'tiny-test-model@fp32', dim: 32, settings: 'windows=64 centering=none' });
    // The text form says so too: the model id alone is the same before and after.
    expect((await runNoModel(['stats'])).stdout).toMatch(/^model tiny-test-model@fp32 \(dim 32, windows=64 centering=none\)$/m);
    expect((await cli(['ingest', SEEDS, '--model-dir', resized, '--json'], { cwd: dir })).json().skipped).toBe(3);
  });

  /** A copy of the tiny model with 64-token windows: other settings, so its vectors need a re-embed. */
  const resizedModel = () => {
    const resized = join(tempDir(), 'resized');
    cpSync(model, resized, { recursive: true });
    writeFileSync(join(resized, 'newsdedup.json'), JSON.stringify({ window_tokens: 64 }));
    return resized;
  };

  it('refuses a database whose reembed was interrupted, naming the model to finish it with, until a reembed finishes', async () => {
    await run(['ingest', SEEDS]);
    const resized = resizedModel();
    // One article per batch (one transaction each), and the store fails on the second article:
    // the first has its new windows and vectors, the other two their old ones.
    const configFile = join(dir, 'newsdedup.config.json');
    writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), batchSize: 1 }));
    const replaceVectors = Store.prototype.replaceVectors;
    let calls = 0;
    const failing = vi.spyOn(Store.prototype, 'replaceVectors').mockImplementation(function (this: Store, ...args) {
      if (++calls === 2) throw new Error('interrupted');
      return replaceVectors.apply(this, args);
    });
    try {
      expect((await cli(['reembed', '--model-dir', resized], { cwd: dir })).code).toBe(1);
    } finally {
      failing.mockRestore();
    }
    expect(calls).toBe(2);

    const db = join(dir, 'newsdedup.db');
    const interrupted = (r: { code: number; stderr: string }, what: string) => {
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toMatch(/a reembed to model tiny-test-model@fp32 \(dim 32, windows=64 centering=none\) was interrupted/);
      expect(r.stderr, what).toContain(`newsdedup reembed --db ${db} --model-dir ${resized}`);
    };
    // Neither the old model nor the new one may use the half-converted vectors, nor may a reader.
    interrupted(await run(['ingest', SEEDS]), 'ingest, old model');
    interrupted(await cli(['ingest', SEEDS, '--model-dir', resized], { cwd: dir }), 'ingest, new model');
    interrupted(await run(['check', join(SEEDS, readdirSync(SEEDS)[0]!)]), 'check');
    interrupted(await runNoModel(['clusters', '--explain']), 'clusters');
    // stats still opens, and says so.
    const stats = await runNoModel(['stats', '--json']);
    expect(stats.code).toBe(0);
    expect(stats.json().unfinishedReembed).toMatchObject({ modelId: 'tiny-test-model@fp32', dim: 32, settings: 'windows=64 centering=none' });
    expect(stats.json().model.settings).toBe('windows=256 centering=none');

    const re = await cli(['reembed', '--model-dir', resized, '--json'], { cwd: dir });
    expect(re.code).toBe(0);
    expect(re.json()).toEqual({ reembedded: 3, model: 'tiny-test-model@fp32' });
    const after = (await runNoModel(['stats', '--json'])).json();
    expect(after.unfinishedReembed).toBeNull();
    expect(after.model.settings).toBe('windows=64 centering=none');
    expect((await cli(['ingest', SEEDS, '--model-dir', resized, '--json'], { cwd: dir })).json().skipped).toBe(3);
    expect((await run(['ingest', SEEDS])).stderr).toMatch(/built with model .*windows=64.*, not .*windows=256/);
  });

  it('tells a reader that a reembed is in progress while one holds the database', async () => {
    await run(['ingest', SEEDS]);
    const db = join(dir, 'newsdedup.db');
    const store = new Store(db);
    store.beginReembed({ modelId: 'tiny-test-model@fp32', dim: 32, settings: 'windows=64 centering=none', modelFlags: '--model-dir /elsewhere' });
    store.close();
    const lock = WriterLock.tryAcquire(db, 'newsdedup reembed').lock!;
    try {
      const r = await runNoModel(['clusters']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is being re-embedded with model tiny-test-model@fp32 .* by pid \d+/);
    } finally {
      lock.release();
    }
    expect((await runNoModel(['clusters'])).stderr).toMatch(/was interrupted.*newsdedup reembed --db \S+ --model-dir \/elsewhere/);
  });
});

describe('read commands', () => {
  beforeEach(async () => {
    await run(['ingest', SEEDS]);
  });

  it('clusters --json lists clusters with canonical article, size, languages and members', async () => {
    const out = (await runNoModel(['clusters', '--json', '--min-size', '1'])).json();
    expect(out.clusters.length).toBeGreaterThanOrEqual(1);
    const c = out.clusters[0];
    expect(c).toMatchObject({ id: expect.any(Number), size: expect.any(Number), languages: expect.any(Array), canonical: { id: expect.any(String) } });
    expect(c.members).toHaveLength(c.size);
    const explained = (await runNoModel(['clusters', '--json', '--explain'])).json().clusters[0];
    expect(explained.evidence[0]).toMatchObject({ articleId: expect.any(String), matchedId: expect.any(String), kind: expect.any(String), score: expect.any(Number) });
    const human = (await runNoModel(['clusters', '--explain'])).stdout;
    expect(human).toMatch(/(rewrite|near-verbatim|translation|exact) of \S+: score \d\.\d{3}/);
    expect(out.clusters.reduce((n: number, k: { size: number }) => n + k.size, 0)).toBe(3);
  });

  it('export writes one row per article as JSON lines or CSV', async () => {
    const lines = (await runNoModel(['export'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(Object.keys(lines[0]).sort()).toEqual(['canonical', 'cluster', 'id', 'lang']);
    const csv = (await runNoModel(['export', '--format', 'csv'])).stdout.trim().split('\n');
    expect(csv[0]).toBe('id,cluster,canonical,lang');
    expect(csv).toHaveLength(4);
    const both = await runNoModel(['export', '--format', 'csv', '--json']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--json and --format csv/);
  });

  it('check reports neighbours with passages and stores nothing', async () => {
    const before = (await runNoModel(['stats', '--json'])).json();
    const r = await run(['check', join(SEEDS, '001_1731066e91127400.txt'), '--json']);
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out.article).toMatchObject({ id: '001_1731066e91127400', lang: 'en' });
    // The draft is stored under the same id, so it is excluded from its own neighbours.
    expect(out.matches.map((m: { id: string }) => m.id)).not.toContain('001_1731066e91127400');
    expect(out.verdict).toBe('duplicate');
    const best = out.matches[0];
    expect(best).toMatchObject({ id: '000_dfad1a769eb878c2', qualifies: true, coverage: { draft: expect.stringMatching(/^\d+ of \d+$/) } });
    expect(best.passages.length).toBeGreaterThan(0);
    expect(best.passages[0]).toMatchObject({ score: expect.any(Number), draft: { text: expect.any(String) }, stored: { text: expect.any(String) } });
    const after = (await runNoModel(['stats', '--json'])).json();
    expect(after.articles).toBe(before.articles);
  });

  it('check refuses a database that is not there, a bad --limit and a folder, creating nothing', async () => {
    const draft = join(SEEDS, '001_1731066e91127400.txt');
    const missing = await run(['check', draft, '--db', 'typo.db']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/database .*typo\.db does not exist/);
    expect(existsSync(join(dir, 'typo.db'))).toBe(false);
    for (const limit of ['abc', '0', '1.5']) expect((await run(['check', draft, '--limit', limit])).code).toBe(2);
    const folder = await run(['check', SEEDS]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/is a folder: check takes one article file/);
  });

  it('check names a draft file that is not there as a usage error', async () => {
    const r = await run(['check', 'nodraft.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nodraft\.txt does not exist/);
  });

  it('check takes a JSON draft without an id, from a file or stdin', async () => {
    const body = { title: 'Earthquake', text: FIXTURE_TEXTS.quake };
    writeFileSync(join(dir, 'draft.json'), JSON.stringify(body));
    for (const r of [await run(['check', join(dir, 'draft.json'), '--json']), await run(['check', '-', '--json'], JSON.stringify(body))]) {
      expect(r.code).toBe(0);
      expect(r.json().article).toMatchObject({ id: 'draft', title: 'Earthquake' });
    }
  });

  it('check reads a plain-text draft on stdin', async () => {
    const r = await run(['check', '-', '--json'], `Earthquake\n${FIXTURE_TEXTS.quake}`);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ verdict: 'original', article: { id: 'draft', title: 'Earthquake' } });
    // A headline in brackets is not JSON (it was refused as malformed JSON); a draft opening with "{" is.
    const tagged = await run(['check', '-', '--json'], `[UPDATE] Earthquake\n${FIXTURE_TEXTS.quake}`);
    expect(tagged.code).toBe(0);
    expect(tagged.json().article).toMatchObject({ title: '[UPDATE] Earthquake' });
    const broken = await run(['check', '-'], '{"text": broken');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/<stdin>: malformed JSON/);
    // A one-line text file is a draft like a one-line stdin (it was refused as a title without text);
    // ingest still refuses it.
    writeFileSync(join(dir, 'headline.txt'), 'Earthquake shakes the coast\n');
    const headline = await run(['check', join(dir, 'headline.txt'), '--json']);
    expect(headline.code).toBe(0);
    expect(headline.json().article).toMatchObject({ id: 'headline', title: null });
    const stored = await run(['ingest', join(dir, 'headline.txt')]);
    expect(stored.code).toBe(1);
    expect(stored.stdout).toMatch(/article has a title line but no text/);
  });

  it('stats --json reports counts, model and index health', async () => {
    const out = (await runNoModel(['stats', '--json'])).json();
    expect(out).toMatchObject({
      articles: 3,
      model: { modelId: 'tiny-test-model@fp32', dim: 32 },
      languages: { en: 2, fr: 1 },
      index: { exists: true, vectors: 3, current: true, m: 16, efConstruction: 200, efSearch: 64 },
      advice: [],
    });
    // The tiny model ships no thresholds: the built-in fallback applies, under the configured ones
    // (it was reported as "the model's (its newsdedup.json)", with no values).
    const configured = { sameLanguage: 0.8, crossLanguage: 0.8, merge: 0.95 };
    expect(out.calibration).toEqual({
      source: 'fallback',
      thresholds: FALLBACK_THRESHOLDS,
      verifier: false,
      configured,
      effective: { ...FALLBACK_THRESHOLDS, ...configured },
    });
    const text = (await run(['stats'])).stdout;
    expect(text).toMatch(/^calibration built-in fallback \(the model ships no thresholds: calibrate it, see README\): sameLanguage 0\.85, .*, no verifier/m);
  });

  it('stats calls a truncated index file what the next open finds it: not current, and why', async () => {
    // It said "current" from the sidecar's counts alone, while the next command rebuilt the graph.
    const hnsw = join(dir, 'newsdedup.db.hnsw');
    truncateSync(hnsw, 100);
    const out = (await runNoModel(['stats', '--json'])).json();
    expect(out.index).toMatchObject({ exists: true, bytes: 100, current: false, problem: 'index file truncated or altered' });
    expect((await runNoModel(['stats'])).stdout).toMatch(/^index 3 vectors, 0\.0 MB, index file truncated or altered \(rebuilt on next open\)/m);
    expect((await run(['check', join(SEEDS, '001_1731066e91127400.txt')])).code).toBe(0);
    expect((await runNoModel(['stats', '--json'])).json().index).toMatchObject({ current: true, vectors: 3 });
  });
});

describe('read commands write nothing to the database', () => {
  const readers = (db: string): string[][] => [
    ['stats', '--db', db],
    ['clusters', '--db', db],
    ['export', '--db', db],
    ['check', join(SEEDS, '001_1731066e91127400.txt'), '--db', db],
  ];

  it('report an empty file or another file as not a newsdedup database, and leave it as it was', async () => {
    writeFileSync(join(dir, 'empty.db'), '');
    writeFileSync(join(dir, 'notes.db'), 'some notes, not a database\n');
    for (const [file, why] of [['empty.db', 'an empty file'], ['notes.db', 'file is not a database']] as const) {
      const before = readFileSync(join(dir, file));
      for (const args of readers(file)) {
        const r = await run(args);
        expect(r.code, args[0]).toBe(2);
        expect(r.stderr, args[0]).toBe(`newsdedup: ${join(dir, file)} is not a newsdedup database (${why})\n`);
      }
      expect(readFileSync(join(dir, file)), file).toEqual(before);
    }
  });

  it('refuse a database that needs migrations, naming it, without upgrading it; a writer upgrades it', async () => {
    const db = join(dir, 'newsdedup.db');
    // As an older newsdedup left it: every migration but the last applied.
    const last = loadMigrations().at(-1)!;
    const old = new Database(db);
    migrate(old, loadMigrations().slice(0, -1));
    old.close();
    for (const args of readers('newsdedup.db')) {
      const r = await run(args);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr, args[0]).toMatch(new RegExp(`^newsdedup: database ${db} is out of date \\(it lacks migration ${last.version} of this newsdedup\\): .*open it once with a writer[^\\n]*\\n$`));
    }
    const versions = () => {
      const conn = new Database(db, { readonly: true });
      const v = conn.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      conn.close();
      return v;
    };
    expect(versions()).not.toContain(last.version);
    expect((await run(['ingest', SEEDS])).code).toBe(0);
    expect(versions()).toContain(last.version);
    expect((await runNoModel(['stats', '--json'])).json()).toMatchObject({ articles: 3 });
  });
});

describe('labelled files that cannot be scored or fitted', () => {
  it('eval refuses an empty file and calibrate one without two articles of one story, both as usage errors', async () => {
    writeFileSync(join(dir, 'empty.jsonl'), '');
    const empty = await run(['eval', join(dir, 'empty.jsonl')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/holds no labelled article/);
    writeFileSync(join(dir, 'singletons.jsonl'), jsonl([{ ...article('q', FIXTURE_TEXTS.quake), cluster: 1 }, { ...article('b', FIXTURE_TEXTS.budget), cluster: 2 }]));
    const lone = await run(['calibrate', join(dir, 'singletons.jsonl'), '--save']);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toMatch(/no two articles with the same "cluster"/);
    expect(existsSync(join(dir, 'newsdedup.db'))).toBe(false);
  });

  it('eval reads labels as JSON lines only, gzip-compressed or not, and says so of another file type', async () => {
    const rows = jsonl([{ ...article('q', FIXTURE_TEXTS.quake), cluster: 1 }, { ...article('q2', FIXTURE_TEXTS.quake), cluster: 1 }]);
    // JSON lines under a .json name had been scored as if nothing in it was stored.
    writeFileSync(join(dir, 'labels.json'), rows);
    const wrong = await run(['eval', join(dir, 'labels.json')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/labels\.json: a labelled file is JSON lines \(\.jsonl or \.ndjson, optionally \.gz\)/);
    writeFileSync(join(dir, 'labels.jsonl.gz'), gzipSync(rows));
    const gz = await run(['eval', join(dir, 'labels.jsonl.gz'), '--json']);
    expect(gz.code).toBe(0);
    expect(gz.json().metrics.pairwise.recall).toBe(1);
  });
});

describe('eval', () => {
  it('scores a hand-made labelled file with the labels hidden from the pipeline', async () => {
    // Gold: A = {a1, a2 (edited copy), a3 (exact copy)}, B = {b1, b2 (French translation)}, C = {c1}.
    // The tiny model knows no French, so b2 stays alone: predicted {a1,a2,a3} {b1} {b2} {c1}.
    const file = join(dir, 'labelled.jsonl');
    writeFileSync(
      file,
      jsonl([
        { ...article('a1', FIXTURE_TEXTS.quake), cluster: 'A', lang: 'en' },
        { ...article('a2', FIXTURE_TEXTS.quake.replace('Monday', 'Tuesday')), cluster: 'A', lang: 'en' },
        { ...article('a3', FIXTURE_TEXTS.quake), title: 'a1 title', cluster: 'A', lang: 'en' },
        { ...article('b1', FIXTURE_TEXTS.budget), cluster: 'B', lang: 'en' },
        { ...article('b2', FIXTURE_TEXTS.budgetFr), cluster: 'B', lang: 'fr' },
        { ...article('c1', FIXTURE_TEXTS.match), cluster: 'C', lang: 'en' },
      ]),
    );
    const r = await run(['eval', file, '--json']);
    expect(r.code).toBe(0);
    const m = r.json().metrics;
    // Pairwise: gold pairs 3 + 1 = 4, predicted 3, correct 3 → P 1, R 3/4.
    expect(m.pairwise).toMatchObject({ goldPairs: 4, predictedPairs: 3, correctPairs: 3, precision: 1, recall: 0.75 });
    // B-cubed recall: a's 1, 1, 1; b1 1/2, b2 1/2; c1 1 → 5/6; precision 1.
    expect(m.bcubed.precision).toBe(1);
    expect(m.bcubed.recall).toBeCloseTo(5 / 6, 10);
    expect(m.crossLanguage).toEqual({ goldPairs: 1, found: 0, recall: 0 });
    expect(m.sameLanguage).toEqual({ goldPairs: 3, found: 3, recall: 1 });
    // Nothing was written to the user's database.
    expect(existsSync(join(dir, 'newsdedup.db'))).toBe(false);
    const human = await run(['eval', file]);
    expect(human.stdout).toMatch(/newsdedup\s+100\.0%\s+83\.3%\s+90\.9%\s+100\.0%\s+75\.0%/);
    expect(human.stdout).toMatch(/lexical baseline/);
    // The lexical baseline finds the exact and the edited copy, never the translation.
    expect(r.json().lexicalBaseline.crossLanguage.found).toBe(0);
  });

  it('keeps its database at --db, a new file, and refuses one that exists', async () => {
    const file = join(dir, 'labelled.jsonl');
    writeFileSync(file, jsonl([{ ...article('a1', FIXTURE_TEXTS.quake), cluster: 'A', lang: 'en' }, { ...article('a2', FIXTURE_TEXTS.quake), cluster: 'A', lang: 'en' }]));
    const kept = join(dir, 'kept.db');
    const r = await run(['eval', file, '--db', kept, '--json']);
    expect(r.code).toBe(0);
    expect(r.json().metrics.pairwise).toMatchObject({ goldPairs: 1, correctPairs: 1 });
    const exported = await run(['export', '--db', kept]);
    expect(exported.stdout.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['a1', 'a2']);
    const again = await run(['eval', file, '--db', kept]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(kept);
    expect(again.stderr).toContain('already exists');
  });
});
