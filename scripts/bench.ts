// `npm run bench`: how fast newsdedup is, against a naive baseline measured in the same run.
//  1. End-to-end ingest of N articles (default 10,000) built from dev.jsonl and the seeds
//     (scripts/bench-corpus.ts): articles/s, per-article latency, memory as the ingest goes on,
//     and the clustering quality against the gold clusters (speed must not cost quality).
//  2. The same articles through the naive baseline (scripts/bench-naive.ts), and the speed-up.
//  3-4. The vector index and `check` at 100k and 1M stored articles (scripts/bench-scale.ts).
// Prints a table and writes everything as JSON. Timings on shared machines are noisy: compare
// the ratios measured within one run, not figures from different runs.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig, PACKAGE_ROOT } from '../worker/config.ts';
import { type Context, openContext } from '../worker/context.ts';
import { articleFromJson, type InputItem } from '../worker/input.ts';
import { createLogger } from '../worker/log.ts';
import { clusteringMetrics } from '../worker/metrics.ts';
import { Pipeline } from '../worker/pipeline.ts';
import { type BenchArticle, buildCorpus, variantCounts } from './bench-corpus.ts';
import { naiveIngest } from './bench-naive.ts';
import { formatScaleTable, runScaleBench, type ScaleResult } from './bench-scale.ts';

interface IngestResult {
  articles: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  quality: { pairwiseF1: number; bcubedF1: number; crossLanguageRecall: number };
  memory?: MemorySample[];
}

interface MemorySample {
  articles: number;
  rssMb: number;
  heapMb: number;
  indexVectors: number;
}

const program = new Command('bench')
  .description('Benchmark ingest (against a naive baseline), the vector index and check at scale.')
  .option('--n <n>', 'articles to ingest (built from dev.jsonl and the seeds)', '10000')
  .option('--naive <n>', 'articles for the naive baseline (default: the same n)')
  .option('--data <dir>', 'folder holding dev.jsonl', join(PACKAGE_ROOT, '..', 'shared', 'data'))
  .option('--scale <sizes>', 'stored-article counts for the index and check benchmark, comma-separated', '100000,1000000')
  .option('--no-scale', 'skip the index and check benchmark')
  .option('--dir <dir>', 'working folder (cached scale databases live here)', join(PACKAGE_ROOT, '.bench'))
  .option('--json <file>', 'where to write the results', join(PACKAGE_ROOT, '.bench', 'results.json'))
  .option('--threads <n>', 'embedding threads for our pipeline (default: the configured default)');

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

function latencies(ms: number[]): IngestResult['latencyMs'] {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: round(quantile(s, 0.5)), p95: round(quantile(s, 0.95)), p99: round(quantile(s, 0.99)) };
}

function quality(ctx: Context, corpus: readonly BenchArticle[]): IngestResult['quality'] {
  const predicted = new Map(ctx.store.exportRows().map((r) => [r.id, String(r.cluster)]));
  const m = clusteringMetrics(
    corpus.filter((a) => predicted.has(a.id)).map((a) => ({ id: a.id, lang: ctx.store.articleById(a.id)!.lang, gold: a.cluster, predicted: predicted.get(a.id)! })),
  );
  return { pairwiseF1: round(m.pairwise.f1, 3), bcubedF1: round(m.bcubed.f1, 3), crossLanguageRecall: round(m.crossLanguage.recall, 3) };
}

const asInput = (a: BenchArticle, line: number): InputItem => articleFromJson({ id: a.id, title: a.title, text: a.text, lang: a.lang }, 'bench', line);

