// Evidence for one candidate pair beyond the document cosine, from window (passage) vectors and
// fingerprints. Pure: the caller supplies both sides and a boilerplate predicate.
import { anchorOverlap, jaccard } from './fingerprints.ts';
import { dot } from './passages.ts';

export type MatchKind = 'exact' | 'near-verbatim' | 'translation' | 'rewrite';

export interface EvidenceWindow {
  hash: string;
  tokens: number;
  vector: Float32Array;
}

export interface EvidenceSide {
  lang: string;
  windows: readonly EvidenceWindow[];
  anchors: readonly string[];
  minhash?: Uint32Array | null;
}

export interface PairEvidence {
  kind: MatchKind;
  /**
   * Passage coverage: for each side, the token-weighted mean over its content windows of the best
   * similarity to any content window of the other side; the smaller of the two. Translations and
   * copies cover each other paragraph by paragraph; two articles on the same event do not.
   */
  coverage: number;
  /** Tokens of the shorter side over tokens of the longer (content windows only). */
  lengthRatio: number;
  /** Share of each side's content tokens in windows the other side has word for word. */
  shared: { a: number; b: number };
  /** Shingle Jaccard estimate (same language only). */
  jaccard?: number;
  anchorOverlap?: number;
}

/** A near-verbatim copy shares most shingles; below that, same-language matches are rewrites. */
const NEAR_VERBATIM_JACCARD = 0.5;

const tokensOf = (ws: readonly EvidenceWindow[]) => ws.reduce((n, w) => n + w.tokens, 0);

/**
 * Token-weighted mean, over the windows of each side, of the best similarity to any window of
 * the other side (never below 0). One similarity matrix serves both directions.
 */
function coverages(from: readonly EvidenceWindow[], to: readonly EvidenceWindow[]): [number, number] {
  const bestTo = new Float64Array(to.length);
  let sumFrom = 0;
  let totalFrom = 0;
  for (const w of from) {
    let best = 0;
    for (let j = 0; j < to.length; j++) {
      const s = dot(w.vector, to[j]!.vector);
      if (s > best) best = s;
      if (s > bestTo[j]!) bestTo[j] = s;
    }
    sumFrom += best * w.tokens;
    totalFrom += w.tokens;
  }
  let sumTo = 0;
  let totalTo = 0;
  to.forEach((v, j) => {
    sumTo += bestTo[j]! * v.tokens;
    totalTo += v.tokens;
  });
  return [totalFrom > 0 ? sumFrom / totalFrom : 0, totalTo > 0 ? sumTo / totalTo : 0];
}

export function pairEvidence(a: EvidenceSide, b: EvidenceSide, isBoilerplate: (hash: string) => boolean = () => false): PairEvidence {
  // Windows recurring across different stories (footers, disclaimers) are not evidence; if a side
  // is nothing but such windows, keep them rather than judge on nothing.
  const content = (s: EvidenceSide) => {
    const kept = s.windows.filter((w) => !isBoilerplate(w.hash));
    return kept.length > 0 ? kept : s.windows;
  };
  const ca = content(a);
  const cb = content(b);
  const hashesA = new Set(ca.map((w) => w.hash));
  const hashesB = new Set(cb.map((w) => w.hash));
  const ta = tokensOf(ca);
  const tb = tokensOf(cb);
  const sharedA = tokensOf(ca.filter((w) => hashesB.has(w.hash)));
  const sharedB = tokensOf(cb.filter((w) => hashesA.has(w.hash)));
  const sameLang = a.lang === b.lang;
  const jac = sameLang && a.minhash && b.minhash ? jaccard(a.minhash, b.minhash) : undefined;
  const kind: MatchKind = !sameLang ? 'translation' : (jac ?? 0) >= NEAR_VERBATIM_JACCARD ? 'near-verbatim' : 'rewrite';
  return {
    kind,
    coverage: Math.min(...coverages(ca, cb)),
    lengthRatio: Math.min(ta, tb) / Math.max(1, ta, tb),
    shared: { a: ta ? sharedA / ta : 0, b: tb ? sharedB / tb : 0 },
    ...(jac !== undefined && { jaccard: jac }),
    ...(() => {
      const o = anchorOverlap(a.anchors, b.anchors);
      return o === undefined ? {} : { anchorOverlap: o };
    })(),
  };
}
