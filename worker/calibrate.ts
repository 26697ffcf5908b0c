// Calibration: fits the decision thresholds of the current model to a labelled file. The file is
// ingested once with every threshold out of reach, recording what each decision saw; the
// decisions are then replayed under candidate thresholds (cheap: no model, no database), and the
// thresholds that maximise pairwise F1 while keeping pairwise precision at or above the floor win.
import { type Candidate, decideCluster, type Thresholds } from './cluster-decision.ts';
import { type ClusteringMetrics, clusteringMetrics } from './metrics.ts';
import type { DecisionRecord } from './pipeline.ts';
import { FEATURE_NAMES, featureVector, fitLogistic, type VerifierWeights } from './verifier.ts';

export type DecisionThresholds = Pick<Thresholds, 'sameLanguage' | 'crossLanguage' | 'merge'>;

/** Replays recorded decisions in order under `t`; returns each article's cluster label. */
export function replay(records: readonly DecisionRecord[], t: Thresholds): Map<string, string> {
  const parent: number[] = [];
  const find = (c: number): number => (parent[c] === c ? c : (parent[c] = find(parent[c]!)));
  const clusterOf = new Map<string, number>();
  for (const rec of records) {
    const candidates: Candidate[] = [];
    for (const c of rec.candidates) {
      const cluster = clusterOf.get(c.articleId);
      if (cluster !== undefined) candidates.push({ ...c, clusterId: find(cluster) });
    }
    const d = decideCluster(rec, candidates, t);
    if (d.action === 'new') {
      parent.push(parent.length);
      clusterOf.set(rec.id, parent.length - 1);
    } else {
      if (d.action === 'merge') for (const from of d.mergeFrom) parent[find(from)] = find(d.clusterId);
      clusterOf.set(rec.id, find(d.clusterId));
    }
  }
  return new Map([...clusterOf].map(([id, c]) => [id, String(find(c))]));
}

/**
 * Fits the verifier's weights: every recorded neighbour with evidence is a training pair, positive
 * when both articles share a gold cluster. Same-language and cross-language pairs get their own model.
 */
export function fitVerifier(records: readonly DecisionRecord[], gold: ReadonlyMap<string, { cluster: string }>): VerifierWeights {
  const sets = { same: { xs: [] as number[][], ys: [] as number[] }, cross: { xs: [] as number[][], ys: [] as number[] } };
  for (const rec of records) {
    for (const c of rec.candidates) {
      if (!c.evidence || c.method !== 'embedding') continue;
      const set = c.lang === rec.lang ? sets.same : sets.cross;
      set.xs.push(featureVector({ evidence: c.evidence, rank: c.rank ?? 0 }));
      set.ys.push(gold.get(rec.id)?.cluster === gold.get(c.articleId)?.cluster ? 1 : 0);
    }
  }
  return { features: [...FEATURE_NAMES], sameLanguage: fitLogistic(sets.same.xs, sets.same.ys), crossLanguage: fitLogistic(sets.cross.xs, sets.cross.ys) };
}

export interface CalibrationResult {
  thresholds: DecisionThresholds;
  verifier?: VerifierWeights;
  metrics: ClusteringMetrics;
  /** Whether the precision floor could be met at all. */
  feasible: boolean;
  replays: number;
}

const FINE = Array.from({ length: 96 }, (_, i) => Math.round((0.05 + i * 0.01) * 100) / 100); // 0.05 … 1.00
const COARSE = Array.from({ length: 15 }, (_, i) => Math.round((0.3 + i * 0.05) * 100) / 100); // 0.30 … 1.00

/**
 * Threshold search in two passes: every combination on a coarse grid (the three thresholds
 * interact through merges, and a search along one threshold at a time stalls in local optima),
 * then a fine coordinate search from the best of them until a round changes nothing. Ranking:
 * solutions that meet the precision floor by F1, before all others by precision (then by fewer
 * false pairs). Merging two clusters never takes weaker evidence than joining one.
 */
export function fitThresholds(
  records: readonly DecisionRecord[],
  gold: ReadonlyMap<string, { cluster: string; lang: string }>,
  opts: { minPrecision: number; start: Thresholds },
): CalibrationResult {
  let replays = 0;
  const evaluate = (t: Thresholds) => {
    replays++;
    const predicted = replay(records, t);
    const items = [...gold].map(([id, g]) => ({ id, lang: g.lang, gold: g.cluster, predicted: predicted.get(id) ?? `missing:${id}` }));
    const metrics = clusteringMetrics(items);
    const feasible = metrics.pairwise.precision >= opts.minPrecision;
    // Below the floor, fewer false pairs is progress even when precision does not move yet.
    const falsePairs = metrics.pairwise.predictedPairs - metrics.pairwise.correctPairs;
    return { metrics, feasible, key: feasible ? 2 + metrics.pairwise.f1 : metrics.pairwise.precision - 1e-9 * falsePairs };
  };
  const valid = (t: Thresholds) => t.merge >= Math.max(t.sameLanguage, t.crossLanguage);
  let best = { t: { ...opts.start }, ...evaluate(opts.start) };
  const consider = (t: Thresholds) => {
    if (!valid(t)) return false;
    const r = evaluate(t);
    if (r.key <= best.key + 1e-12) return false;
    best = { t, ...r };
    return true;
  };
  for (const crossLanguage of COARSE) {
    for (const sameLanguage of COARSE) {
      for (const merge of COARSE) consider({ ...opts.start, sameLanguage, crossLanguage, merge });
    }
  }
  for (let round = 0; round < 6; round++) {
    let changed = false;
    for (const name of ['crossLanguage', 'sameLanguage', 'merge'] as const) {
      for (const value of FINE) if (value !== best.t[name] && consider({ ...best.t, [name]: value })) changed = true;
    }
    if (!changed) break;
  }
  // Where a threshold can move without changing the result, take the middle of that plateau
  // rather than its edge: the same fit on these labels, with the most room on both sides for
  // articles that were not among them.
  for (const name of ['crossLanguage', 'sameLanguage', 'merge'] as const) {
    const ties = FINE.filter((value) => {
      const t = { ...best.t, [name]: value };
      return valid(t) && Math.abs(evaluate(t).key - best.key) < 1e-12;
    });
    const at = ties.indexOf(best.t[name]);
    if (at < 0) continue;
    // The contiguous run of ties around the current value.
    let lo = at;
    let hi = at;
    while (lo > 0 && FINE.indexOf(ties[lo - 1]!) === FINE.indexOf(ties[lo]!) - 1) lo--;
    while (hi < ties.length - 1 && FINE.indexOf(ties[hi + 1]!) === FINE.indexOf(ties[hi]!) + 1) hi++;
    const middle = ties[Math.floor((lo + hi) / 2)]!;
    if (middle !== best.t[name]) best = { t: { ...best.t, [name]: middle }, ...evaluate({ ...best.t, [name]: middle }) };
  }
  const { sameLanguage, crossLanguage, merge, verifier } = best.t;
  return { thresholds: { sameLanguage, crossLanguage, merge }, ...(verifier && { verifier }), metrics: best.metrics, feasible: best.feasible, replays };
}
