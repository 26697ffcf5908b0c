import { describe, expect, it } from 'vitest';
import { decideCluster } from '../worker/cluster-decision.ts';
import { type EvidenceSide, pairEvidence } from '../worker/evidence.ts';
import { minhash } from '../worker/fingerprints.ts';
import { UsageError } from '../worker/errors.ts';
import { checkVerifier, FEATURE_NAMES, featureVector, fitLogistic, verifiedScore } from '../worker/verifier.ts';

const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / n));
};
const win = (hash: string, tokens: number, ...v: number[]) => ({ hash, tokens, vector: unit(...v) });

describe('pairEvidence', () => {
  const story = [win('p1', 50, 1, 0, 0, 0), win('p2', 50, 0, 1, 0, 0)];
  const footer = win('footer', 60, 0, 0, 0, 1);

  it('measures passage coverage both ways and keeps the smaller', () => {
    const a: EvidenceSide = { lang: 'en', windows: story, anchors: ['2023'] };
    const b: EvidenceSide = { lang: 'fr', windows: [win('q1', 55, 1, 0.05, 0, 0), win('q2', 45, 0.05, 1, 0, 0)], anchors: ['2023', '12'] };
    const ev = pairEvidence(a, b);
    expect(ev.kind).toBe('translation');
    expect(ev.coverage).toBeGreaterThan(0.99);
    expect(ev.anchorOverlap).toBe(1);
    expect(ev.shared).toEqual({ a: 0, b: 0 });
  });

  it('weights mutual-best pairs by their similarity, so two short unrelated texts do not pair up by chance', () => {
    // Two windows against two always pair up one to one; here at similarities of about 0.1.
    const a: EvidenceSide = { lang: 'en', windows: [win('a1', 50, 1, 0, 0, 0, 0.1, 0), win('a2', 50, 0, 1, 0, 0, 0, 0.1)], anchors: [] };
    const b: EvidenceSide = { lang: 'de', windows: [win('b1', 50, 0, 0, 1, 0, 0.1, 0), win('b2', 50, 0, 0, 0, 1, 0, 0.1)], anchors: [] };
    const chance = pairEvidence(a, b);
    expect(chance.mutualMax).toBeGreaterThan(0);
    expect(chance.mutualMax).toBeLessThan(0.05);
    // A translation's pairs, at 0.5 or more, count in full.
    const c: EvidenceSide = { lang: 'de', windows: [win('c1', 50, 1, 0, 1, 0, 0, 0), win('c2', 50, 0, 1, 0, 1, 0, 0)], anchors: [] };
    const translation = pairEvidence(a, c);
    expect(translation.mutual).toBe(1);
  });

  it('does not count a footer as evidence once it is known boilerplate', () => {
    const other = [win('o1', 50, 0, 0, 1, 0), win('o2', 50, 0, 0, 1, 0.1)];
    const a: EvidenceSide = { lang: 'en', windows: [...story, footer], anchors: [] };
    const b: EvidenceSide = { lang: 'en', windows: [...other, footer], anchors: [] };
    const aware = pairEvidence(a, b, (h) => h === 'footer');
    expect(aware.shared).toEqual({ a: 0, b: 0 });
    expect(aware.coverage).toBeLessThan(0.1);
    expect(aware.mutual).toBeLessThan(1);
  });

  it('sets aside a footer both stories share word for word before it is known boilerplate', () => {
    const other = [win('o1', 50, 0, 0, 1, 0), win('o2', 50, 0, 0, 1, 0.1)];
    const a: EvidenceSide = { lang: 'en', windows: [...story, footer], anchors: [] };
    const b: EvidenceSide = { lang: 'en', windows: [...other, footer], anchors: [] };
    const first = pairEvidence(a, b);
    // Reported, but the passage measures look only at what each story has of its own.
    expect(first.shared.a).toBeGreaterThan(0.3);
    expect(first.sharedSetAside).toBe(true);
    expect(first.coverage).toBeLessThan(0.1);
    expect(first.cosine).toBeLessThan(0.1);
    expect(first.mutualMax).toBeLessThan(1);
  });

  it('counts everything when one side is contained in the other (the same story without its footer)', () => {
    const a: EvidenceSide = { lang: 'en', windows: [...story, footer], anchors: [] };
    const b: EvidenceSide = { lang: 'en', windows: story, anchors: [] };
    const ev = pairEvidence(a, b);
    expect(ev.sharedSetAside).toBeUndefined();
    expect(ev.shared.b).toBe(1);
    expect(ev.coverageMax).toBeGreaterThan(0.99);
    expect(ev.mutualMax).toBe(1);
  });

  it('labels same-language copies near-verbatim or rewrite by shingle overlap and passages shared word for word', () => {
    const text = 'the minister presented a budget that raises spending on schools and hospitals while cutting subsidies';
    const a: EvidenceSide = { lang: 'en', windows: story, anchors: [], minhash: minhash(text) };
    // Reworded passages (other fingerprints, similar vectors).
    const reworded = story.map((w, i) => ({ ...w, hash: `r${i}` }));
    expect(pairEvidence(a, { ...a, windows: reworded, minhash: minhash(`${text} today`) }).kind).toBe('near-verbatim');
    const other = minhash('an entirely different text about football and goals scored late');
    expect(pairEvidence(a, { ...a, windows: reworded, minhash: other }).kind).toBe('rewrite');
    // A cut of the article: few shingles in common with the whole, but all its passages word for word.
    expect(pairEvidence(a, { ...a, windows: [story[0]!], minhash: other }).kind).toBe('near-verbatim');
    // A cut that ends inside a passage, none of its passages word for word in the whole: its shingles are.
    const long = Array.from({ length: 12 }, (_, i) => `${text} in region ${i} said officials on day ${i + 1}`).join('. ');
    const whole = { ...a, minhash: minhash(long) };
    const lead = { ...a, windows: reworded, minhash: minhash(long.slice(0, Math.floor(long.length * 0.3))) };
    expect(pairEvidence(lead, whole).kind).toBe('near-verbatim');
    expect(pairEvidence(whole, lead).kind).toBe('near-verbatim');
  });
});

