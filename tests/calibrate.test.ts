import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../db/store.ts';
import { WriterLock } from '../worker/service/lock.ts';
import { fitThresholds, fitVerifier, originalThreshold, passageThreshold, replay } from '../worker/calibrate.ts';
import type { Candidate } from '../worker/cluster-decision.ts';
import type { DecisionRecord } from '../worker/pipeline.ts';
import { FEATURE_NAMES } from '../worker/verifier.ts';
import { UsageError } from '../worker/errors.ts';
import { cli, FIXTURE_TEXTS, jsonl, SEEDS, tempDir } from './helpers.ts';

const cand = (articleId: string, score: number, lang = 'en'): Candidate => ({ articleId, clusterId: -1, score, lang, method: 'embedding' });

// Recorded in ingest order: a2 copies a1; b1 is another story that looks a bit like a1;
// b2 is b1's French translation, which also looks a bit like a1.
const records: DecisionRecord[] = [
  { id: 'a1', lang: 'en', candidates: [] },
  { id: 'a2', lang: 'en', candidates: [cand('a1', 0.9)] },
  { id: 'b1', lang: 'en', candidates: [cand('a1', 0.5), cand('a2', 0.48)] },
  { id: 'b2', lang: 'fr', candidates: [cand('b1', 0.7), cand('a1', 0.6), cand('a2', 0.55)] },
];
const gold = new Map([
  ['a1', { cluster: 'A', lang: 'en' }],
  ['a2', { cluster: 'A', lang: 'en' }],
  ['b1', { cluster: 'B', lang: 'en' }],
  ['b2', { cluster: 'B', lang: 'fr' }],
]);

describe('replay', () => {
  it('reproduces the decisions under given thresholds', () => {
    const strict = replay(records, { sameLanguage: 0.95, crossLanguage: 0.95, merge: 0.99 });
    expect(new Set(strict.values()).size).toBe(4);
    const loose = replay(records, { sameLanguage: 0.45, crossLanguage: 0.5, merge: 0.99 });
    // b1 joins a1's cluster at 0.5, then b2 follows: everything chains into one cluster.
    expect(new Set(loose.values()).size).toBe(1);
  });
});

describe('replay', () => {
  // c1 is the original; c2 reworks it; c3 reworks c2 and was never compared with c1 while recording.
  const evidence = { kind: 'rewrite' as const, cosine: 0.8, coverage: 0.8, coverageMax: 0.8, covered: { a: 0.8, b: 0.8 }, mutual: 0.8, mutualMax: 0.8, lengthRatio: 1, tokens: { a: 100, b: 100 }, shared: { a: 0, b: 0 } };
  const chain: DecisionRecord[] = [
    { id: 'c1', lang: 'en', candidates: [] },
    { id: 'c2', lang: 'en', candidates: [{ ...cand('c1', 0.8), evidence }] },
    { id: 'c3', lang: 'en', candidates: [{ ...cand('c2', 0.8), evidence }] },
  ];
  const t = { sameLanguage: 0.7, crossLanguage: 0.7, merge: 0.9, original: 0.3 };

  it('checks a cluster’s original the way ingest does, with the evidence the sources supply', () => {
    const asked: string[] = [];
    const against = (id: string, other: string) => {
      asked.push(`${id}>${other}`);
      return { articleId: other, score: 0.1, lang: 'en', method: 'embedding' as const };
    };
    const p = replay(chain, t, { against });
    expect(asked).toEqual(['c3>c1']);
    expect(p.get('c2')).toBe(p.get('c1'));
    expect(p.get('c3')).not.toBe(p.get('c1'));
    // Without such evidence there is nothing to check, as for an uncalibrated decision.
    expect(new Set(replay(chain, t).values()).size).toBe(1);
  });

  it('takes the earliest published article as a cluster’s original', () => {
    const published = new Map([
      ['c1', '2024-03-02'],
      ['c2', '2024-03-01'],
    ]);
    const asked: string[] = [];
    replay(chain, t, { publishedAt: (id) => published.get(id), against: (id, other) => (asked.push(`${id}>${other}`), undefined) });
    // c2 was published before c1, so c3 joining through c2 is c2's own business: no further check.
    expect(asked).toEqual([]);
  });
});

