// Measurements that need a fresh process, run by the scale benchmark as a child:
//   cold  — open the database and load its HNSW index (syncIndex, as every command does), timed,
//           with the resident memory after it
//   check — open the whole context (openContext: model, store, index) and time `checkArticle` on
//           each draft; resident memory after opening and after the checks
//   agreement — how often check, at each given ef, gives the verdict and the qualifying matches it gives with
//           exact nearest neighbours (brute force over every stored vector): what a lower ef costs a check
// Prints one JSON line on stdout. Run by hand: node --import tsx scripts/bench-scale/probe.ts cold --db FILE
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { Store } from '../../db/store.ts';
import { type CheckReport, checkArticle } from '../../worker/check.ts';
import { loadConfig } from '../../worker/config.ts';
import { indexPath, openContext, syncIndex } from '../../worker/context.ts';
import { loadLanguageDetector } from '../../worker/language.ts';
import { type RawArticle, readInputs } from '../../worker/input.ts';
import { createLogger, type Logger } from '../../worker/log.ts';
import { VectorIndex } from '../../worker/vector-index.ts';
import { readVectors } from './database.ts';
import { exactTopK, percentile } from './recall.ts';

export interface ColdStart {
  openStoreMs: number;
  loadIndexMs: number;
  totalMs: number;
  /** True when the saved index could not be used and was rebuilt (then the figure is no cold start). */
  rebuilt: boolean;
  rssBytes: number;
  /** 1-minute load average when it started. */
  loadAverage: number;
}

export interface CheckLatency {
  /** openContext: model, database and index. */
  openMs: number;
  drafts: number;
  warmup: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Share of drafts whose verdict was `duplicate`: what the checks found. */
  duplicates: number;
  rssAfterOpenBytes: number;
  rssAfterChecksBytes: number;
  efSearch: number;
  /**
   * CPU time per check of the main thread (Linux: /proc/thread-self/schedstat; absent elsewhere):
   * the check's own work, apart from waiting for a core or for the disk, which the wall-clock
   * figures include on a shared machine. onnxruntime's pool threads are not in it.
   */
  mainCpuP50Ms?: number;
  mainCpuP95Ms?: number;
  /** CPU time per check of the whole process, onnxruntime's pool included (its threads spin while they wait for work). */
  cpuP50Ms: number;
  cpuP95Ms: number;
  /** 1-minute load average before and after the checks. */
  loadAverage: [number, number];
  /**
   * Transparent huge pages held after the checks (Linux; absent elsewhere): non-zero when the process ran with
   * GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which puts the HNSW graph on 2 MB pages (README, Performance).
   */
  anonHugePagesBytes?: number;
}

const mb = () => process.memoryUsage().rss;

