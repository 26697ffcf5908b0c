// The `calibrate` command: records decisions on a labelled file, fits thresholds, and stores them
// with the model identity (in the database, and/or as the model folder's shipped defaults).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CalibrationResult, fitThresholds, fitVerifier, originalThreshold, passageThreshold, type ReplaySources, replay } from './calibrate.ts';
import { boilerplateTest, evidenceAgainst, storedSide } from './candidates.ts';
import type { OriginalEvidence, Thresholds } from './cluster-decision.ts';
import { acquireWriterLock, type Context, openWriterStore } from './context.ts';
import type { Config } from './config.ts';
import { FALLBACK_THRESHOLDS } from './context.ts';
import { UsageError } from './errors.ts';
import { readGoldLabels, withTemporaryIngest } from './evaluate.ts';
import type { Logger } from './log.ts';
import { type ClusteringMetrics, clusteringMetrics } from './metrics.ts';
import type { DecisionRecord } from './pipeline.ts';
import { checkVerifier, type VerifierWeights } from './verifier.ts';

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

/** One labelled file ingested with every decision recorded, its temporary database still open. */
interface Recorded {
  ctx: Context;
  records: DecisionRecord[];
  gold: Map<string, { cluster: string; lang: string }>;
  sources: ReplaySources;
}

async function withRecorded<T>(config: Config, log: Logger, file: string, use: (r: Recorded) => T | Promise<T>): Promise<T> {
  const goldList = readGoldLabels(file);
  const clusters = new Set(goldList.map((g) => g.cluster));
  if (clusters.size === goldList.length) {
    throw new UsageError(`${file} has no two articles with the same "cluster": calibration needs labelled copies or translations`);
  }
  const records: DecisionRecord[] = [];
  // Out-of-reach thresholds: every article stays alone, so each decision sees the plain neighbours.
  // No verifier: the recording scores nothing, and the one in place may be fitted for older features.
  const recording = { ...config, thresholds: { sameLanguage: 2, crossLanguage: 2, merge: 2, verifier: undefined } };
  return withTemporaryIngest(recording, log, file, { onDecision: (r) => records.push(r) }, (ctx) => {
    const langOf = new Map(records.map((r) => [r.id, r.lang]));
    const gold = new Map(goldList.map((g) => [g.id, { cluster: g.cluster, lang: g.lang ?? langOf.get(g.id) ?? 'und' }]));
    return use({ ctx, records, gold, sources: replaySources(ctx) });
  });
}

/** What a normal run would use (the recording run's own thresholds are out of reach on purpose). */
const inPlace = (config: Config, ctx: Context): Thresholds => ({ ...FALLBACK_THRESHOLDS, ...ctx.embedder.recommendedThresholds, ...config.thresholds });

/** Fits the verifier (unless told to keep the one in place), then the thresholds on its score, then the passage display. */
function fit(r: Recorded, current: Thresholds, opts: { minPrecision: number; verifier?: boolean }, log: Logger): CalibrationResult {
  const verifier = opts.verifier === false ? current.verifier : refitVerifier(r, current, log);
  const start =
    opts.verifier === false
      ? usable(current, log)
      : { ...current, verifier, sameLanguage: 0.5, crossLanguage: 0.5, merge: 0.9, original: originalThreshold(r.records, r.gold, verifier!) };
  const fitted = fitThresholds(r.records, r.gold, { minPrecision: opts.minPrecision, start, sources: r.sources });
  const windowsOf = (id: string) => r.ctx.store.windowsOf(r.ctx.store.articleById(id)!.rowid).map((w) => w.vector);
  const passage = passageThreshold(r.records, r.gold, windowsOf);
  if (passage !== undefined) fitted.thresholds.passage = passage;
  return fitted;
}

/** A new verifier; a language relation without both kinds of pairs keeps the weights in place (said in the log). */
function refitVerifier(r: Recorded, current: Thresholds, log: Logger): VerifierWeights {
  const { kept, ...verifier } = fitVerifier(r.records, r.gold, usable(current, log).verifier);
  if (kept.length > 0) log.warn({ kept }, 'the labelled file has no pairs of one kind for these relations: their verifier weights stay as they were');
  return verifier;
}