async function withContext<T>(label: string, flags: Record<string, unknown>, use: (ctx: Context) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `newsdedup-bench-${label}-`));
  try {
    const config = loadConfig({ cwd: dir, env: {}, flags: { db: join(dir, 'bench.db'), ...flags } });
    const ctx = await openContext(config, createLogger('warn'), { writer: 'bench' });
    try {
      return await use(ctx);
    } finally {
      ctx.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const gc = (globalThis as { gc?: () => void }).gc;

async function benchOurs(corpus: BenchArticle[], flags: Record<string, unknown>, log: (s: string) => void): Promise<IngestResult & { threads: number }> {
  return withContext('ours', flags, async (ctx) => {
    // Model loading (main thread and embedding threads) is left out, as it is for the baseline.
    const threads = (await ctx.workers()).threads;
    const pulled: number[] = [];
    const latency: number[] = [];
    const memory: MemorySample[] = [];
    let nextSample = 1000;
    async function* items(): AsyncGenerator<InputItem> {
      for (const [i, a] of corpus.entries()) {
        pulled.push(performance.now());
        yield asInput(a, i + 1);
      }
    }
    const t0 = performance.now();
    const summary = await new Pipeline(ctx).ingest(items(), (p) => {
      const now = performance.now();
      while (latency.length < p.done) latency.push(now - pulled[latency.length]!);
      if (p.done >= nextSample || p.done === corpus.length) {
        nextSample += 1000;
        gc?.();
        const m = process.memoryUsage();
        memory.push({ articles: p.done, rssMb: round(m.rss / 2 ** 20), heapMb: round(m.heapUsed / 2 ** 20), indexVectors: ctx.index.size });
        log(`  ours: ${p.done} articles, ${Math.round(p.done / ((now - t0) / 1000))}/s, RSS ${memory.at(-1)!.rssMb} MB`);
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    if (summary.rejected > 0) throw new Error(`bench corpus rejected: ${JSON.stringify(summary.errors.slice(0, 3))}`);
    return {
      articles: summary.articles.length,
      seconds: round(seconds, 2),
      perSecond: round(summary.articles.length / seconds),
      latencyMs: latencies(latency),
      quality: quality(ctx, corpus),
      memory,
      threads,
    };
  });
}

async function benchNaive(corpus: BenchArticle[], log: (s: string) => void): Promise<IngestResult> {
  return withContext('naive', { threads: 0 }, async (ctx) => {
    const latency: number[] = [];
    const t0 = performance.now();
    await naiveIngest(
      ctx,
      corpus.map((a, i) => asInput(a, i + 1)),
      (_, ms) => {
        latency.push(ms);
        if (latency.length % 1000 === 0) log(`  naive: ${latency.length} articles, ${Math.round(latency.length / ((performance.now() - t0) / 1000))}/s`);
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    return {
      articles: latency.length,
      seconds: round(seconds, 2),
      perSecond: round(latency.length / seconds),
      latencyMs: latencies(latency),
      quality: quality(ctx, corpus),
    };
  });
}

/** Growth of memory per 1,000 articles over the second half of the run (after warm-up), least squares. */
function slopePer1000(samples: MemorySample[], key: 'rssMb' | 'heapMb'): number {
  const s = samples.slice(Math.floor(samples.length / 2));
  if (s.length < 2) return 0;
  const mx = s.reduce((a, x) => a + x.articles, 0) / s.length;
  const my = s.reduce((a, x) => a + x[key], 0) / s.length;
  const num = s.reduce((a, x) => a + (x.articles - mx) * (x[key] - my), 0);
  const den = s.reduce((a, x) => a + (x.articles - mx) ** 2, 0);
  return round((1000 * num) / den, 2);
}

function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGb: round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ n: string; naive?: string; data: string; scale: string | false; dir: string; json: string; threads?: string }>();
  const n = Number(o.n);
  const naiveN = Number(o.naive ?? o.n);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const corpus = buildCorpus({ devFile: join(resolve(o.data), 'dev.jsonl'), seedsDir: join(PACKAGE_ROOT, 'seeds'), n });
  const report: Record<string, unknown> = { machine: machine(), corpus: { articles: corpus.length, made: variantCounts(corpus) } };
  log(`corpus: ${corpus.length} articles (${Object.entries(variantCounts(corpus)).map(([k, v]) => `${v} ${k}`).join(', ')})`);

  const ours = await benchOurs(corpus, o.threads === undefined ? {} : { threads: Number(o.threads) }, log);
  const naive = await benchNaive(corpus.slice(0, naiveN), log);
  const speedup = round(ours.perSecond / naive.perSecond, 1);
  report.ingest = { ours, naive, speedup, naiveArticles: naiveN };

  let scale: ScaleResult | undefined;
  if (o.scale !== false) {
    scale = await runScaleBench({ sizes: o.scale.split(',').map(Number), dir: resolve(o.dir), log });
    report.scale = scale;
  }

  const m = machine();
  const lines = [
    `newsdedup benchmark: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GiB, Node ${m.node}`,
    '',
    `Ingest of ${corpus.length} articles (dev.jsonl + seeds and their variants), default model, model loading excluded`,
    'pipeline                          articles/s   p50 ms   p95 ms   p99 ms   pairwise F1   B3 F1',
    ...(
      [
        [`newsdedup (${ours.threads} embedding thread${ours.threads === 1 ? '' : 's'})`, ours],
        [`naive baseline (${naiveN} articles)`, naive],
      ] as const
    ).map(
      ([name, r]) =>
        `${name.padEnd(32)} ${String(r.perSecond).padStart(11)} ${String(r.latencyMs.p50).padStart(8)} ${String(r.latencyMs.p95).padStart(8)} ${String(r.latencyMs.p99).padStart(8)} ${String(r.quality.pairwiseF1).padStart(13)} ${String(r.quality.bcubedF1).padStart(7)}`,
    ),
    `speed-up over the naive baseline: ${speedup}x`,
    `memory over the ingest: RSS ${ours.memory![0]?.rssMb} -> ${ours.memory!.at(-1)?.rssMb} MB; growth per 1,000 articles after warm-up: RSS ${slopePer1000(ours.memory!, 'rssMb')} MB, JS heap ${slopePer1000(ours.memory!, 'heapMb')} MB (the index holds each vector, about 1.2 KB an article)`,
  ];
  if (scale) lines.push('', formatScaleTable(scale));
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(dirname(resolve(o.json)), { recursive: true });
  writeFileSync(resolve(o.json), `${JSON.stringify(report, null, 2)}\n`);
  log(`results written to ${resolve(o.json)} (${statSync(resolve(o.json)).size} bytes)`);
}

await main();
