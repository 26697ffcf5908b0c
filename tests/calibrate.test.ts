import { describe, expect, it } from 'vitest';
import { fitThresholds, replay } from '../worker/calibrate.ts';
import type { Candidate } from '../worker/cluster-decision.ts';
import type { DecisionRecord } from '../worker/pipeline.ts';

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
