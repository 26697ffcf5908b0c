// The verifier: turns a candidate's evidence into one score in [0, 1] with a logistic model per
// language relation (same language / across languages). Its weights are fitted by `calibrate` on
// labelled data and shipped with the model (newsdedup.json); without weights, the score is the
// plain document cosine.
import type { PairEvidence } from './evidence.ts';

export interface VerifierFeatures {
  cosine: number;
  evidence: PairEvidence;
  /** 0 for the article's nearest neighbour (in the same language relation), 1 for the next, … */
  rank: number;
}

// Numeric anchors are reported as evidence but not used here: on dev they looked decisive (human
// translations keep every number), yet rewrites and spun copies change numbers, and a verifier
// leaning on them rejected the seed translation outright. Without them dev F1 was higher, too.
export const FEATURE_NAMES = ['cosine', 'coverage', 'lengthRatio', 'nearest', 'sharedMax', 'bias'] as const;

export interface VerifierWeights {
  sameLanguage: number[];
  crossLanguage: number[];
}

export function featureVector(f: VerifierFeatures): number[] {
  const ev = f.evidence;
  return [f.cosine, ev.coverage, ev.lengthRatio, f.rank === 0 ? 1 : 0, Math.max(ev.shared.a, ev.shared.b), 1];
}

export function verifiedScore(f: VerifierFeatures, sameLanguage: boolean, weights: VerifierWeights | undefined): number {
  if (!weights) return f.cosine;
  const w = sameLanguage ? weights.sameLanguage : weights.crossLanguage;
  const x = featureVector(f);
  let z = 0;
  for (let i = 0; i < x.length; i++) z += (w[i] ?? 0) * x[i]!;
  return 1 / (1 + Math.exp(-z));
}

/**
 * Logistic regression by batch gradient descent with a small L2 penalty (features are few and
 * bounded, so plain gradient descent converges well). Returns the weights.
 */
export function fitLogistic(xs: readonly number[][], ys: readonly number[], opts: { iterations?: number; rate?: number; l2?: number } = {}): number[] {
  const iterations = opts.iterations ?? 4000;
  const rate = opts.rate ?? 1;
  const l2 = opts.l2 ?? 1e-3;
  const dims = xs[0]?.length ?? FEATURE_NAMES.length;
  const w = new Array<number>(dims).fill(0);
  if (xs.length === 0) return w;
  // Balance the classes: positives are rare among candidates.
  const pos = ys.filter((y) => y > 0).length;
  const wPos = pos ? xs.length / (2 * pos) : 1;
  const wNeg = xs.length - pos ? xs.length / (2 * (xs.length - pos)) : 1;
  for (let it = 0; it < iterations; it++) {
    const grad = new Array<number>(dims).fill(0);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      let z = 0;
      for (let k = 0; k < dims; k++) z += w[k]! * x[k]!;
      const p = 1 / (1 + Math.exp(-z));
      const weight = ys[i]! > 0 ? wPos : wNeg;
      const err = (p - ys[i]!) * weight;
      for (let k = 0; k < dims; k++) grad[k]! += err * x[k]!;
    }
    for (let k = 0; k < dims; k++) w[k]! -= rate * (grad[k]! / xs.length + l2 * w[k]!);
  }
  return w.map((v) => Math.round(v * 1e4) / 1e4);
}