describe('replay of the original', () => {
  it('follows an article that contains its cluster’s original, like ingest', () => {
    const ev = (a: number, b: number) => ({ kind: 'near-verbatim' as const, cosine: 0.9, coverage: Math.min(a, b), coverageMax: Math.max(a, b), covered: { a, b }, mutual: 0.5, mutualMax: 1, lengthRatio: 0.4, tokens: { a: 100, b: 100 }, shared: { a: 0.4, b: 1 } });
    // A cut first, then its full version, then a copy of the full version that was never compared with the cut.
    const recs: DecisionRecord[] = [
      { id: 'cut', lang: 'en', candidates: [] },
      { id: 'full', lang: 'en', candidates: [{ ...cand('cut', 0.9), evidence: ev(0.45, 0.98) }] },
      { id: 'copy', lang: 'en', candidates: [{ ...cand('full', 0.95), evidence: ev(0.97, 0.96) }] },
    ];
    const asked: string[] = [];
    const p = replay(recs, { sameLanguage: 0.7, crossLanguage: 0.7, merge: 0.9, original: 0.5 }, { against: (id, other) => (asked.push(`${id}>${other}`), undefined) });
    // The copy joined through the full version, now the original: nothing else to compare.
    expect(asked).toEqual([]);
    expect(new Set(p.values()).size).toBe(1);
  });
});

describe('passageThreshold', () => {
  it('is the lowest similarity at which neighbours from other stories show at most one passage pair in ten', () => {
    const unit = (...v: number[]) => Float32Array.from(v.map((x) => x / Math.hypot(...v)));
    const ev = { kind: 'rewrite' as const, cosine: 0, coverage: 0, coverageMax: 0, covered: { a: 0, b: 0 }, mutual: 0, mutualMax: 0, lengthRatio: 1, tokens: { a: 100, b: 100 }, shared: { a: 0, b: 0 } };
    // b1's one passage resembles a1's at cos 0.5 and a2's at cos 0.3; the same-story pair a2~a1 does not count.
    const windows = new Map([
      ['a1', [unit(1, 0, 0)]],
      ['a2', [unit(0, 1, 0)]],
      ['b1', [unit(0.5, 0.3, Math.sqrt(0.66))]],
    ]);
    const recs: DecisionRecord[] = [
      { id: 'a1', lang: 'en', candidates: [] },
      { id: 'a2', lang: 'en', candidates: [{ ...cand('a1', 0.9), evidence: ev }] },
      { id: 'b1', lang: 'en', candidates: ['a1', 'a2'].map((id) => ({ ...cand(id, 0.5), evidence: ev })) },
    ];
    const t = passageThreshold(recs, gold, (id) => windows.get(id)!);
    // Two different-story neighbours: one stray pair at 0.5 is one per two neighbours, too many; above 0.5, none.
    expect(t).toBeCloseTo(0.51, 2);
  });
});

describe('originalThreshold', () => {
  it('is what 3 in 4 neighbours from other stories score below', () => {
    const weights = { features: [...FEATURE_NAMES], sameLanguage: [...FEATURE_NAMES.map(() => 0)], crossLanguage: [...FEATURE_NAMES.map(() => 0)] };
    // Same-language pairs score by their coverage alone; cross-language ones do not count here.
    weights.sameLanguage[FEATURE_NAMES.indexOf('coverage')] = 10;
    weights.sameLanguage[FEATURE_NAMES.indexOf('bias')] = -5;
    const ev = (coverage: number) => ({ kind: 'rewrite' as const, cosine: 0, coverage, coverageMax: 0, covered: { a: 0, b: 0 }, mutual: 0, mutualMax: 0, lengthRatio: 1, tokens: { a: 100, b: 100 }, shared: { a: 0, b: 0 } });
    // Different-story neighbours scoring 0.1, 0.2, 0.3, 0.4 (and one same-story pair at 0.9).
    const logit = (p: number) => (Math.log(p / (1 - p)) + 5) / 10;
    const scored: DecisionRecord[] = [
      { id: 'a1', lang: 'en', candidates: [] },
      { id: 'a2', lang: 'en', candidates: [{ ...cand('a1', 0.9), evidence: ev(logit(0.9)) }] },
      { id: 'b1', lang: 'en', candidates: [0.1, 0.2].map((p, i) => ({ ...cand(`a${i + 1}`, 0.5), evidence: ev(logit(p)) })) },
      { id: 'b2', lang: 'en', candidates: [0.3, 0.4].map((p, i) => ({ ...cand(`a${i + 1}`, 0.5), evidence: ev(logit(p)) })) },
    ];
    // The 75th percentile of 0.1 … 0.4, nearest rank below.
    expect(originalThreshold(scored, gold, weights)).toBeCloseTo(0.3, 2);
  });
});

