// Calibration: fits the decision thresholds of the current model to a labelled file. The file is
// ingested once with every threshold out of reach, recording what each decision saw; the
// decisions are then replayed under candidate thresholds (cheap: no model, no database), and the
// thresholds that maximise pairwise F1 while keeping pairwise precision at or above the floor win.
import { asOriginal, type Candidate, decideCluster, type OriginalEvidence, scoreCandidate, type Thresholds } from './cluster-decision.ts';
import { type ClusteringMetrics, clusteringMetrics } from './metrics.ts';
import { alignPassages } from './passages.ts';
import type { DecisionRecord } from './pipeline.ts';
import { UsageError } from './errors.ts';
import { FEATURE_NAMES, featureVector, fitLogistic, type VerifierWeights } from './verifier.ts';

export type DecisionThresholds = Pick<Thresholds, 'sameLanguage' | 'crossLanguage' | 'merge' | 'original'> & {
  /** Lowest similarity at which `check` shows a passage pair (display only; no decision uses it). */
  passage?: number;
};

/**
 * What a replay needs beyond the records to check a cluster's original the way ingest does: the
 * clusters it forms are not the recording run's (where every article stayed alone).
 */
export interface ReplaySources {
  /** When an article was published, if known: a cluster's original is its earliest (see Store.refreshCluster). */
  publishedAt?: (articleId: string) => string | null | undefined;
  /** A recorded article's evidence against an earlier one, for an original that was not among its neighbours. */
  against?: (articleId: string, otherId: string) => OriginalEvidence | undefined;
}

interface Original {
  id: string;
  publishedAt: string | null;
}

/** Whether `a` replaces `b` as a cluster's original by date, as the store orders them: dated before undated, earlier dates first. */
const datedBefore = (a: Original, b: Original) => a.publishedAt !== null && (b.publishedAt === null || a.publishedAt < b.publishedAt);

/** Replays recorded decisions in order under `t`; returns each article's cluster label. */
export function replay(records: readonly DecisionRecord[], t: Thresholds, sources: ReplaySources = {}): Map<string, string> {
  const parent: number[] = [];
  const originals: Original[] = [];
  const find = (c: number): number => (parent[c] === c ? c : (parent[c] = find(parent[c]!)));
  const clusterOf = new Map<string, number>();
  records.forEach((rec) => {
    const candidates: Candidate[] = [];
    for (const c of rec.candidates) {
      const cluster = clusterOf.get(c.articleId);
      if (cluster === undefined) continue;
      const root = find(cluster);
      const candidate: Candidate = { ...c, clusterId: root };
      const original = originals[root]!;
      if (c.method === 'embedding' && c.evidence) {
        const seen = rec.candidates.find((x) => x.articleId === original.id && x.method === 'embedding' && x.evidence);
        const evidence = seen ? asOriginal(seen) : sources.against?.(rec.id, original.id);
        if (evidence) candidate.original = evidence;
      }
      candidates.push(candidate);
    }
    const self: Original = { id: rec.id, publishedAt: sources.publishedAt?.(rec.id) ?? null };
    const d = decideCluster(rec, candidates, t);
    if (d.action === 'new') {
      parent.push(parent.length);
      originals.push(self);
      clusterOf.set(rec.id, parent.length - 1);
      return;
    }
    const into = find(d.clusterId);
    if (d.action === 'merge') {
      for (const from of d.mergeFrom) {
        const root = find(from);
        if (datedBefore(originals[root]!, originals[into]!)) originals[into] = originals[root]!;
        parent[root] = into;
      }
    }
    const current = originals[into]!;
    if (datedBefore(self, current) || (d.containsOriginal && self.publishedAt === null && current.publishedAt === null)) originals[into] = self;
    clusterOf.set(rec.id, into);
  });
  return new Map([...clusterOf].map(([id, c]) => [id, String(find(c))]));
}

/**
 * Fits the verifier's weights: every recorded neighbour with evidence is a training pair, positive
 * when both articles share a gold cluster. Same-language and cross-language pairs get their own
 * model. A relation whose pairs are all of one class cannot be fitted (a fit on negatives alone
 * scores everything alike): it keeps the weights of `fallback`, and is named in `kept`; without a
 * fallback, that is an error.
 */
export function fitVerifier(
  records: readonly DecisionRecord[],
  gold: ReadonlyMap<string, { cluster: string }>,
  fallback?: VerifierWeights,
): VerifierWeights & { kept: ('sameLanguage' | 'crossLanguage')[] } {
  const sets = { sameLanguage: { xs: [] as number[][], ys: [] as number[] }, crossLanguage: { xs: [] as number[][], ys: [] as number[] } };
  for (const rec of records) {
    for (const c of rec.candidates) {
      if (!c.evidence || c.method !== 'embedding') continue;
      const set = c.lang === rec.lang ? sets.sameLanguage : sets.crossLanguage;
      set.xs.push(featureVector(c.evidence));
      set.ys.push(gold.get(rec.id)?.cluster === gold.get(c.articleId)?.cluster ? 1 : 0);
    }
  }
  const kept: ('sameLanguage' | 'crossLanguage')[] = [];
  const fitted = (relation: 'sameLanguage' | 'crossLanguage') => {
    const { xs, ys } = sets[relation];
    const positives = ys.filter((y) => y > 0).length;
    if (positives > 0 && positives < ys.length) return fitLogistic(xs, ys);
    const what = relation === 'sameLanguage' ? 'same-language' : 'cross-language';
    if (!fallback) {
      throw new UsageError(`no ${positives > 0 ? 'different-story' : 'same-story'} ${what} neighbours to fit the ${what} verifier on: label more articles`);
    }
    kept.push(relation);
    return [...fallback[relation]];
  };
  return { features: [...FEATURE_NAMES], sameLanguage: fitted('sameLanguage'), crossLanguage: fitted('crossLanguage'), kept };
}