describe('verifier', () => {
  const evidence = (coverage: number, cosine: number) => ({
    kind: 'translation' as const,
    cosine,
    coverage,
    coverageMax: coverage,
    covered: { a: coverage, b: coverage },
    mutual: coverage,
    mutualMax: coverage,
    lengthRatio: 0.9,
    tokens: { a: 100, b: 100 },
    shared: { a: 0, b: 0 },
  });

  it('learns from labelled evidence, and a strong passage match outranks a higher plain cosine', () => {
    // Positives: high passage coverage and alignment; negatives: a similar topic (cosine) without them.
    const xs: number[][] = [];
    const ys: number[] = [];
    for (let i = 0; i < 40; i++) {
      const pos = i % 2 === 0;
      xs.push(featureVector(evidence(pos ? 0.7 + (i % 5) * 0.02 : 0.3 + (i % 5) * 0.02, pos ? 0.5 : 0.55)));
      ys.push(pos ? 1 : 0);
    }
    const w = fitLogistic(xs, ys);
    const weights = { features: [...FEATURE_NAMES], sameLanguage: w, crossLanguage: w };
    const strong = { articleId: 'tr', clusterId: 1, score: 0.5, lang: 'fr', method: 'embedding' as const, evidence: evidence(0.75, 0.5) };
    const topical = { articleId: 'ev', clusterId: 2, score: 0.6, lang: 'fr', method: 'embedding' as const, evidence: evidence(0.3, 0.6) };
    expect(verifiedScore(strong.evidence, false, weights)).toBeGreaterThan(0.5);
    const d = decideCluster({ lang: 'en' }, [topical, strong], { sameLanguage: 0.5, crossLanguage: 0.5, merge: 0.99, verifier: weights });
    expect(d).toMatchObject({ action: 'join', clusterId: 1 });
    // Without weights the plain cosine decides, and the topical neighbour would win.
    expect(decideCluster({ lang: 'en' }, [topical, strong], { sameLanguage: 0.5, crossLanguage: 0.5, merge: 0.99 })).toMatchObject({ clusterId: 2 });
  });

  it('lets no neighbour without evidence qualify once a verifier is in place, whatever its cosine', () => {
    const w = FEATURE_NAMES.map(() => 0);
    const weights = { features: [...FEATURE_NAMES], sameLanguage: w, crossLanguage: w };
    const far = { articleId: 'x', clusterId: 3, score: 0.99, lang: 'en', method: 'embedding' as const };
    expect(decideCluster({ lang: 'en' }, [far], { sameLanguage: 0.3, crossLanguage: 0.3, merge: 0.9, verifier: weights })).toEqual({ action: 'new' });
  });

  it('refuses weights fitted for other features instead of scoring nonsense', () => {
    const stale = { features: ['cosine', 'coverage', 'lengthRatio', 'nearest', 'sharedMax', 'bias'], sameLanguage: [1, 1, 1, 1, 1, 1], crossLanguage: [1, 1, 1, 1, 1, 1] };
    expect(() => checkVerifier(stale)).toThrow(UsageError);
    expect(() => verifiedScore(evidence(0.5, 0.5), true, stale)).toThrow(/recalibrate/);
  });
});
