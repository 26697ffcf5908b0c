// `eval`: ingests a labelled file into a throw-away database (or a new one kept for inspection),
// with the labels kept away from the pipeline (the input reader drops unknown fields), then scores
// the clusters against them.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { type Context, openContext } from './context.ts';
import { InputError, UsageError } from './errors.ts';
import { fileFormat, readBytes, readInputs } from './input.ts';
import { lexicalClusters } from './lexical-baseline.ts';
import type { Logger } from './log.ts';
import { type ClusteringMetrics, clusteringMetrics, type LabelledItem } from './metrics.ts';
import { type IngestSummary, Pipeline, type PipelineOptions, type Progress } from './pipeline.ts';

export interface GoldLabel {
  id: string;
  cluster: string;
  lang?: string;
}

/** Reads the gold labels of a JSON-lines file (gzip-compressed or not): every line needs `id` and `cluster`. */
export function readGoldLabels(file: string): GoldLabel[] {
  const { ext, gzip } = fileFormat(file);
  // Labels are read line by line beside the ingest, which reads by extension: a .json file of
  // JSON lines was scored as if nothing in it had been stored.
  if (ext !== '.jsonl' && ext !== '.ndjson') throw new UsageError(`${file}: a labelled file is JSON lines (.jsonl or .ndjson, optionally .gz), one article with "id" and "cluster" a line`);
  const labels: GoldLabel[] = [];
  readBytes(file, gzip)
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch (err) {
        throw new InputError(`malformed JSON: ${(err as Error).message}`, file, i + 1);
      }
      if (o.id === undefined || o.cluster === undefined) throw new InputError('a labelled line needs "id" and "cluster"', file, i + 1);
      labels.push({ id: String(o.id), cluster: String(o.cluster), lang: typeof o.lang === 'string' ? o.lang : undefined });
    });
  // Scores over nothing would read as perfect.
  if (labels.length === 0) throw new UsageError(`${file} holds no labelled article`);
  return labels;
}

/**
 * Ingests `file` into a temporary database, hands the open context to `use`, then deletes it all;
 * with `keepAt`, into a new database there, which is left in place (to look at what was decided).
 */
export async function withTemporaryIngest<T>(
  config: Config,
  log: Logger,
  file: string,
  opts: PipelineOptions & { onProgress?: (p: Progress) => void; keepAt?: string },
  use: (ctx: Context, summary: IngestSummary) => T | Promise<T>,
): Promise<T> {
  // Scores over a database that already held articles would not be the file's.
  if (opts.keepAt && existsSync(opts.keepAt)) throw new UsageError(`${opts.keepAt} already exists: give a new file to keep the evaluation's database in`);
  const dir = opts.keepAt ? undefined : mkdtempSync(join(tmpdir(), 'newsdedup-eval-'));
  try {
    const ctx = await openContext({ ...config, db: opts.keepAt ?? join(dir!, 'eval.db') }, log);
    try {
      const summary = await new Pipeline(ctx, opts).ingest(readInputs([file]), opts.onProgress);
      return await use(ctx, summary);
    } finally {
      ctx.close();
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

export interface EvalReport {
  file: string;
  model: string;
  metrics: ClusteringMetrics;
  /** Word-shingle Jaccard clustering of the same articles, what MinHash dedup tools estimate. */
  lexicalBaseline: ClusteringMetrics;
  ingest: Pick<IngestSummary, 'ingested' | 'skipped' | 'rejected' | 'errors'>;
  seconds: number;
}

export async function evaluateFile(config: Config, log: Logger, file: string, opts: { onProgress?: (p: Progress) => void; keepAt?: string } = {}): Promise<EvalReport> {
  const gold = readGoldLabels(file);
  const t0 = performance.now();
  return withTemporaryIngest(config, log, file, opts, (ctx, summary) => {
    const stored = gold.map((g) => ctx.store.articleById(g.id));
    const lexical = lexicalClusters(stored.filter((a) => a !== undefined));
    const items = (predicted: (i: number) => string | undefined): LabelledItem[] =>
      gold.map((g, i) => ({
        id: g.id,
        lang: g.lang ?? stored[i]?.lang ?? 'und',
        gold: g.cluster,
        // A rejected article is scored as a singleton of its own: it was found as a duplicate of nothing.
        predicted: predicted(i) ?? `missing:${g.id}`,
      }));
    return {
      file,
      model: ctx.embedder.id,
      metrics: clusteringMetrics(items((i) => stored[i] && String(stored[i]!.clusterId))),
      lexicalBaseline: clusteringMetrics(items((i) => stored[i] && lexical.get(stored[i]!.id))),
      ingest: { ingested: summary.ingested, skipped: summary.skipped, rejected: summary.rejected, errors: summary.errors },
      seconds: (performance.now() - t0) / 1000,
    };
  });
}
