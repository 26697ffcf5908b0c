// The verifier: turns a candidate's evidence into one score in [0, 1] with a logistic model per
// language relation (same language / across languages). Its weights are fitted by `calibrate` on
// labelled data and shipped with the model (newsdedup.json); without weights, the score is the
// plain document cosine.
import { UsageError } from './errors.ts';
import type { PairEvidence } from './evidence.ts';

// Numeric anchors are reported as evidence but not used here: on dev they looked decisive (human
// translations keep every number), yet rewrites and spun copies change numbers, and a verifier
// leaning on them rejected the seed translation outright. Without them dev F1 was higher, too.
// (The decision does use them for one narrow case: see differentNumbers in cluster-decision.ts.)
// The cosine is the content cosine of the evidence (boilerplate left out), not the document's.
// The mutual shares became similarity-weighted (evidence.ts): weights fitted for the unweighted
// ones ('mutual', 'mutualMax') are refused by name. Whether a neighbour was the nearest of its
// language relation is not a feature any more: in a weak language of the model, other articles of
// the same language, or unrelated ones, often rank above the translation, and that feature then
// held back the translation's evidence (FLORES documents: Icelandic 0.888 of its partners found
// with it, 0.972 without; dev and the benchmark corpus gained too).
export const FEATURE_NAMES = ['cosine', 'coverage', 'coverageMax', 'mutualWeighted', 'mutualWeightedMax', 'lengthRatio', 'sharedMax', 'bias'] as const;

export interface VerifierWeights {
  /** The features the weights were fitted for, in order (FEATURE_NAMES when they are current). */
  features: string[];
  sameLanguage: number[];
  crossLanguage: number[];
}

export function featureVector(ev: PairEvidence): number[] {
  return [ev.cosine, ev.coverage, ev.coverageMax, ev.mutual, ev.mutualMax, ev.lengthRatio, Math.max(ev.shared.a, ev.shared.b), 1];
}

/** Weights fitted for other features (an older calibration) would score nonsense: refuse them by name. */
export function checkVerifier(weights: VerifierWeights): void {
  const features = weights.features ?? [];
  const ok = features.length === FEATURE_NAMES.length && features.every((f, i) => f === FEATURE_NAMES[i]);
  if (!ok || weights.sameLanguage.length !== FEATURE_NAMES.length || weights.crossLanguage.length !== FEATURE_NAMES.length) {
    throw new UsageError(
      `the verifier weights were fitted for features [${features.join(', ') || 'unnamed'}], this version uses [${FEATURE_NAMES.join(', ')}]: ` +
        'recalibrate (newsdedup calibrate <labelled.jsonl> --save) or drop the stored calibration',
    );
  }
}

export function verifiedScore(evidence: PairEvidence, sameLanguage: boolean, weights: VerifierWeights): number {
  checkVerifier(weights);
  const w = sameLanguage ? weights.sameLanguage : weights.crossLanguage;
  const x = featureVector(evidence);
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
