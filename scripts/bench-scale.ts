// Scale benchmark (issue 6, parts 3 and 4): HNSW at 100k and 1M stored vectors — recall@10
// against exact search and query latency across ef, build time, index file size, resident
// memory, cold start — and `check` latency against a database of that many stored articles.
//
// The stored articles are synthetic, composed from the windows of the real dev and seed articles
// with vectors computed from the real window embeddings (scripts/bench-scale/corpus.ts says how,
// and every build checks a sample against the real embedder). Databases and indexes are cached
// under --dir, keyed by model, size, corpus version and HNSW build parameters.
//
//   npx tsx scripts/bench-scale.ts --sizes 100000,1000000 --dir .bench --json scale.json
//   npx tsx scripts/bench-scale.ts --sizes 100000 --grid 16x200,16x100,12x100   (build-parameter curve)
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { Store } from '../db/store.ts';
import { Embedder } from '../models/embedder.ts';
import { DEFAULTS, DEFAULT_MODEL_DIR, PACKAGE_ROOT } from '../worker/config.ts';
import { type HnswParams, VectorIndex } from '../worker/vector-index.ts';
import { buildPool, syntheticArticles, type Pool } from './bench-scale/corpus.ts';
import { CORPUS_SEED, type DatabaseInfo, ensureDatabase, ensureIndex, indexCachePath, type IndexInfo, readVectors, timedRebuild } from './bench-scale/database.ts';
import type { CheckLatency, ColdStart } from './bench-scale/probe.ts';
import { type CurvePoint, exactTopK, recallCurve } from './bench-scale/recall.ts';
import { prng } from './model/train.ts';

export const DEFAULT_EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const K = 10;
const PROBE = fileURLToPath(new URL('./bench-scale/probe.ts', import.meta.url));

export interface ScaleOptions {
  sizes: number[];
  /** Cache folder for the built databases and indexes. */
  dir: string;
  /** Recall queries (default 400): real dev/seed document vectors, then held-out synthetic ones. */
  queries?: number;
  log?: (line: string) => void;
  /** ef values for the recall/latency curve. */
  efs?: number[];
  /** Extra (M, efConstruction) pairs built in memory for the build-time/recall curve. */
  grid?: Omit<HnswParams, 'efSearch'>[];
  /** HNSW parameters of the stored index (default: the configured defaults). */
  hnsw?: HnswParams;
  dev?: string;
  seeds?: string;
  /** Write a V8 CPU profile of the check process into this folder. */
  cpuProfDir?: string;
}

export interface GridPoint {
  params: Omit<HnswParams, 'efSearch'>;
  buildSeconds: number;
  insertsPerSecond: number;
  curve: CurvePoint[];
}

export interface SizeResult {
  size: number;
  database: DatabaseInfo;
  index: IndexInfo & { efSearch: number };
  /** Reading every stored vector out of SQLite (what a rebuild of a lost index starts with). */
  readVectorsSeconds: number;
  curve: CurvePoint[];
  /** Smallest ef of the curve with recall@10 ≥ 0.99, if any. */
  efFor099?: number;
  grid: GridPoint[];
  coldStart: ColdStart;
  check: CheckLatency;
}

export interface ScaleResult {
  startedAt: string;
  seconds: number;
  machine: { cpus: number; memoryBytes: number; node: string; loadAverageAtStart: number[] };
  model: string;
  corpus: string;
  queries: string;
  drafts: string;
  hnsw: HnswParams;
  sizes: SizeResult[];
}

/** The recall queries: held out, never stored. */
function recallQueries(pool: Pool, n: number): { vectors: Float32Array[]; real: number; synthetic: number } {
  const rand = prng(CORPUS_SEED + 7);
  const real = pool.sources.map((s) => s.vector);
  for (let i = real.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [real[i], real[j]] = [real[j]!, real[i]!];
  }
  const vectors = real.slice(0, n);
  const extra = n - vectors.length;
  if (extra > 0) for (const a of syntheticArticles(pool, { count: extra, seed: CORPUS_SEED + 1, idPrefix: 'held-' })) vectors.push(a.vector);
  return { vectors, real: Math.min(n, real.length), synthetic: Math.max(0, extra) };
}

/** Runs a probe (scripts/bench-scale/probe.ts) in a fresh Node process and returns its JSON. */
function probe<T>(args: string[], nodeFlags: string[] = []): T {
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', PROBE, ...args], { cwd: PACKAGE_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`probe ${args[0]} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  const last = r.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(last) as T;
}

const smallestEf = (curve: CurvePoint[], target: number) => curve.find((p) => p.recall >= target)?.ef;