/** Share of different-story neighbours that score below the original check. */
const ORIGINAL_NEGATIVE_QUANTILE = 0.75;

/**
 * The original check's threshold: what 3 in 4 neighbours from another story score below. The
 * check guards against chains of slowly drifting articles, which labelled files seldom hold, so an
 * F1 search would leave it off (or set it by chance); instead an article must resemble the
 * cluster's original more than most articles about other stories resemble their neighbours. On
 * dev, fitted on half the stories and tested on the other half, this quantile kept recall (0.991)
 * where 0.9 lost some (0.974: weak language pairs, a lead-only variant) and raised precision
 * over no check (0.992 vs 0.989).
 */
export function originalThreshold(records: readonly DecisionRecord[], gold: ReadonlyMap<string, { cluster: string }>, verifier: VerifierWeights): number {
  const negatives: number[] = [];
  for (const rec of records) {
    for (const c of rec.candidates) {
      if (!c.evidence || c.method !== 'embedding' || gold.get(rec.id)?.cluster === gold.get(c.articleId)?.cluster) continue;
      negatives.push(scoreCandidate(rec.lang, c, { verifier }).verified);
    }
  }
  if (negatives.length === 0) return 0;
  negatives.sort((a, b) => a - b);
  return Math.round(negatives[Math.floor(ORIGINAL_NEGATIVE_QUANTILE * (negatives.length - 1))]! * 100) / 100;
}

/** Passage pairs an article about another story may show on average, at most, in `check`. */
const STRAY_PASSAGES_PER_NEIGHBOUR = 0.1;

/**
 * The passage-display threshold: the lowest similarity at which the passages `check` pairs up
 * (one to one, alignPassages) between an article and a neighbour from another story number at
 * most STRAY_PASSAGES_PER_NEIGHBOUR on average, so that a translation shows as many of its
 * passage pairs as the model can vouch for. Undefined without different-story neighbours.
 */
export function passageThreshold(
  records: readonly DecisionRecord[],
  gold: ReadonlyMap<string, { cluster: string }>,
  windowsOf: (articleId: string) => readonly Float32Array[],
): number | undefined {
  const stray: number[] = [];
  let neighbours = 0;
  for (const rec of records) {
    for (const c of rec.candidates) {
      if (!c.evidence || c.method !== 'embedding' || gold.get(rec.id)?.cluster === gold.get(c.articleId)?.cluster) continue;
      neighbours++;
      for (const p of alignPassages(windowsOf(rec.id), windowsOf(c.articleId), FINE[0]!).pairs) stray.push(p.score);
    }
  }
  if (neighbours === 0) return undefined;
  return FINE.find((t) => stray.filter((s) => s >= t).length / neighbours <= STRAY_PASSAGES_PER_NEIGHBOUR);
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
 * Threshold search in two passes: every combination of the join and merge thresholds on a coarse
 * grid (they interact through merges, and a search along one threshold at a time stalls in local
 * optima), then a fine coordinate search from the best of them until a round changes nothing.
 * The original check (`start.original`) stays as given: see originalThreshold. Ranking:
 * solutions that meet the precision floor by F1, before all others by precision (then by fewer
 * false pairs). Merging two clusters never takes weaker evidence than joining one.
 */
export function fitThresholds(
  records: readonly DecisionRecord[],
  gold: ReadonlyMap<string, { cluster: string; lang: string }>,
  opts: { minPrecision: number; start: Thresholds; sources?: ReplaySources },
): CalibrationResult {
  let replays = 0;
  const evaluate = (t: Thresholds) => {
    replays++;
    const predicted = replay(records, t, opts.sources);
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
  const names = ['crossLanguage', 'sameLanguage', 'merge'] as const;
  const grids = { crossLanguage: FINE, sameLanguage: FINE, merge: FINE };
  const value = (t: Thresholds, name: (typeof names)[number]) => t[name];
  for (let round = 0; round < 6; round++) {
    let changed = false;
    for (const name of names) {
      for (const v of grids[name]) if (v !== value(best.t, name) && consider({ ...best.t, [name]: v })) changed = true;
    }
    if (!changed) break;
  }
  // Where a threshold can move without changing the result, take the middle of that plateau
  // rather than its edge: the same fit on these labels, with the most room on both sides for
  // articles that were not among them.
  for (const name of names) {
    const grid = grids[name];
    const tie = grid.map((v) => {
      const t = { ...best.t, [name]: v };
      return valid(t) && Math.abs(evaluate(t).key - best.key) < 1e-12;
    });
    const at = grid.indexOf(value(best.t, name));
    if (at < 0 || !tie[at]) continue;
    let lo = at;
    let hi = at;
    while (lo > 0 && tie[lo - 1]) lo--;
    while (hi < grid.length - 1 && tie[hi + 1]) hi++;
    const middle = grid[Math.floor((lo + hi) / 2)]!;
    if (middle !== value(best.t, name)) best = { t: { ...best.t, [name]: middle }, ...evaluate({ ...best.t, [name]: middle }) };
  }
  const { sameLanguage, crossLanguage, merge, original, verifier } = best.t;
  return { thresholds: { sameLanguage, crossLanguage, merge, ...(original !== undefined && { original }) }, ...(verifier && { verifier }), metrics: best.metrics, feasible: best.feasible, replays };
}
