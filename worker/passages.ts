// Passage evidence: which windows of one article find a counterpart in another. Windows are
// aligned one-to-one (greedy on the highest similarity first), so a paragraph repeated ten
// times cannot claim ten matches.

export interface PassagePair {
  a: number;
  b: number;
  score: number;
}

export interface PassageAlignment {
  pairs: PassagePair[];
  /** Share of A's windows with a counterpart in B, and the reverse. */
  coverageA: number;
  coverageB: number;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function alignPassages(a: readonly Float32Array[], b: readonly Float32Array[], minScore: number): PassageAlignment {
  const all: PassagePair[] = [];
  a.forEach((va, i) =>
    b.forEach((vb, j) => {
      const score = dot(va, vb);
      if (score >= minScore) all.push({ a: i, b: j, score });
    }),
  );
  all.sort((x, y) => y.score - x.score);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  const pairs: PassagePair[] = [];
  for (const p of all) {
    if (usedA.has(p.a) || usedB.has(p.b)) continue;
    usedA.add(p.a);
    usedB.add(p.b);
    pairs.push(p);
  }
  pairs.sort((x, y) => x.a - y.a);
  return {
    pairs,
    coverageA: a.length ? pairs.length / a.length : 0,
    coverageB: b.length ? pairs.length / b.length : 0,
  };
}
