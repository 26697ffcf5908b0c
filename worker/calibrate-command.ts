// The `calibrate` command: records decisions on a labelled file, fits thresholds, and stores them
// with the model identity (in the database, and/or as the model folder's shipped defaults).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../db/store.ts';
import { type CalibrationResult, fitThresholds, fitVerifier, originalThreshold, passageThreshold, type ReplaySources, replay } from './calibrate.ts';
import { boilerplateTest, evidenceAgainst, storedSide } from './candidates.ts';
import type { OriginalEvidence, Thresholds } from './cluster-decision.ts';
import type { Context } from './context.ts';
import type { Config } from './config.ts';
import { FALLBACK_THRESHOLDS } from './context.ts';
import { UsageError } from './errors.ts';
import { readGoldLabels, withTemporaryIngest } from './evaluate.ts';
import type { Logger } from './log.ts';
import { type ClusteringMetrics, clusteringMetrics } from './metrics.ts';
import type { DecisionRecord } from './pipeline.ts';
import { checkVerifier } from './verifier.ts';

/** The thresholds in place, less a verifier fitted for other features than this version's (said in the log). */
function usable(t: Thresholds, log: Logger): Thresholds {
  if (!t.verifier) return t;
  try {
    checkVerifier(t.verifier);
    return t;
  } catch (err) {
    log.warn({ reason: (err as Error).message }, 'the verifier in place does not fit this version; "before" is measured without it');
    const { verifier: _stale, ...rest } = t;
    return rest;
  }
}

/**
 * Replays check cluster originals against the recording database, as ingest checks them against
 * its own: publication dates, and evidence against an original that was not among an article's
 * neighbours (compared on demand, once per pair). Known boilerplate is as of the whole file.
 */
export function replaySources(ctx: Context): ReplaySources {
  const isBoilerplate = boilerplateTest(ctx.store);
  const cache = new Map<string, OriginalEvidence | undefined>();
  return {
    publishedAt: (id) => ctx.store.articleById(id)?.publishedAt,
    against: (id, otherId) => {
      const key = `${id}\u0000${otherId}`;
      if (!cache.has(key)) {
        const a = ctx.store.articleById(id);
        const b = ctx.store.articleById(otherId);
        const evidence = a && b ? evidenceAgainst(ctx, storedSide(ctx.store, a.rowid), ctx.store.vectorOf(a.rowid)!, b.rowid, isBoilerplate) : undefined;
        cache.set(key, evidence);
      }
      return cache.get(key);
    },
  };
}

export interface CalibrateReport {
  file: string;
  model: string;
  before: ClusteringMetrics;
  fitted: CalibrationResult;
  savedTo: string[];
}

export async function calibrateFile(
  config: Config,
  log: Logger,
  file: string,
  opts: { minPrecision: number; save?: boolean; writeModel?: boolean; verifier?: boolean },
): Promise<CalibrateReport> {
  if (opts.writeModel && !config.modelDir) throw new UsageError('--write-model needs a local model folder (--model-dir)');
  const goldList = readGoldLabels(file);
  const records: DecisionRecord[] = [];
  // Out-of-reach thresholds: every article stays alone, so each decision sees the plain neighbours.
  // No verifier: the recording scores nothing, and the one in place may be fitted for older features.
  const recording = { ...config, thresholds: { sameLanguage: 2, crossLanguage: 2, merge: 2, verifier: undefined } };
  const { model, before, fitted } = await withTemporaryIngest(recording, log, file, { onDecision: (r) => records.push(r) }, (ctx) => {
    // What a normal run would use (the recording run's own thresholds are out of reach on purpose).
    const current: Thresholds = { ...FALLBACK_THRESHOLDS, ...ctx.embedder.recommendedThresholds, ...config.thresholds };
    const gold = new Map(goldList.map((g) => [g.id, { cluster: g.cluster, lang: g.lang ?? records.find((r) => r.id === g.id)?.lang ?? 'und' }]));
    const sources = replaySources(ctx);
    const predictedBefore = replay(records, usable(current, log), sources);
    const before = clusteringMetrics([...gold].map(([id, g]) => ({ id, lang: g.lang, gold: g.cluster, predicted: predictedBefore.get(id) ?? `missing:${id}` })));
    // The verifier's weights first (they define the score), then the thresholds on that score.
    const verifier = opts.verifier === false ? current.verifier : fitVerifier(records, gold);
    const start = opts.verifier === false ? usable(current, log) : { ...current, verifier, sameLanguage: 0.5, crossLanguage: 0.5, merge: 0.9, original: originalThreshold(records, gold, verifier!) };
    const fitted = fitThresholds(records, gold, { minPrecision: opts.minPrecision, start, sources });
    const windowsOf = (id: string) => ctx.store.windowsOf(ctx.store.articleById(id)!.rowid).map((w) => w.vector);
    const passage = passageThreshold(records, gold, windowsOf);
    if (passage !== undefined) fitted.thresholds.passage = passage;
    return { model: ctx.embedder.id, before, fitted };
  });

  const savedTo: string[] = [];
  if (opts.save) {
    const store = new Store(config.db);
    try {
      store.setCalibration(model, { ...fitted.thresholds, ...(fitted.verifier && { verifier: fitted.verifier }) });
    } finally {
      store.close();
    }
    savedTo.push(config.db);
  }
  if (opts.writeModel) {
    const path = join(config.modelDir!, 'newsdedup.json');
    const own = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
    const previous = (own.thresholds ?? {}) as Record<string, number>;
    const thresholds = { ...previous, ...fitted.thresholds, ...(fitted.verifier && { verifier: fitted.verifier }) };
    writeFileSync(path, `${JSON.stringify({ ...own, thresholds }, null, 2)}\n`);
    savedTo.push(path);
  }
  return { file, model, before, fitted, savedTo };
}