describe('fitThresholds', () => {
  it('finds thresholds that separate the stories, with precision at the floor', () => {
    const r = fitThresholds(records, gold, { minPrecision: 0.98, start: { sameLanguage: 0.95, crossLanguage: 0.95, merge: 0.99 } });
    expect(r.feasible).toBe(true);
    expect(r.metrics.pairwise.precision).toBe(1);
    expect(r.metrics.pairwise.f1).toBe(1);
    // a2 must join (0.9) while b1 stays out (0.5); b2 must reach b1 (0.7) without merging a1's cluster (0.6).
    expect(r.thresholds.sameLanguage).toBeGreaterThan(0.5);
    expect(r.thresholds.sameLanguage).toBeLessThanOrEqual(0.9);
    expect(r.thresholds.crossLanguage).toBeLessThanOrEqual(0.7);
    expect(r.thresholds.merge).toBeGreaterThan(0.6);
  });

  it('walks out of an infeasible start towards the precision floor', () => {
    // A labelling that puts the copies apart makes every join a false positive.
    const contrary = new Map([...gold].map(([id, g]) => [id, { ...g, cluster: id }]));
    const r = fitThresholds(records, contrary, { minPrecision: 0.98, start: { sameLanguage: 0.3, crossLanguage: 0.3, merge: 0.3 } });
    // Everything joins at the start (precision 0); joining nothing has no false pair, so it is reachable.
    expect(r.feasible).toBe(true);
    expect(r.metrics.pairwise.predictedPairs).toBe(0);
  });
});

describe('calibrate on a small labelled file (bundled model)', () => {
  const seed = (name: string) => {
    const [title, ...rest] = readFileSync(join(SEEDS, name), 'utf8').split('\n');
    return { title: title!.trim(), text: rest.join('\n').trim() };
  };
  // Two translated stories (the seed original and its French version; a budget story in English
  // and French), the seed rewrite as a story of its own, and two unrelated stories.
  const labelled = [
    { id: 'seed-en', lang: 'en', cluster: 'crypto', ...seed('000_dfad1a769eb878c2.txt') },
    { id: 'quake', lang: 'en', cluster: 'quake', title: 'Earthquake', text: FIXTURE_TEXTS.quake },
    { id: 'budget-en', lang: 'en', cluster: 'budget', title: 'Budget', text: FIXTURE_TEXTS.budget },
    { id: 'seed-fr', lang: 'fr', cluster: 'crypto', ...seed('002_24598282812c099b.txt') },
    { id: 'match', lang: 'en', cluster: 'match', title: 'Cup final', text: FIXTURE_TEXTS.match },
    { id: 'budget-fr', lang: 'fr', cluster: 'budget', title: 'Budget', text: FIXTURE_TEXTS.budgetFr },
    { id: 'rewrite', lang: 'en', cluster: 'rewrite', ...seed('001_1731066e91127400.txt') },
  ];

  it('fits every threshold, stores them for the model with --save, and estimates how they carry over with --holdout', async () => {
    const dir = tempDir();
    const file = join(dir, 'labelled.jsonl');
    writeFileSync(file, jsonl(labelled));
    const r = await cli(['calibrate', file, '--json', '--save'], { cwd: dir });
    expect(r.code).toBe(0);
    const { fitted, savedTo } = r.json();
    expect(fitted.feasible).toBe(true);
    expect(fitted.metrics.pairwise.precision).toBeGreaterThanOrEqual(0.98);
    expect(fitted.thresholds).toEqual({
      sameLanguage: expect.any(Number),
      crossLanguage: expect.any(Number),
      merge: expect.any(Number),
      original: expect.any(Number),
      passage: expect.any(Number),
    });
    expect(fitted.thresholds.merge).toBeGreaterThanOrEqual(Math.max(fitted.thresholds.sameLanguage, fitted.thresholds.crossLanguage));
    expect(fitted.verifier.features).toEqual([...FEATURE_NAMES]);
    expect(savedTo).toEqual([join(dir, 'newsdedup.db')]);
    const stored = new Store(join(dir, 'newsdedup.db'));
    expect(stored.calibration(r.json().model)).toMatchObject({ ...fitted.thresholds, verifier: fitted.verifier });
    stored.close();
    // stats says which calibration applies to the stored articles' model, without loading it.
    expect((await cli(['ingest', file], { cwd: dir })).code).toBe(0);
    const stats = await cli(['stats', '--json'], { cwd: dir });
    expect(stats.json().calibration).toEqual({ source: 'database', thresholds: fitted.thresholds, verifier: true, configured: {}, effective: fitted.thresholds });
    // The text form names every threshold, and says a fit on a handful of pairs is a guess.
    const text = await cli(['calibrate', file], { cwd: dir });
    expect(text.stdout).toMatch(/^thresholds: sameLanguage [\d.]+, crossLanguage [\d.]+, merge [\d.]+, original [\d.]+, passage [\d.]+$/m);
    expect(text.stdout).toMatch(/^note: fitted on \d+ pairs of articles of one story; so few carry over poorly/m);

    const h = await cli(['calibrate', file, '--json', '--holdout', '1'], { cwd: dir });
    expect(h.code).toBe(0);
    expect(h.json().folds).toHaveLength(2);
    for (const f of h.json().folds) expect(f.test.articles + f.train.articles).toBe(labelled.length);
    expect(h.json().mean.f1).toBeGreaterThanOrEqual(0);
    expect((await cli(['calibrate', file, '--holdout', '1', '--save'], { cwd: dir })).code).toBe(2);

    // --save writes to the database: not while another writer holds it (it used to write anyway).
    const held = WriterLock.tryAcquire(join(dir, 'newsdedup.db'), 'newsdedup ingest');
    try {
      const blocked = await cli(['calibrate', file, '--save'], { cwd: dir, env: { NEWSDEDUP_LOCK_WAIT: '0' } });
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toMatch(/is being written by pid \d+ .*newsdedup ingest/);
    } finally {
      held.lock!.release();
    }
  });
});