function anonHugePagesBytes(): number | undefined {
  try {
    const kb = /^AnonHugePages:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** The calling thread's CPU time in ms (Linux), else undefined. */
function threadCpuMs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/** Collects warnings so a rebuild (a failed load) is reported rather than timed as a cold start. */
function recordingLogger(): Logger & { warned: string[] } {
  const warned: string[] = [];
  const quiet = createLogger('error');
  return { ...quiet, warn: (o: unknown, msg?: string) => void warned.push(`${msg ?? ''} ${JSON.stringify(o)}`), warned } as Logger & { warned: string[] };
}

function config(db: string, efSearch?: number, modelDir?: string) {
  // No config file or environment (the database's folder holds none): the benchmark measures the defaults, and --ef / --model-dir when given.
  const path = resolve(db);
  return loadConfig({ flags: { db: path, logLevel: 'error', ...(efSearch && { hnsw: { efSearch } }), ...(modelDir && { modelDir: resolve(modelDir) }) }, env: {}, cwd: dirname(path) });
}

export function coldStart(db: string): ColdStart {
  const loadAverage = loadavg()[0]!;
  const t0 = performance.now();
  const store = new Store(db);
  const t1 = performance.now();
  const model = store.getModel();
  if (!model) throw new Error(`${db} has no model recorded`);
  const index = new VectorIndex(indexPath(db), model.dim, config(db).hnsw);
  const log = recordingLogger();
  syncIndex(store, index, model.modelId, log, { save: false });
  const t2 = performance.now();
  const out = { openStoreMs: t1 - t0, loadIndexMs: t2 - t1, totalMs: t2 - t0, rebuilt: log.warned.length > 0, rssBytes: mb(), loadAverage };
  store.close();
  return out;
}

export async function checkLatency(db: string, drafts: RawArticle[], opts: { warmup: number; efSearch?: number; modelDir?: string }): Promise<CheckLatency> {
  const cfg = config(db, opts.efSearch, opts.modelDir);
  const log = recordingLogger();
  const t0 = performance.now();
  const ctx = await openContext(cfg, log);
  // As the service does at start: a draft without a language must not pay for loading the detector.
  await loadLanguageDetector();
  const openMs = performance.now() - t0;
  if (log.warned.length) throw new Error(`the index was not loaded: ${log.warned.join('; ')}`);
  const rssAfterOpenBytes = mb();
  try {
    for (const d of drafts.slice(0, opts.warmup)) await checkArticle(ctx, d);
    const times: number[] = [];
    const cpu: number[] = [];
    const mainCpu: number[] = [];
    let duplicates = 0;
    const loadBefore = loadavg()[0]!;
    for (const d of drafts) {
      const c = process.cpuUsage();
      const m = threadCpuMs();
      const t = performance.now();
      const report = await checkArticle(ctx, d);
      times.push(performance.now() - t);
      const m2 = threadCpuMs();
      if (m !== undefined && m2 !== undefined) mainCpu.push(m2 - m);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
      if (report.verdict === 'duplicate') duplicates++;
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    mainCpu.sort((a, b) => a - b);
    return {
      openMs,
      drafts: times.length,
      warmup: opts.warmup,
      p50Ms: percentile(times, 0.5),
      p95Ms: percentile(times, 0.95),
      p99Ms: percentile(times, 0.99),
      maxMs: times.at(-1) ?? 0,
      meanMs: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
      duplicates: duplicates / Math.max(1, times.length),
      rssAfterOpenBytes,
      rssAfterChecksBytes: mb(),
      efSearch: cfg.hnsw.efSearch,
      ...(mainCpu.length === times.length && { mainCpuP50Ms: percentile(mainCpu, 0.5), mainCpuP95Ms: percentile(mainCpu, 0.95) }),
      cpuP50Ms: percentile(cpu, 0.5),
      cpuP95Ms: percentile(cpu, 0.95),
      loadAverage: [loadBefore, loadavg()[0]!],
      anonHugePagesBytes: anonHugePagesBytes(),
    };
  } finally {
    ctx.close();
  }
}

export interface Agreement {
  ef: number;
  drafts: number;
  /** Drafts whose verdict is the one exact search gives. */
  sameVerdict: number;
  /** Drafts whose qualifying matches (ids) are those exact search gives. */
  sameQualifying: number;
  /** Drafts whose whole list of matches, in order, is the one exact search gives. */
  sameMatches: number;
  /** With exact search: drafts found duplicates, and qualifying matches over all drafts. */
  exactDuplicates: number;
  exactQualifying: number;
}

export async function checkAgreement(db: string, drafts: RawArticle[], opts: { efs: number[]; modelDir?: string }): Promise<Agreement[]> {
  const ctx = await openContext(config(db, undefined, opts.modelDir), recordingLogger());
  try {
    const stored = readVectors(ctx.store, ctx.embedder.dim);
    const summary = (r: CheckReport) => {
      const qualifying = r.matches.filter((m) => m.qualifies).map((m) => m.id);
      return { verdict: r.verdict, qualifying: qualifying.sort().join('\n'), qualifyingCount: qualifying.length, matches: r.matches.map((m) => m.id).join('\n') };
    };
    const run = async () => {
      const out: ReturnType<typeof summary>[] = [];
      for (const d of drafts) out.push(summary(await checkArticle(ctx, d)));
      return out;
    };
    const approximate = ctx.index.search;
    ctx.index.search = (vector, k, exclude) => {
      const truth = exactTopK(stored, [vector], k + 1);
      const scores = truth.scores[0]!;
      return [...truth.labels[0]!].map((label, i) => ({ label, score: scores[i]! })).filter((n) => n.label !== exclude).slice(0, k);
    };
    const exact = await run();
    ctx.index.search = approximate;
    const exactDuplicates = exact.filter((e) => e.verdict === 'duplicate').length;
    const exactQualifying = exact.reduce((n, e) => n + e.qualifyingCount, 0);
    const result: Agreement[] = [];
    for (const ef of opts.efs) {
      ctx.index.setEfSearch(ef);
      const got = await run();
      const same = (key: 'verdict' | 'qualifying' | 'matches') => got.filter((g, i) => g[key] === exact[i]![key]).length;
      result.push({
        ef,
        drafts: drafts.length,
        sameVerdict: same('verdict'),
        sameQualifying: same('qualifying'),
        sameMatches: same('matches'),
        exactDuplicates,
        exactQualifying,
      });
    }
    return result;
  } finally {
    ctx.close();
  }
}

async function readDrafts(paths: string[]): Promise<RawArticle[]> {
  const out: RawArticle[] = [];
  for await (const item of readInputs(paths)) if (item.ok) out.push(item.article);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = new Command('probe').description('one fresh-process measurement of the scale benchmark; prints JSON');
  program
    .command('cold')
    .requiredOption('--db <file>', 'benchmark database')
    .action((o: { db: string }) => void process.stdout.write(`${JSON.stringify(coldStart(o.db))}\n`));
  program
    .command('check')
    .requiredOption('--db <file>', 'benchmark database')
    .requiredOption('--drafts <paths...>', 'article files to check (not stored in the database)')
    .option('--warmup <n>', 'unmeasured checks first', '10')
    .option('--ef <n>', 'efSearch (default: the configured one)')
    .option('--model-dir <dir>', 'the model the database was built with (default: the bundled one)')
    .action(async (o: { db: string; drafts: string[]; warmup: string; ef?: string; modelDir?: string }) => {
      const drafts = await readDrafts(o.drafts);
      const r = await checkLatency(o.db, drafts, { warmup: Number(o.warmup), efSearch: o.ef ? Number(o.ef) : undefined, modelDir: o.modelDir });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  program
    .command('agreement')
    .requiredOption('--db <file>', 'benchmark database')
    .requiredOption('--drafts <paths...>', 'article files to check (not stored in the database)')
    .requiredOption('--efs <list>', 'comma-separated efSearch values to compare with exact search')
    .option('--model-dir <dir>', 'the model the database was built with (default: the bundled one)')
    .action(async (o: { db: string; drafts: string[]; efs: string; modelDir?: string }) => {
      const drafts = await readDrafts(o.drafts);
      const r = await checkAgreement(o.db, drafts, { efs: o.efs.split(',').map(Number), modelDir: o.modelDir });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  await program.parseAsync();
}
