import { describe, expect, it } from 'vitest';
import { clusteringMetrics, type LabelledItem } from '../worker/metrics.ts';

describe('clusteringMetrics', () => {
  // Gold: {a1 en, a2 fr, a3 de} {b1 en, b2 en} {c1 en}
  // Predicted: {a1, a2} {a3, c1} {b1, b2}
  const items: LabelledItem[] = [
    { id: 'a1', lang: 'en', gold: 'A', predicted: '1' },
    { id: 'a2', lang: 'fr', gold: 'A', predicted: '1' },
    { id: 'a3', lang: 'de', gold: 'A', predicted: '2' },
    { id: 'b1', lang: 'en', gold: 'B', predicted: '3' },
    { id: 'b2', lang: 'en', gold: 'B', predicted: '3' },
    { id: 'c1', lang: 'en', gold: 'C', predicted: '2' },
  ];

  it('computes pairwise precision and recall by hand', () => {
    const m = clusteringMetrics(items);
    // gold pairs: A has 3, B has 1 → 4; predicted pairs: 1+1+1 = 3; correct: (a1,a2) and (b1,b2) = 2
    expect(m.pairwise.goldPairs).toBe(4);
    expect(m.pairwise.predictedPairs).toBe(3);
    expect(m.pairwise.correctPairs).toBe(2);
    expect(m.pairwise.precision).toBeCloseTo(2 / 3, 10);
    expect(m.pairwise.recall).toBeCloseTo(2 / 4, 10);
    expect(m.pairwise.f1).toBeCloseTo((2 * (2 / 3) * 0.5) / (2 / 3 + 0.5), 10);
  });

  it('computes B-cubed precision and recall by hand', () => {
    const m = clusteringMetrics(items);
    // precision per item: a1 2/2, a2 2/2, a3 1/2, b1 1, b2 1, c1 1/2 → (1+1+.5+1+1+.5)/6 = 5/6
    // recall per item:    a1 2/3, a2 2/3, a3 1/3, b1 1, b2 1, c1 1   → (2/3+2/3+1/3+1+1+1)/6 = 14/18
    expect(m.bcubed.precision).toBeCloseTo(5 / 6, 10);
    expect(m.bcubed.recall).toBeCloseTo(14 / 18, 10);
  });

  it('splits pair recall into cross-language and same-language pairs', () => {
    const m = clusteringMetrics(items);
    // cross-language gold pairs: (a1,a2) (a1,a3) (a2,a3): 1 found; same-language: (b1,b2): found
    expect(m.crossLanguage).toEqual({ goldPairs: 3, found: 1, recall: 1 / 3 });
    expect(m.sameLanguage).toEqual({ goldPairs: 1, found: 1, recall: 1 });
  });

  it('scores a perfect clustering as 1 everywhere', () => {
    const perfect = items.map((i) => ({ ...i, predicted: i.gold }));
    const m = clusteringMetrics(perfect);
    expect([m.bcubed.f1, m.pairwise.f1, m.crossLanguage.recall, m.sameLanguage.recall]).toEqual([1, 1, 1, 1]);
  });
});
