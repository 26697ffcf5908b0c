// Evidence for one candidate pair beyond the document cosine, from window (passage) vectors and
// fingerprints. Pure: the caller supplies both sides and a boilerplate predicate.
import { anchorOverlap, contained, jaccard } from './fingerprints.ts';
import { similarityMatrix } from './similarity.ts';

export type MatchKind = 'exact' | 'near-verbatim' | 'translation' | 'rewrite';

export interface EvidenceWindow {
  hash: string;
  tokens: number;
  vector: Float32Array;
}

export interface EvidenceSide {
  lang: string;
  /** Never modified once compared: what is derived from them is remembered by the array. */
  windows: readonly EvidenceWindow[];
  anchors: readonly string[];
  minhash?: Uint32Array | null;
}

export interface PairEvidence {
  kind: MatchKind;
  /**
   * Cosine of the two articles' content: the token-weighted mean of the compared windows' vectors
   * on each side. Unlike the document vector it leaves out boilerplate.
   */
  cosine: number;
  /**
   * Passage coverage: for each side, the token-weighted mean over its compared windows of the best
   * similarity to any compared window of the other side; the smaller of the two. Translations and
   * copies cover each other passage by passage; two articles on the same event do not.
   */
  coverage: number;
  /** The larger of the two directed coverages (a lead-only copy is covered by its full version). */
  coverageMax: number;
  /** The two directed coverages: how much of each side finds a counterpart in the other. */
  covered: { a: number; b: number };
  /**
   * Mutual alignment: for each side, the token share of its windows whose best counterpart has
   * them as its own best counterpart, each such pair weighted by its similarity up to
   * MUTUAL_FULL_SIMILARITY; the smaller of the two. Sentence by sentence, a translation pairs up
   * one to one, while an article on the same topic matches a few generic passages many times over.
   */
  mutual: number;
  /** The larger of the two mutual shares. */
  mutualMax: number;
  /** Tokens of the shorter side over tokens of the longer (content windows only). */
  lengthRatio: number;
  /** Each side's tokens in its content windows (boilerplate left out). */
  tokens: { a: number; b: number };
  /** Share of each side's content tokens in windows the other side has word for word. */
  shared: { a: number; b: number };
  /**
   * True when the windows both sides have word for word were left out of the passage measures:
   * both sides also have text of their own, so the common part may be a site's footer seen too
   * rarely yet to be known boilerplate, and must not carry the decision.
   */
  sharedSetAside?: boolean;
  /** Shingle Jaccard estimate (same language only). */
  jaccard?: number;
  anchorOverlap?: number;
  /** How many numbers the side with fewer gives (what `anchorOverlap` is a share of). */
  anchorCount?: number;
}

/**
 * A near-verbatim copy shares most shingles, or one side has most of its shingles or of its
 * passages word for word in the other (a cut of a copy); below that, same-language matches are
 * rewrites. A lead-only cut ends inside a passage, and often the title and its first lines are one
 * passage: of 140 dev articles cut at 30%, 10 had under half their passages word for word in the
 * full version (0-0.49) and were called rewrites; their shingles are all in it.
 */
const NEAR_VERBATIM_JACCARD = 0.5;
const NEAR_VERBATIM_SHARED = 0.5;
const NEAR_VERBATIM_CONTAINED = 0.8;
const tokensOf = (ws: readonly EvidenceWindow[]) => ws.reduce((n, w) => n + w.tokens, 0);

/**
 * Whether the windows this side shares word for word with the other come after most of its own
 * text: an ending both articles have in common. Text shared word for word is either a copied
 * story or a site's footer not yet seen often enough to be known boilerplate. A footer follows
 * each article's own story (a rotating "read more" list may trail it); a copied story comes
 * first, and what each side has of its own (its site's footer, edits) follows it or sits inside
 * it. A side with nothing of its own is contained in the other: a copy, a cut of one, the same
 * story without its footer.
 */
function commonEnding(ws: readonly EvidenceWindow[], otherHashes: ReadonlySet<string>): boolean {
  const first = ws.findIndex((w) => otherHashes.has(w.hash));
  if (first < 0) return false;
  const before = tokensOf(ws.slice(0, first));
  const after = tokensOf(ws.slice(first).filter((w) => !otherHashes.has(w.hash)));
  return before > after;
}

/**
 * A mutual-best pair counts in full from this similarity, in proportion below it. Unweighted, the
 * share is high by chance between short texts (2 windows against 2 pair up mutually two times in
 * three): on the benchmark's truncated variants under a footer, different stories in different
 * languages paired up at similarities of 0.02-0.25 and were joined (pairwise precision 0.940),
 * where translations' pairs score 0.25-0.85. Refitted for 0.2 / 0.25 / 0.35 / 0.5 / 1 (pairwise F1
 * on dev, the benchmark corpus, FLORES documents): 0.5 held precision best on all three.
 */
const MUTUAL_FULL_SIMILARITY = 0.5;

const vectorsOf = (ws: readonly EvidenceWindow[]) => ws.map((w) => w.vector);

/** Σ_i Σ_j tokens_i · tokens_j · sims[i, j]: the dot product of the two sides' token-weighted vector sums. */
function weightedDot(a: readonly EvidenceWindow[], b: readonly EvidenceWindow[], sims: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    let row = 0;
    for (let j = 0; j < b.length; j++) row += b[j]!.tokens * sims[i * b.length + j]!;
    s += a[i]!.tokens * row;
  }
  return s;
}

/**
 * Self terms of the content cosine by side: for each window list (an article's, as the caller
 * holds it: never modified afterwards), the term of each compared sub-list, keyed by the indices
 * kept ('' for all of them). An article is compared with about ten neighbours, and a stored one
 * with every newcomer near it, always on the same windows unless boilerplate changed: the term
 * was two of the three similarity matrices of every pair.
 */