describe('fitVerifier', () => {
  const ev = (x: number) => ({ kind: 'translation' as const, cosine: x, coverage: x, coverageMax: x, covered: { a: x, b: x }, mutual: x, mutualMax: x, lengthRatio: 1, tokens: { a: 100, b: 100 }, shared: { a: 0, b: 0 } });
  // Cross-language pairs of both kinds; same-language pairs only from different stories.
  const mixed: DecisionRecord[] = [
    { id: 'a1', lang: 'en', candidates: [] },
    { id: 'a2', lang: 'fr', candidates: [{ ...cand('a1', 0.8, 'en'), evidence: ev(0.8) }] },
    { id: 'b1', lang: 'en', candidates: [{ ...cand('a1', 0.3), evidence: ev(0.3) }] },
    { id: 'b2', lang: 'fr', candidates: [{ ...cand('b1', 0.7, 'en'), evidence: ev(0.7) }, { ...cand('a2', 0.2, 'fr'), evidence: ev(0.2) }, { ...cand('a1', 0.25, 'en'), evidence: ev(0.25) }] },
  ];
  const labels = new Map([
    ['a1', { cluster: 'A' }],
    ['a2', { cluster: 'A' }],
    ['b1', { cluster: 'B' }],
    ['b2', { cluster: 'B' }],
  ]);
  const inPlace = { features: [...FEATURE_NAMES], sameLanguage: FEATURE_NAMES.map((_, i) => i + 1), crossLanguage: FEATURE_NAMES.map(() => 0) };

  it('keeps the weights in place for a relation whose pairs are all of one kind, and fits the other', () => {
    const fitted = fitVerifier(mixed, labels, inPlace);
    expect(fitted.kept).toEqual(['sameLanguage']);
    expect(fitted.sameLanguage).toEqual(inPlace.sameLanguage);
    expect(fitted.crossLanguage.some((w) => w !== 0)).toBe(true);
  });

  it('refuses such a relation when there are no weights to keep', () => {
    expect(() => fitVerifier(mixed, labels)).toThrow(UsageError);
    expect(() => fitVerifier(mixed, labels)).toThrow(/no same-story same-language neighbours/);
  });
});
