import { describe, expect, it } from 'vitest';
import { lexicalOnly } from '../worker/candidates.ts';
import { type Candidate, decideCluster, FEW_TOKENS, type Thresholds } from '../worker/cluster-decision.ts';

const t: Thresholds = { sameLanguage: 0.9, crossLanguage: 0.8, merge: 0.95 };
const c = (articleId: string, clusterId: number, score: number, lang = 'en', method: Candidate['method'] = 'embedding'): Candidate => ({
  articleId,
  clusterId,
  score,
  lang,
  method,
});
/** A candidate as the decision returns it: without verifier weights, its score is the cosine (1 for exact). */
const v = (x: Candidate) => ({ ...x, verified: x.method === 'exact' ? 1 : x.score });

describe('decideCluster', () => {
  it('starts a new cluster when there are no candidates', () => {
    expect(decideCluster({ lang: 'en' }, [], t)).toEqual({ action: 'new' });
  });

  it('starts a new cluster when no candidate clears its threshold', () => {
    expect(decideCluster({ lang: 'en' }, [c('a', 1, 0.89), c('b', 2, 0.79, 'fr')], t)).toEqual({ action: 'new' });
  });

  it('applies the cross-language threshold to neighbours in another language', () => {
    const d = decideCluster({ lang: 'en' }, [c('fr1', 4, 0.82, 'fr')], t);
    expect(d).toEqual({ action: 'join', clusterId: 4, evidence: [v(c('fr1', 4, 0.82, 'fr'))] });
    // The same score from a same-language neighbour is not enough.
    expect(decideCluster({ lang: 'fr' }, [c('fr1', 4, 0.82, 'fr')], t)).toEqual({ action: 'new' });
  });

  it('joins the cluster of the single best neighbour, not every qualifying one', () => {
    const d = decideCluster({ lang: 'en' }, [c('a', 1, 0.91), c('b', 2, 0.93), c('c', 3, 0.92)], t);
    expect(d).toEqual({ action: 'join', clusterId: 2, evidence: [v(c('b', 2, 0.93))] });
  });

  it('prefers an exact copy over any embedding score', () => {
    const d = decideCluster({ lang: 'en' }, [c('a', 1, 0.99), c('x', 7, 1, 'en', 'exact')], t);
    expect(d.action).toBe('merge'); // 0.99 also clears the merge bar
    if (d.action !== 'merge') throw new Error('unreachable');
    expect(d.evidence[0]).toEqual(v(c('x', 7, 1, 'en', 'exact')));
  });

  it('merges a second cluster only when its evidence clears the merge threshold, into the oldest id', () => {
    const d = decideCluster({ lang: 'en' }, [c('a', 5, 0.97), c('b', 2, 0.96), c('c', 9, 0.94)], t);
    expect(d).toEqual({ action: 'merge', clusterId: 2, mergeFrom: [5], evidence: [v(c('a', 5, 0.97)), v(c('b', 2, 0.96))] });
  });

  it('ignores weaker evidence for the cluster it already joins', () => {
    const d = decideCluster({ lang: 'en' }, [c('a', 5, 0.97), c('b', 5, 0.96)], t);
    expect(d).toEqual({ action: 'join', clusterId: 5, evidence: [v(c('a', 5, 0.97))] });
  });

  it('joins a cluster through one of its members only with evidence against the cluster’s original too', () => {
    const guarded: Thresholds = { ...t, original: 0.3 };
    const viaMember = (originalScore: number): Candidate => ({ ...c('b', 4, 0.93), original: { articleId: 'a', score: originalScore, lang: 'en', method: 'embedding' } });
    // B reworks the original A; this article reworks B and is nowhere near A: a story of its own.
    expect(decideCluster({ lang: 'en' }, [viaMember(0.1)], guarded)).toEqual({ action: 'new' });
    expect(decideCluster({ lang: 'en' }, [viaMember(0.35)], guarded)).toMatchObject({ action: 'join', clusterId: 4 });
    // The original itself needs no second look, and an exact copy of a member is a member.
    expect(decideCluster({ lang: 'en' }, [c('a', 4, 0.93)], guarded)).toMatchObject({ action: 'join', clusterId: 4 });
    expect(decideCluster({ lang: 'en' }, [{ ...c('b', 4, 1, 'en', 'exact'), original: viaMember(0.1).original }], guarded)).toMatchObject({ action: 'join' });
  });

  it('joins through two members that clear their bars without evidence against the original', () => {
    const guarded: Thresholds = { ...t, original: 0.3 };
    const member = (id: string, score: number, lang: string): Candidate => ({ ...c(id, 4, score, lang), original: { articleId: 'ar', score: 0.1, lang: 'ar', method: 'embedding' } });
    // A Hausa translation read well against the English and the German one, weakly against the Arabic original.
    expect(decideCluster({ lang: 'ha' }, [member('en', 0.9, 'en'), member('de', 0.85, 'de')], guarded)).toMatchObject({ action: 'join', clusterId: 4 });
    // One member alone does not vouch, nor does a second that misses its own bar.
    expect(decideCluster({ lang: 'ha' }, [member('en', 0.9, 'en')], guarded)).toEqual({ action: 'new' });
    expect(decideCluster({ lang: 'ha' }, [member('en', 0.9, 'en'), member('de', 0.7, 'de')], guarded)).toEqual({ action: 'new' });
    // Members of different clusters do not vouch for each other.
    expect(decideCluster({ lang: 'ha' }, [member('en', 0.9, 'en'), { ...member('de', 0.85, 'de'), clusterId: 5 }], guarded)).toEqual({ action: 'new' });
  });

  it('merges a second cluster only with evidence against its original that clears the merge bar too', () => {
    const guarded: Thresholds = { ...t, original: 0.3 };
    const other = (originalScore: number): Candidate => ({ ...c('y', 2, 0.97), original: { articleId: 'x', score: originalScore, lang: 'en', method: 'embedding' } });
    expect(decideCluster({ lang: 'en' }, [c('a', 5, 0.98), other(0.2)], guarded)).toMatchObject({ action: 'join', clusterId: 5 });
    // Enough to join cluster 2 through y (0.5 against its original, bar 0.3), not to fuse it with 5 (bar 0.95).
    expect(decideCluster({ lang: 'en' }, [c('a', 5, 0.98), other(0.5)], guarded)).toEqual({ action: 'join', clusterId: 5, evidence: [v(c('a', 5, 0.98))] });
    expect(decideCluster({ lang: 'en' }, [c('a', 5, 0.98), other(0.96)], guarded)).toMatchObject({ action: 'merge', clusterId: 2, mergeFrom: [5] });
  });

  it('says when the article contains the original it joins (a full version after its cut)', () => {
    const covered = (a: number, b: number) => ({
      kind: 'near-verbatim' as const,
      cosine: 0.9,
      coverage: Math.min(a, b),
      coverageMax: Math.max(a, b),
      covered: { a, b },
      mutual: 0.5,
      mutualMax: 1,
      lengthRatio: 0.4,
      tokens: { a: 100, b: 100 },
      shared: { a: 0.4, b: 1 },
    });
    const joining = (a: number, b: number): Candidate => {
      const evidence = covered(a, b);
      return { ...c('cut', 3, 0.95), evidence, original: { articleId: 'cut', score: 0.95, lang: 'en', method: 'embedding', evidence } };
    };
    // All of the original is found in the article, under half of the article in the original.
    expect(decideCluster({ lang: 'en' }, [joining(0.45, 0.98)], t)).toMatchObject({ action: 'join', containsOriginal: true });
    // A translation or copy covers its original about as much as it is covered.
    expect(decideCluster({ lang: 'en' }, [joining(0.9, 0.95)], t)).not.toHaveProperty('containsOriginal');
  });

  it('judges a pair the model cannot read on its words alone: a copy joins, vectors and passages do not', () => {
    const evidence = (kind: 'near-verbatim' | 'rewrite' | 'translation') => ({
      kind,
      cosine: 0.99,
      coverage: 0.99,
      coverageMax: 0.99,
      covered: { a: 0.99, b: 0.99 },
      mutual: 0.99,
      mutualMax: 0.99,
      lengthRatio: 0.9,
      tokens: { a: 100, b: 100 },
      shared: { a: kind === 'near-verbatim' ? 0.9 : 0, b: kind === 'near-verbatim' ? 0.9 : 0 },
    });
    // Two unrelated Korean articles: the vectors of unknown tokens are all alike.
    const unread = (kind: 'near-verbatim' | 'rewrite' | 'translation', lang = 'ko'): Candidate => ({ ...c('k', 2, 0.99, lang), evidence: evidence(kind), lexicalOnly: true });
    expect(decideCluster({ lang: 'ko' }, [unread('rewrite')], t)).toEqual({ action: 'new' });
    expect(decideCluster({ lang: 'en' }, [unread('translation')], t)).toEqual({ action: 'new' });
    expect(decideCluster({ lang: 'ko' }, [unread('near-verbatim')], t)).toMatchObject({ action: 'join', clusterId: 2 });
    expect(decideCluster({ lang: 'ko' }, [{ ...c('x', 7, 1, 'ko', 'exact'), lexicalOnly: true }], t)).toMatchObject({ action: 'join', clusterId: 7 });
    // Through the cluster's original too: a member's copy does not join through an unread original.
    const viaOriginal: Candidate = { ...c('m', 3, 0.99, 'ko'), evidence: evidence('near-verbatim'), original: { articleId: 'o', score: 0.99, lang: 'ko', method: 'embedding', evidence: evidence('rewrite'), lexicalOnly: true } };
    expect(decideCluster({ lang: 'ko' }, [viaOriginal], { ...t, original: 0.5 })).toEqual({ action: 'new' });
  });

  it('takes two same-language articles whose numbers mostly differ for two reports, not one story', () => {
    const withNumbers = (lang: string, kind: 'rewrite' | 'near-verbatim' | 'translation', anchorOverlap: number, anchorCount = 4): Candidate => ({
      ...c('r', 2, 0.99, lang),
      evidence: { kind, cosine: 0.99, coverage: 0.95, coverageMax: 0.95, covered: { a: 0.95, b: 0.95 }, mutual: 0.9, mutualMax: 0.9, lengthRatio: 1, tokens: { a: 100, b: 100 }, shared: { a: 0, b: 0 }, anchorOverlap, anchorCount },
    });
    // Yesterday's and today's currency rates: the same template, other figures.
    expect(decideCluster({ lang: 'en' }, [withNumbers('en', 'rewrite', 0)], t)).toEqual({ action: 'new' });
    // A rewrite that keeps a quarter of the numbers or more, or gives fewer than three, is judged as before.
    expect(decideCluster({ lang: 'en' }, [withNumbers('en', 'rewrite', 0.25)], t)).toMatchObject({ action: 'join' });
    expect(decideCluster({ lang: 'en' }, [withNumbers('en', 'rewrite', 0, 2)], t)).toMatchObject({ action: 'join' });
    // Translations write numbers their own way; a near-verbatim copy is a copy whatever its figures.
    expect(decideCluster({ lang: 'fr' }, [withNumbers('en', 'translation', 0)], t)).toMatchObject({ action: 'join' });
    expect(decideCluster({ lang: 'en' }, [withNumbers('en', 'near-verbatim', 0)], t)).toMatchObject({ action: 'join' });
  });

  it('judges a pair on its words alone when a side is under FEW_TOKENS (a headline alone)', () => {
    const short = (kind: 'rewrite' | 'near-verbatim' | 'translation', tokens: number, lang = 'en'): Candidate => ({
      ...c('h', 2, 0.99, lang),
      evidence: { kind, cosine: 0.99, coverage: 0.95, coverageMax: 0.95, covered: { a: 0.95, b: 0.95 }, mutual: 0.9, mutualMax: 0.9, lengthRatio: 0.05, tokens: { a: tokens, b: 300 }, shared: { a: 0, b: 0 } },
    });
    expect(decideCluster({ lang: 'en' }, [short('rewrite', FEW_TOKENS - 1)], t)).toEqual({ action: 'new' });
    expect(decideCluster({ lang: 'fr' }, [short('translation', FEW_TOKENS - 1)], t)).toEqual({ action: 'new' });
    expect(decideCluster({ lang: 'en' }, [short('near-verbatim', FEW_TOKENS - 1)], t)).toMatchObject({ action: 'join', clusterId: 2 });
    expect(decideCluster({ lang: 'en' }, [short('rewrite', FEW_TOKENS)], t)).toMatchObject({ action: 'join', clusterId: 2 });
  });

  it('judges a pair on its words alone when the model cannot read a side, or reads both only through another language', () => {
    const side = (reading: 'native' | 'near' | 'none') => ({ reading });
    expect(lexicalOnly(side('native'), side('native'))).toEqual({});
    // Bulgarian against Spanish: the Spanish side anchors the comparison.
    expect(lexicalOnly(side('near'), side('native'))).toEqual({});
    // Two Serbian (or a Danish and a Swedish) articles keep their own language's traits, which the model cannot take out.
    expect(lexicalOnly(side('near'), side('near'))).toEqual({ lexicalOnly: true });
    expect(lexicalOnly(side('none'), side('native'))).toEqual({ lexicalOnly: true });
  });
});