const selfTerms = new WeakMap<readonly EvidenceWindow[], Map<string, number>>();

/** Σ_i Σ_j tokens_i · tokens_j · sims[i, j] over `kept`, an in-order sub-list of `all`; computed once per distinct sub-list. */
function selfTerm(all: readonly EvidenceWindow[], kept: readonly EvidenceWindow[]): number {
  let terms = selfTerms.get(all);
  if (!terms) selfTerms.set(all, (terms = new Map()));
  let key = '';
  if (kept.length < all.length) {
    const at: number[] = [];
    for (let i = 0, k = 0; k < kept.length; i++) {
      if (all[i] !== kept[k]) continue;
      at.push(i);
      k++;
    }
    key = at.join(',');
  }
  let term = terms.get(key);
  if (term === undefined) {
    term = weightedDot(kept, kept, similarityMatrix(vectorsOf(kept), vectorsOf(kept)));
    terms.set(key, term);
  }
  return term;
}

/** Cosine of the two sides' token-weighted vector sums, from window similarities (`ab`: the cross term). */
function contentCosine(a: EvidenceSide, pa: readonly EvidenceWindow[], b: EvidenceSide, pb: readonly EvidenceWindow[], ab: number): number {
  const aa = selfTerm(a.windows, pa);
  const bb = selfTerm(b.windows, pb);
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** One side's coverage (token-weighted best similarity, never below 0) and similarity-weighted mutual-best token share. */
function alignedShares(ws: readonly EvidenceWindow[], sim: Float64Array, mine: Int32Array, theirs: Int32Array): { coverage: number; mutual: number } {
  let covered = 0;
  let mutual = 0;
  let total = 0;
  for (let i = 0; i < ws.length; i++) {
    const t = ws[i]!.tokens;
    covered += Math.max(0, sim[i]!) * t;
    if (theirs[mine[i]!] === i) mutual += t * Math.min(1, Math.max(0, sim[i]!) / MUTUAL_FULL_SIMILARITY);
    total += t;
  }
  return total > 0 ? { coverage: covered / total, mutual: mutual / total } : { coverage: 0, mutual: 0 };
}

/** Directed coverages and mutual-best shares of two window lists, from one similarity matrix. */
function alignment(a: readonly EvidenceWindow[], b: readonly EvidenceWindow[]) {
  const bestOfA = new Int32Array(a.length).fill(-1);
  const simOfA = new Float64Array(a.length);
  const bestOfB = new Int32Array(b.length).fill(-1);
  const simOfB = new Float64Array(b.length).fill(-Infinity);
  const sims = similarityMatrix(vectorsOf(a), vectorsOf(b));
  const cross = weightedDot(a, b, sims);
  for (let i = 0; i < a.length; i++) {
    let best = -Infinity;
    for (let j = 0; j < b.length; j++) {
      const s = sims[i * b.length + j]!;
      if (s > best) {
        best = s;
        bestOfA[i] = j;
      }
      if (s > simOfB[j]!) {
        simOfB[j] = s;
        bestOfB[j] = i;
      }
    }
    simOfA[i] = best;
  }
  return { a: alignedShares(a, simOfA, bestOfA, bestOfB), b: alignedShares(b, simOfB, bestOfB, bestOfA), cross };
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
  // An ending both sides have word for word may be a new site's footer: the passage measures then
  // look only at what each side has of its own, so that the footer cannot carry the decision. Two
  // different stories under one footer do not correspond there; two versions of one story do.
  const setAside = commonEnding(ca, hashesB) && commonEnding(cb, hashesA);
  const pa = setAside ? ca.filter((w) => !hashesB.has(w.hash)) : ca;
  const pb = setAside ? cb.filter((w) => !hashesA.has(w.hash)) : cb;
  const { a: da, b: db, cross } = alignment(pa, pb);
  const sameLang = a.lang === b.lang;
  const jac = sameLang && a.minhash && b.minhash ? jaccard(a.minhash, b.minhash) : undefined;
  // A cut of a copy (lead only, truncated) shares few shingles with its full version in Jaccard
  // terms, but most of its own text word for word.
  const verbatim =
    (jac ?? 0) >= NEAR_VERBATIM_JACCARD ||
    Math.max(ta ? sharedA / ta : 0, tb ? sharedB / tb : 0) >= NEAR_VERBATIM_SHARED ||
    (jac !== undefined && Math.max(contained(a.minhash!, b.minhash!), contained(b.minhash!, a.minhash!)) >= NEAR_VERBATIM_CONTAINED);
  const kind: MatchKind = !sameLang ? 'translation' : verbatim ? 'near-verbatim' : 'rewrite';
  const anchors = anchorOverlap(a.anchors, b.anchors);
  return {
    kind,
    cosine: contentCosine(a, pa, b, pb, cross),
    coverage: Math.min(da.coverage, db.coverage),
    coverageMax: Math.max(da.coverage, db.coverage),
    covered: { a: da.coverage, b: db.coverage },
    mutual: Math.min(da.mutual, db.mutual),
    mutualMax: Math.max(da.mutual, db.mutual),
    lengthRatio: Math.min(ta, tb) / Math.max(1, ta, tb),
    tokens: { a: ta, b: tb },
    shared: { a: ta ? sharedA / ta : 0, b: tb ? sharedB / tb : 0 },
    ...(setAside && { sharedSetAside: true }),
    ...(jac !== undefined && { jaccard: jac }),
    ...(anchors !== undefined && { anchorOverlap: anchors, anchorCount: Math.min(a.anchors.length, b.anchors.length) }),
  };
}