async function measureSize(size: number, ctx: { pool: Pool; embedder: Embedder; opts: Required<Pick<ScaleOptions, 'dir' | 'queries' | 'efs' | 'grid' | 'hnsw'>> & ScaleOptions; log: (l: string) => void }) {
  const { pool, embedder, opts, log } = ctx;
  log(`— ${size.toLocaleString('en')} stored articles`);
  const database = await ensureDatabase({ dir: opts.dir, size, pool, embedder, log });
  log(`  database ${database.reused ? 'reused' : 'built'}: ${database.path} (${(database.bytes / 1e9).toFixed(2)} GB, ${database.windows} windows)`);

  const store = new Store(database.path);
  let curve: CurvePoint[];
  let index: IndexInfo;
  let readVectorsSeconds: number;
  const grid: GridPoint[] = [];
  try {
    const t0 = performance.now();
    const vectors = readVectors(store, embedder.dim);
    readVectorsSeconds = (performance.now() - t0) / 1000;
    const built = ensureIndex({ store, modelId: embedder.id, dim: embedder.dim, params: opts.hnsw, vectors, cachePath: indexCachePath(opts.dir, pool, size, opts.hnsw), log });
    index = built.info;
    log(`  index ${index.reused ? 'reused' : 'built'}: M ${index.params.m} efC ${index.params.efConstruction}, ${index.buildSeconds.toFixed(0)} s (${index.insertsPerSecond.toFixed(0)} inserts/s), ${(index.fileBytes / 1e6).toFixed(0)} MB`);

    const queries = recallQueries(pool, opts.queries);
    const t1 = performance.now();
    const truth = exactTopK(vectors, queries.vectors, K);
    log(`  exact top-${K} of ${queries.vectors.length} queries in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    curve = recallCurve(built.index, queries.vectors, truth, opts.efs);
    log(`  recall@10 by ef: ${curve.map((p) => `${p.ef} ${p.recall.toFixed(4)} (${p.p50Ms.toFixed(2)} ms)`).join(', ')}`);
    for (const g of opts.grid) {
      const extra = new VectorIndex(join(opts.dir, 'grid-unsaved.hnsw'), embedder.dim, { ...g, efSearch: opts.hnsw.efSearch });
      const buildSeconds = timedRebuild(extra, vectors, log);
      grid.push({ params: g, buildSeconds, insertsPerSecond: size / buildSeconds, curve: recallCurve(extra, queries.vectors, truth, opts.efs) });
      log(`  grid M ${g.m} efC ${g.efConstruction}: ${buildSeconds.toFixed(0)} s, recall@10 at ef ${opts.hnsw.efSearch}: ${grid.at(-1)!.curve.find((p) => p.ef === opts.hnsw.efSearch)?.recall.toFixed(4) ?? '-'}`);
    }
  } finally {
    store.close();
  }

  const coldStart = probe<ColdStart>(['cold', '--db', database.path]);
  log(`  cold start: ${(coldStart.totalMs / 1000).toFixed(2)} s, RSS ${(coldStart.rssBytes / 1e9).toFixed(2)} GB (load average ${coldStart.loadAverage.toFixed(2)})`);
  const profFlags = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(opts.cpuProfDir), '--cpu-prof-name', `check-${size}.cpuprofile`] : [];
  const check = probe<CheckLatency>(['check', '--db', database.path, '--ef', String(opts.hnsw.efSearch), '--drafts', opts.dev!, opts.seeds!], profFlags);
  log(
    `  check (ef ${check.efSearch}): p50 ${check.p50Ms.toFixed(1)} ms, p95 ${check.p95Ms.toFixed(1)} ms over ${check.drafts} drafts (main-thread CPU p50 ${check.mainCpuP50Ms?.toFixed(1) ?? '-'}, ` +
      `p95 ${check.mainCpuP95Ms?.toFixed(1) ?? '-'} ms; process CPU p50 ${check.cpuP50Ms.toFixed(1)}, p95 ${check.cpuP95Ms.toFixed(1)} ms), RSS ${(check.rssAfterChecksBytes / 1e9).toFixed(2)} GB (load average ${check.loadAverage.map((x) => x.toFixed(2)).join(' → ')})`,
  );
  return {
    size,
    database,
    index: { ...index, efSearch: opts.hnsw.efSearch },
    readVectorsSeconds,
    curve,
    efFor099: smallestEf(curve, 0.99),
    grid,
    coldStart,
    check,
  } satisfies SizeResult;
}

export async function runScaleBench(options: ScaleOptions): Promise<ScaleResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const opts = {
    ...options,
    dir: resolve(options.dir),
    queries: options.queries ?? 400,
    efs: options.efs ?? DEFAULT_EFS,
    grid: options.grid ?? [],
    hnsw: options.hnsw ?? DEFAULTS.hnsw,
    dev: resolve(options.dev ?? join(PACKAGE_ROOT, '..', 'shared', 'data', 'dev.jsonl')),
    seeds: resolve(options.seeds ?? join(PACKAGE_ROOT, 'seeds')),
  };
  const loadAverageAtStart = loadavg();
  const embedder = await Embedder.load({ modelDir: DEFAULT_MODEL_DIR });
  const pool = await buildPool(embedder, DEFAULT_MODEL_DIR, [opts.dev, opts.seeds]);
  log(`pool: ${pool.windows} reusable windows of ${pool.sources.length} real articles (${[...pool.languages.keys()].join(', ')})`);
  const sizes: SizeResult[] = [];
  for (const size of opts.sizes) sizes.push(await measureSize(size, { pool, embedder, opts, log }));
  return {
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    seconds: (performance.now() - started) / 1000,
    machine: { cpus: availableParallelism(), memoryBytes: totalmem(), node: process.version, loadAverageAtStart },
    model: embedder.id,
    corpus:
      `synthetic: each article = a random real title window + random body windows of one language (${pool.windows} windows of ` +
      `${pool.sources.length} dev/seed articles; window count and language of a random real article); vectors composed from the ` +
      'real window embeddings exactly as the embedder does (sample re-embedded and compared at build); one cluster per article',
    queries: `${opts.queries} held-out vectors: real dev/seed document vectors (not stored), then held-out synthetic ones; exact top-${K} by brute force`,
    drafts: `${pool.sources.length} real dev/seed articles, none of them stored (stored synthetic articles reuse their paragraphs)`,
    hnsw: opts.hnsw,
    sizes,
  };
}

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

export function formatScaleTable(r: ScaleResult): string {
  const lines: string[] = [];
  const cols = r.sizes.map((s) => s.size.toLocaleString('en'));
  const row = (label: string, f: (s: SizeResult) => string) => lines.push(`| ${label} | ${r.sizes.map(f).join(' | ')} |`);
  lines.push(`| stored articles | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  row(`HNSW recall@10 (ef ${r.hnsw.efSearch})`, (s) => s.curve.find((p) => p.ef === r.hnsw.efSearch)?.recall.toFixed(4) ?? '-');
  row(`query p50 / p99 (ef ${r.hnsw.efSearch})`, (s) => {
    const p = s.curve.find((c) => c.ef === r.hnsw.efSearch);
    return p ? `${ms(p.p50Ms)} / ${ms(p.p99Ms)}` : '-';
  });
  row('smallest ef with recall@10 ≥ 0.99', (s) => String(s.efFor099 ?? 'none measured'));
  row(`index build (M ${r.hnsw.m}, efC ${r.hnsw.efConstruction})`, (s) => `${s.index.buildSeconds.toFixed(0)} s (${s.index.insertsPerSecond.toFixed(0)}/s)${s.index.reused ? ', cached' : ''}`);
  row('index file', (s) => gb(s.index.fileBytes));
  row('database file', (s) => `${gb(s.database.bytes)} (${(s.database.windows / s.size).toFixed(1)} windows/article)`);
  row('database build', (s) => `${s.database.buildSeconds.toFixed(0)} s${s.database.reused ? ', cached' : ''}`);
  row('cold start: open DB + load index', (s) => `${(s.coldStart.totalMs / 1000).toFixed(2)} s${s.coldStart.rebuilt ? ' (REBUILT, not a load)' : ''}`);
  row('RSS after cold start', (s) => gb(s.coldStart.rssBytes));
  row('check: open (model + DB + index)', (s) => `${(s.check.openMs / 1000).toFixed(2)} s`);
  row(`check latency p50 / p95 (ef ${r.hnsw.efSearch})`, (s) => `${ms(s.check.p50Ms)} / ${ms(s.check.p95Ms)}`);
  row('check main-thread CPU p50 / p95', (s) => (s.check.mainCpuP50Ms === undefined ? '-' : `${ms(s.check.mainCpuP50Ms)} / ${ms(s.check.mainCpuP95Ms!)}`));
  row('check process CPU p50 / p95 (onnxruntime pool included)', (s) => `${ms(s.check.cpuP50Ms)} / ${ms(s.check.cpuP95Ms)}`);
  row('load average (cold start; checks)', (s) => `${s.coldStart.loadAverage.toFixed(2)}; ${s.check.loadAverage.map((x) => x.toFixed(2)).join(' → ')}`);
  row('RSS after checks', (s) => gb(s.check.rssAfterChecksBytes));
  row('check: huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1)', (s) =>
    s.check.anonHugePagesBytes === undefined ? '-' : s.check.anonHugePagesBytes > 0 ? `yes, ${gb(s.check.anonHugePagesBytes)}` : 'no',
  );
  lines.push('', 'recall@10 and query latency (p50 / p99) by ef:', '', `| ef | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  for (const ef of r.sizes[0]?.curve.map((p) => p.ef) ?? []) {
    lines.push(
      `| ${ef} | ${r.sizes
        .map((s) => {
          const p = s.curve.find((c) => c.ef === ef);
          return p ? `${p.recall.toFixed(4)} (${ms(p.p50Ms)} / ${ms(p.p99Ms)})` : '-';
        })
        .join(' | ')} |`,
    );
  }
  for (const s of r.sizes.filter((x) => x.grid.length)) {
    lines.push('', `build parameters at ${s.size.toLocaleString('en')} (recall@10 at ef):`, '');
    const efs = s.curve.map((p) => p.ef);
    lines.push(`| M | efC | build | inserts/s | ${efs.map((e) => `ef ${e}`).join(' | ')} |`, `|---|---|---|---|${efs.map(() => '---').join('|')}|`);
    for (const g of s.grid) {
      lines.push(`| ${g.params.m} | ${g.params.efConstruction} | ${g.buildSeconds.toFixed(0)} s | ${g.insertsPerSecond.toFixed(0)} | ${g.curve.map((p) => p.recall.toFixed(4)).join(' | ')} |`);
    }
  }
  lines.push(
    '',
    `corpus: ${r.corpus}`,
    `recall queries: ${r.queries}`,
    `check drafts: ${r.drafts}`,
    `machine: ${r.machine.cpus} cores, ${gb(r.machine.memoryBytes)}, Node ${r.machine.node}, load average at start ${r.machine.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')} (shared machine: other work may have run)`,
  );
  return lines.join('\n');
}

const positiveInts = (v: string) => {
  const xs = v.split(',').map((x) => Number(x.trim().replace(/_/g, '')));
  if (xs.some((x) => !Number.isInteger(x) || x < 1)) throw new InvalidArgumentError('expected comma-separated positive integers');
  return xs;
};

const gridPairs = (v: string) =>
  v.split(',').map((pair) => {
    const [m, efc] = pair.split('x').map(Number);
    if (!Number.isInteger(m) || !Number.isInteger(efc) || m! < 2 || efc! < 1) throw new InvalidArgumentError(`expected MxEFC pairs like 16x200, got ${pair}`);
    return { m: m!, efConstruction: efc! };
  });

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = new Command('bench-scale')
    .description('HNSW recall/latency/memory/cold start and check latency at 100k–1M stored articles (synthetic, from real dev windows)')
    .option('--sizes <n,...>', 'stored-article counts', positiveInts, [100_000, 1_000_000])
    .option('--dir <dir>', 'cache folder for the built databases and indexes', '.bench')
    .option('--json <file>', 'also write the full result as JSON')
    .option('--queries <n>', 'recall queries', (v) => positiveInts(v)[0]!, 400)
    .option('--ef <n,...>', 'ef values of the recall/latency curve', positiveInts, DEFAULT_EFS)
    .option('--grid <MxEFC,...>', 'also build these (M, efConstruction) in memory and report build time and recall, e.g. 16x200,16x100,12x100', gridPairs, [])
    .option('--m <n>', 'M of the stored index', (v) => positiveInts(v)[0]!, DEFAULTS.hnsw.m)
    .option('--ef-construction <n>', 'efConstruction of the stored index', (v) => positiveInts(v)[0]!, DEFAULTS.hnsw.efConstruction)
    .option('--ef-search <n>', 'efSearch for the headline figures and check', (v) => positiveInts(v)[0]!, DEFAULTS.hnsw.efSearch)
    .option('--dev <file>', 'real articles the corpus is composed from, and the check drafts (default ../shared/data/dev.jsonl)')
    .option('--seeds <dir>', 'more real articles (default seeds/)')
    .option('--cpu-prof <dir>', 'write a V8 CPU profile of the check process into this folder');
  program.parse();
  const o = program.opts<{
    sizes: number[];
    dir: string;
    json?: string;
    queries: number;
    ef: number[];
    grid: { m: number; efConstruction: number }[];
    m: number;
    efConstruction: number;
    efSearch: number;
    dev?: string;
    seeds?: string;
    cpuProf?: string;
  }>();
  const result = await runScaleBench({
    sizes: o.sizes,
    dir: o.dir,
    queries: o.queries,
    efs: [...new Set([...o.ef, o.efSearch])].sort((a, b) => a - b),
    grid: o.grid,
    hnsw: { m: o.m, efConstruction: o.efConstruction, efSearch: o.efSearch },
    dev: o.dev,
    seeds: o.seeds,
    cpuProfDir: o.cpuProf,
  });
  process.stdout.write(`${formatScaleTable(result)}\n`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
}