function scoreReplay(r: Recorded, t: Thresholds): ClusteringMetrics {
  const predicted = replay(r.records, t, r.sources);
  return clusteringMetrics([...r.gold].map(([id, g]) => ({ id, lang: g.lang, gold: g.cluster, predicted: predicted.get(id) ?? `missing:${id}` })));
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
  // A writer, like ingest: it holds the lock from the start, and whether it can write is known
  // before the fit (a minute on a large file), not after it.
  const lock = opts.save ? await acquireWriterLock(config, 'newsdedup calibrate --save', log) : undefined;
  try {
    // A database that is not there yet is created only if the fit is saved (the lock file already
    // said whether its folder can be written).
    if (opts.save && existsSync(config.db)) openWriterStore(config).close();
    const { model, before, fitted } = await withRecorded(config, log, file, (r) => {
      const current = inPlace(config, r.ctx);
      return { model: r.ctx.embedder.id, before: scoreReplay(r, usable(current, log)), fitted: fit(r, current, opts, log) };
    });
    const savedTo: string[] = [];
    if (opts.save) {
      const store = openWriterStore(config);
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
  } finally {
    lock?.release();
  }
}

export interface HoldoutReport {
  file: string;
  model: string;
  /** Each fit on one half of the stories, scored on the other half. */
  folds: { round: number; fitted: CalibrationResult['thresholds']; train: ClusteringMetrics; test: ClusteringMetrics }[];
  /** Means over the folds of the test figures. */
  mean: { precision: number; minPrecision: number; recall: number; f1: number; bcubedF1: number; crossLanguageRecall: number };
}

/** Seeded, so that an estimate can be repeated. */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/**
 * How well a calibration carries over to stories it has not seen: in each round the gold clusters
 * are split at random into two halves, each half is ingested on its own, and what is fitted on
 * one half (verifier, thresholds) is scored on the other, both ways. Figures fitted and scored on
 * the same file flatter; these do not.
 */
export async function holdoutEstimate(config: Config, log: Logger, file: string, opts: { minPrecision: number; rounds: number }): Promise<HoldoutReport> {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const clusterOf = readGoldLabels(file).map((g) => g.cluster);
  const stories = [...new Set(clusterOf)].sort();
  const dir = mkdtempSync(join(tmpdir(), 'newsdedup-holdout-'));
  const folds: HoldoutReport['folds'] = [];
  let model = '';
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      const next = random(round * 7919);
      const half = new Set(stories.filter(() => next() < 0.5));
      const files = [true, false].map((inHalf, k) => {
        const path = join(dir, `round-${round}-${k}.jsonl`);
        writeFileSync(path, `${lines.filter((_, i) => half.has(clusterOf[i]!) === inHalf).join('\n')}\n`);
        return path;
      });
      await withRecorded(config, log, files[0]!, (a) =>
        withRecorded(config, log, files[1]!, (b) => {
          model = a.ctx.embedder.id;
          for (const [train, test] of [
            [a, b],
            [b, a],
          ] as const) {
            const fitted = fit(train, inPlace(config, train.ctx), { minPrecision: opts.minPrecision }, log);
            const t = { ...fitted.thresholds, ...(fitted.verifier && { verifier: fitted.verifier }) };
            folds.push({ round, fitted: fitted.thresholds, train: fitted.metrics, test: scoreReplay(test, t) });
          }
        }),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const mean = (f: (m: ClusteringMetrics) => number) => folds.reduce((n, x) => n + f(x.test), 0) / Math.max(1, folds.length);
  return {
    file,
    model,
    folds,
    mean: {
      precision: mean((m) => m.pairwise.precision),
      minPrecision: Math.min(...folds.map((x) => x.test.pairwise.precision)),
      recall: mean((m) => m.pairwise.recall),
      f1: mean((m) => m.pairwise.f1),
      bcubedF1: mean((m) => m.bcubed.f1),
      crossLanguageRecall: mean((m) => m.crossLanguage.recall),
    },
  };
}
