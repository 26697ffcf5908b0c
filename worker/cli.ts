// The command-line face: parses flags (commander), builds the config once, runs one command.
// Exit codes: 0 success, 1 some inputs were rejected (or the run failed), 2 usage error.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { ClusterSummary, Store } from '../db/store.ts';
import type { CheckReport } from './check.ts';
import { type Config, loadConfig, modelFlags, positiveInt } from './config.ts';
import { FALLBACK_THRESHOLDS, indexPath, openContext, openStore, REEMBED_COMMAND, requireDatabase, resolveThresholds, sqliteCode } from './context.ts';
import { folderModelName, shippedThresholds } from '../models/shipped-thresholds.ts';
import { InputError, ModelLoadError, ModelMismatchError, NewsdedupError, reembedCommand, UsageError } from './errors.ts';
import type { EvalReport } from './evaluate.ts';
import { articleFromJson, type InputItem, plainTextDraft, readInputs, SUPPORTED_FILES } from './input.ts';
import { createLogger, type Logger } from './log.ts';
import type { IngestSummary, Progress } from './pipeline.ts';
import type { relationsToOriginal } from './original.ts';
import { indexAdvice, readSavedIndex, readSidecar } from './vector-index.ts';

// Each command imports what it needs when it runs (the model runtime alone takes a quarter of a
// second to load): `stats`, `clusters`, `export` and --help start without it.

interface CommonFlags {
  db?: string;
  modelDir?: string;
  model?: string;
  dtype?: string;
  config?: string;
  json?: boolean;
  logLevel?: string;
  threads?: string;
}

type Out = { write(s: string): void };

export interface CliIo {
  stdout: Out;
  stderr: Out;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--db <file>', 'SQLite database, the vector index kept beside it as <file>.hnsw (env NEWSDEDUP_DB; default ./newsdedup.db)', undefined)
    .option('--model-dir <dir>', 'local model folder in transformers.js layout (env NEWSDEDUP_MODEL_DIR); default: the bundled model')
    .option('--model <id>', 'hub model id, e.g. Xenova/multilingual-e5-small (env NEWSDEDUP_MODEL; needs a download or a filled cache)')
    .addOption(new Option('--dtype <dtype>', "ONNX variant to load (env NEWSDEDUP_DTYPE; default: the model's newsdedup.json, else fp32)").choices(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4']))
    .option('--config <file>', 'config file (default ./newsdedup.config.json; env NEWSDEDUP_CONFIG)')
    .option('--json', 'machine-readable JSON on stdout')
    .option('--threads <n>', 'threads that clean and embed articles beside the main thread, 0 for none (env NEWSDEDUP_THREADS; default: cores - 1, at most 4)')
    .addOption(new Option('--log-level <level>', 'log level (env NEWSDEDUP_LOG_LEVEL)').choices(['debug', 'info', 'warn', 'error', 'silent']));
}

function buildConfig(flags: CommonFlags, io: CliIo, extra: Record<string, unknown> = {}): Config {
  return loadConfig({
    flags: Object.fromEntries(
      Object.entries({ db: flags.db, modelDir: flags.modelDir, model: flags.model, dtype: flags.dtype, logLevel: flags.logLevel, threads: flags.threads, ...extra }).filter(
        ([, v]) => v !== undefined,
      ),
    ),
    configFile: flags.config,
    env: io.env,
    cwd: io.cwd,
  });
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** How each member of a cluster relates to its original (original.ts), for --explain. */
type Explainer = typeof relationsToOriginal;

function clusterBlock(store: Store, c: ClusterSummary, io: CliIo, explain?: Explainer): void {
  const canonical = c.canonical ? `${c.canonical.id}${c.canonical.title ? ` "${c.canonical.title}"` : ''}` : '-';
  io.stdout.write(`cluster ${c.id}: ${c.size} article${c.size === 1 ? '' : 's'} [${c.languages.join(', ')}], original ${canonical}\n`);
  const evidence = explain ? store.matchesOfCluster(c.id) : [];
  const relations = explain ? explain(store, c.id).members : [];
  for (const m of store.members(c.id)) {
    io.stdout.write(`  ${m.id}  ${m.lang}  ${m.publishedAt ?? ''}  ${m.title ?? ''}\n`);
    const r = relations.find((x) => x.id === m.id);
    if (r && r.relation !== 'original') {
      const coverage = r.coverage ? `: ${pct(r.coverage.member)} of its passages found in the original, ${pct(r.coverage.original)} of the original's in it` : '';
      io.stdout.write(`      ${r.relation} of the original${coverage}${r.earlier ? ` (${r.earlier === 'member' ? 'published before it' : 'published after it'})` : ''}\n`);
    }
    for (const e of evidence.filter((x) => x.articleId === m.id)) {
      const coverage = e.coverage === null ? '' : `, passage coverage ${pct(e.coverage)}`;
      const earlier = e.earlierVersion ? `; ${e.matchedId} has been replaced since, this was its earlier text` : '';
      io.stdout.write(`      ${e.kind} of ${e.matchedId}: score ${e.score.toFixed(3)}${coverage} (${e.method}, ${e.decision}${earlier})\n`);
    }
  }
}

/** A cluster with its members; with `explain`, the evidence that put each member there and each member's relation to the original. */
function clusterJson(store: Store, c: ClusterSummary, explain?: Explainer) {
  return {
    ...c,
    members: store.members(c.id),
    ...(explain && { evidence: store.matchesOfCluster(c.id), relations: explain(store, c.id).members }),
  };
}


async function readSingleArticle(path: string, io: CliIo, draftId: string): Promise<InputItem> {
  if (path !== '-') {
    if (!existsSync(path)) throw new UsageError(`${path} does not exist`);
    if (statSync(path).isDirectory()) throw new UsageError(`${path} is a folder: check takes one article file`);
    for await (const item of readInputs([path], undefined, { defaultId: draftId })) return item;
    throw new UsageError(`${path} holds no article`);
  }
  // On stdin a draft may be JSON (one article) or plain text (first line = title).
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const content = Buffer.concat(chunks).toString('utf8');
  // A draft opening with "{" is JSON; one opening with "[" only if it parses ("[UPDATE] Storm hits" is a headline).
  if (/^\s*[[{]/.test(content)) {
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (err) {
      if (/^\s*\{/.test(content)) return { ok: false, error: new InputError(`malformed JSON: ${(err as Error).message}`, '<stdin>') };
    }
    if (value !== undefined) return articleFromJson(value, '<stdin>', undefined, draftId);
  }
  const draft = plainTextDraft(content);
  if (!draft) return { ok: false, error: new InputError('empty draft', '<stdin>') };
  return articleFromJson({ id: draftId, ...draft }, '<stdin>');
}

/**
 * Passage pairs with one neighbour from which `check` points them out under an "original" verdict.
 * The passage threshold is set so that an article about another story shows 0.1 pairs on average.
 */
const RESEMBLING_PASSAGES = 3;
/** Below this many same-story pairs in a labelled file, calibrate says its fit is a guess (dev.jsonl has 425). */
const FEW_GOLD_PAIRS = 50;
/** Passage pairs printed under each match; --json has them all. */
const SHOWN_PASSAGES = 5;

function printCheck(r: CheckReport, io: CliIo): void {
  const a = r.article;
  io.stdout.write(`${a.id} [${a.lang}] ${a.title ?? ''}\n`);
  if (a.reading === 'none') io.stdout.write(`note: the model cannot read this draft (its script or language, ${a.lang}, is not one it knows): only exact and near-verbatim copies are found\n`);
  if (a.reading === 'near') io.stdout.write(`note: the model reads this draft's language (${a.lang}) only through a language it knows: against articles in other languages it reads, translations are found; against others like it, only copies\n`);
  if (r.decision.action === 'new') {
    io.stdout.write('verdict: original (no stored article is a copy or translation of it)\n');
    // A spun rewrite can score like another article on the same event (the decision keeps them
    // apart), yet show passage after passage that corresponds: point the editor at them.
    for (const m of r.matches.filter((x) => x.passages.length >= RESEMBLING_PASSAGES)) {
      io.stdout.write(`  but ${m.passages.length} of its passages resemble passages of ${m.id} [${m.lang}] (below): a loose rewrite, or another article on the same story\n`);
    }
  } else {
    const best = r.decision.evidence[0]!;
    io.stdout.write(`verdict: duplicate of ${best.articleId} (cluster ${r.decision.clusterId}, score ${best.verified.toFixed(3)}, ${best.method})\n`);
  }
  for (const m of r.matches) {
    io.stdout.write(
      `\n${m.qualifies ? '*' : ' '} ${m.id} [${m.lang}] ${m.kind}, score ${m.score.toFixed(3)} (cosine ${m.cosine.toFixed(3)}), cluster ${m.cluster}: ${m.title ?? ''}\n`,
    );
    io.stdout.write(`    passages: ${m.coverage.draft} of the draft's windows match ${m.coverage.stored} of this article's\n`);
    for (const p of m.passages.slice(0, SHOWN_PASSAGES)) {
      io.stdout.write(`    ${p.score.toFixed(2)}  draft: ${p.draft.text.slice(0, 100)}\n          stored: ${p.stored.text.slice(0, 100)}\n`);
    }
    const more = m.passages.length - SHOWN_PASSAGES;
    if (more > 0) io.stdout.write(`    … and ${more} more passage pair${more === 1 ? '' : 's'} (all of them in --json)\n`);
  }
}

const numbersOf = (t: object) => Object.fromEntries(Object.entries(t).filter((e): e is [string, number] => typeof e[1] === 'number'));

/**
 * The thresholds the decision uses (resolveThresholds, as openContext does), without loading the
 * model, and where the calibrated ones come from. The model's file is the configured folder's (a
 * hub model ships none here).
 */
function calibrationInUse(modelId: string | undefined, store: Store, config: Config) {
  const own = modelId === undefined ? undefined : store.calibration(modelId);
  // The configured folder's file, when that folder is the model the stored vectors were made with.
  const dir = config.modelDir;
  const shipped = dir !== undefined && modelId?.startsWith(`${folderModelName(dir)}@`) ? shippedThresholds(dir) : undefined;
  const configured = numbersOf(config.thresholds);
  const source = own ? ('database' as const) : shipped ? ('model' as const) : ('fallback' as const);
  const calibrated = own ?? shipped ?? FALLBACK_THRESHOLDS;
  const effective = numbersOf(resolveThresholds(shipped, own, config.thresholds));
  return { source, thresholds: numbersOf(calibrated), verifier: (own ?? shipped)?.verifier !== undefined, configured, effective };
}

function printEval(r: EvalReport, io: CliIo): void {
  io.stdout.write(`${r.file}: ${r.metrics.articles} articles, model ${r.model}, ${r.seconds.toFixed(1)} s\n`);
  const row = (name: string, m: EvalReport['metrics']) =>
    `${name.padEnd(18)} ${[m.bcubed.precision, m.bcubed.recall, m.bcubed.f1, m.pairwise.precision, m.pairwise.recall, m.pairwise.f1, m.crossLanguage.recall, m.sameLanguage.recall]
      .map((x) => pct(x).padStart(7))
      .join(' ')}\n`;
  io.stdout.write(`${''.padEnd(18)} ${['B3 P', 'B3 R', 'B3 F1', 'pair P', 'pair R', 'pair F1', 'x-lang R', 'same R'].map((h) => h.padStart(7)).join(' ')}\n`);
  io.stdout.write(row('newsdedup', r.metrics));
  io.stdout.write(row('lexical baseline', r.lexicalBaseline));
  const m = r.metrics;
  io.stdout.write(
    `pairs: ${m.pairwise.correctPairs} correct of ${m.pairwise.predictedPairs} predicted, ${m.pairwise.goldPairs} gold ` +
      `(${m.crossLanguage.found}/${m.crossLanguage.goldPairs} cross-language, ${m.sameLanguage.found}/${m.sameLanguage.goldPairs} same-language found)\n`,
  );
  if (r.ingest.rejected) io.stdout.write(`${r.ingest.rejected} input(s) rejected\n`);
}

type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * Until the returned function is called, SIGINT or SIGTERM runs `stop` (which says what was done
 * and puts things in order: the terminal, the index, the lock), then lets the signal end the
 * process as it would have (a shell sees 130 or 143). Not process.exit(): it tears down the
 * embedding threads, and one caught inside onnxruntime aborted the process (exit 134, about one
 * stop in four); a process ended by the signal tears nothing down.
 */
function onStopSignal(stop: (signal: StopSignal) => void): () => void {
  const handler = (signal: StopSignal) => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    try {
      stop(signal);
    } finally {
      process.kill(process.pid, signal);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('newsdedup')
    .description('Finds near-duplicate and translated news articles across languages and records story clusters in SQLite.')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  const ctxFor = (flags: CommonFlags): { config: Config; log: Logger } => {
    const config = buildConfig(flags, io);
    return { config, log: createLogger(config.logLevel) };
  };

  withCommon(
    program
      .command('ingest')
      .description('ingest articles from .jsonl/.ndjson, .json, .txt/.md files (each also as .gz), directories (recursively) or - (JSON lines on stdin), and print the clusters they touched')
      .argument('<paths...>', 'files, directories, or - for stdin')
      .option('--no-progress', 'no progress line on a terminal'),
  ).action(async (paths: string[], flags: CommonFlags & { progress: boolean }) => {
    const { config, log } = ctxFor(flags);
    const [{ Pipeline }, { progressBar }] = await Promise.all([import('./pipeline.ts'), import('./service/progress-bar.ts')]);
    const ctx = await openContext(config, log, { writer: 'newsdedup ingest' });
    let summary: IngestSummary;
    let release = () => {};
    try {
      const showProgress = flags.progress && !flags.json && Boolean((process.stderr as { isTTY?: boolean }).isTTY);
      // A progress bar (cli-progress) on a terminal; the total is counted from the files first.
      const bar = showProgress ? progressBar(paths) : undefined;
      // Articles committed so far: the pipeline reports after each batch's commit.
      let committed = 0;
      const onProgress = (p: Progress) => {
        committed = p.done;
        bar?.update(p);
      };
      // Each batch is one transaction, so a stop between them loses nothing committed; signals are
      // handled between two turns of the event loop, never inside a commit.
      release = onStopSignal((signal) => {
        bar?.stop();
        io.stderr.write(
          `newsdedup: stopped by ${signal}: ${committed} article${committed === 1 ? '' : 's'} committed to ${config.db} (stored, or found unchanged), ` +
            'the rest not stored; run the same command again to resume: what was committed is found unchanged\n',
        );
        ctx.close();
      });
      try {
        const onSkipped = (folder: string, files: string[]) =>
          log.warn({ folder, skipped: files.length, files: files.slice(0, 5) }, `files of types not read skipped in ${folder} (files read: ${SUPPORTED_FILES})`);
        summary = await new Pipeline(ctx).ingest(readInputs(paths, io.stdin as never, { onSkipped }), onProgress);
      } catch (err) {
        // The batch in flight is rolled back; what was committed before it stays. Said in one line
        // with the way on, instead of SQLite's stack.
        if (sqliteCode(err) !== 'SQLITE_FULL') throw err;
        throw new NewsdedupError(
          `disk full while writing ${config.db}: ${committed} article${committed === 1 ? '' : 's'} committed before it (stored, or found unchanged), ` +
            'the batch being written rolled back; free space and run the same command again: what was committed is found unchanged',
          { cause: err },
        );
      } finally {
        bar?.stop();
      }
      if (summary.articles.length === 0 && summary.rejected === 0) {
        log.warn({ paths }, `no article found in ${paths.join(', ')} (files read: ${SUPPORTED_FILES})`);
      }
      const clusters = summary.touchedClusters.map((id) => ctx.store.cluster(id)).filter((c): c is ClusterSummary => !!c && c.size > 0);
      if (flags.json) {
        const { ingested, skipped, rejected, articles, errors } = summary;
        io.stdout.write(`${JSON.stringify({ ingested, skipped, rejected, clusters: clusters.map((c) => clusterJson(ctx.store, c)), articles, errors })}\n`);
      } else {
        io.stdout.write(`ingested ${summary.ingested}, unchanged ${summary.skipped}, rejected ${summary.rejected} (database ${config.db})\n`);
        for (const e of summary.errors) io.stdout.write(`rejected ${e.message}\n`);
        for (const c of clusters) clusterBlock(ctx.store, c, io);
      }
    } finally {
      ctx.close();
      // Only now: from the last commit to here all is synchronous (the summary, saving the index:
      // seconds at a million articles), so a stop signal caught in that stretch is dropped with
      // the handler and the run ends in order. Released before, the signal's default action ended
      // the process inside the save, and the next command rebuilt the index from SQLite (89
      // minutes at a million articles, M 32).
      release();
    }
    setExit(summary.rejected > 0 ? 1 : 0);
  });

  withCommon(
    program
      .command('clusters')
      .description('list story clusters with their canonical article, size, languages and members')
      .option('--min-size <n>', 'only clusters with at least n articles', '2')
      .option('--explain', 'show the evidence for each member: which article it matched, the kind of duplicate, score and passage coverage'),
  ).action(async (flags: CommonFlags & { minSize: string; explain?: boolean }) => {
    const minSize = positiveInt(flags.minSize, '--min-size');
    const { config } = ctxFor(flags);
    const explain = flags.explain ? (await import('./original.ts')).relationsToOriginal : undefined;
    const store = openStore(config);
    try {
      const clusters = store.clusterIds(minSize).map((id) => store.cluster(id)!);
      if (flags.json) io.stdout.write(`${JSON.stringify({ clusters: clusters.map((c) => clusterJson(store, c, explain)) })}\n`);
      else {
        for (const c of clusters) clusterBlock(store, c, io, explain);
        io.stdout.write(`${clusters.length} cluster(s) with at least ${minSize} article(s)\n`);
      }
    } finally {
      store.close();
    }
  });

  withCommon(
    program
      .command('check')
      .description('what a draft would match, without storing anything: nearest articles, scores, cluster and matching passages')
      .argument('<file>', 'an article file (.txt, .md, .json, .jsonl: its first article) or - for stdin (JSON or plain text)')
      .option('--limit <n>', 'neighbours to report', '10'),
  ).action(async (file: string, flags: CommonFlags & { limit: string }) => {
    const limit = positiveInt(flags.limit, '--limit');
    const { config, log } = ctxFor(flags);
    // A draft is checked against what is stored: a database that is not there is a mistyped path.
    requireDatabase(config);
    const { checkArticle, DRAFT_ID } = await import('./check.ts');
    const item = await readSingleArticle(file, io, DRAFT_ID);
    if (!item.ok) throw item.error;
    const ctx = await openContext(config, log, { readOnly: true });
    try {
      const report = await checkArticle(ctx, item.article, { limit });
      if (flags.json) io.stdout.write(`${JSON.stringify(report)}\n`);
      else printCheck(report, io);
    } finally {
      ctx.close();
    }
  });

  withCommon(
    program
      .command('export')
      .description('one row per article: id, cluster, canonical, lang')
      .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl')),
  ).action((flags: CommonFlags & { format: 'jsonl' | 'csv' }) => {
    if (flags.json && flags.format === 'csv') throw new UsageError('--json and --format csv ask for two formats: export writes JSON lines unless --format csv');
    const store = openStore(ctxFor(flags).config);
    try {
      const rows = store.exportRows();
      if (flags.format === 'csv') {
        const cell = (v: unknown) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
        io.stdout.write('id,cluster,canonical,lang\n');
        for (const r of rows) io.stdout.write(`${[r.id, r.cluster, r.canonical, r.lang].map(cell).join(',')}\n`);
      } else for (const r of rows) io.stdout.write(`${JSON.stringify(r)}\n`);
    } finally {
      store.close();
    }
  });

  withCommon(
    program
      .command('eval')
      .description(
        'ingest a labelled JSON-lines file (.jsonl or .ndjson, optionally .gz; field "cluster" hidden from the pipeline) into a temporary database and score the clusters; ' +
          'with --db, the database is made there (a new file) and kept',
      )
      .argument('<labelled>', 'JSON lines with id, text, ... and the gold "cluster"'),
  ).action(async (file: string, flags: CommonFlags) => {
    const { config, log } = ctxFor(flags);
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${file} is not a file`);
    const { evaluateFile } = await import('./evaluate.ts');
    const report = await evaluateFile(config, log, file, { keepAt: flags.db });
    if (flags.json) io.stdout.write(`${JSON.stringify(report)}\n`);
    else printEval(report, io);
    setExit(report.ingest.rejected > 0 ? 1 : 0);
  });

  withCommon(
    program
      .command('calibrate')
      .description('fit the decision thresholds of the current model to a labelled JSON-lines file (.jsonl or .ndjson, optionally .gz; max pairwise F1 with precision at or above a floor)')
      .argument('<labelled>', 'JSON lines with id, text, ... and the gold "cluster"')
      .option('--min-precision <p>', 'pairwise precision floor', '0.98')
      .option('--save', 'store the thresholds in the database (--db) for this model; later runs use them')
      .option('--write-model', "write the thresholds into the model folder's newsdedup.json (the model's shipped defaults)")
      .option('--holdout <rounds>', 'estimate instead how a calibration carries over to unseen stories: fit on half the gold clusters, score on the other half, both ways, for n random splits; saves nothing'),
  ).action(async (file: string, flags: CommonFlags & { minPrecision: string; save?: boolean; writeModel?: boolean; holdout?: string }) => {
    const minPrecision = Number(flags.minPrecision);
    if (!(minPrecision > 0 && minPrecision <= 1)) throw new UsageError(`--min-precision must be in (0, 1], got ${flags.minPrecision}`);
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${file} is not a file`);
    const { config, log } = ctxFor(flags);
    const { calibrateFile, holdoutEstimate } = await import('./calibrate-command.ts');
    if (flags.holdout !== undefined) {
      const rounds = positiveInt(flags.holdout, '--holdout')!; // given: checked above
      if (flags.save || flags.writeModel) throw new UsageError('--holdout saves nothing: leave out --save and --write-model');
      const h = await holdoutEstimate(config, log, file, { minPrecision, rounds });
      if (flags.json) io.stdout.write(`${JSON.stringify(h)}\n`);
      else {
        io.stdout.write(`model ${h.model}, ${rounds} random split(s) of the gold clusters, each half fitted and scored on the other\n`);
        for (const f of h.folds) {
          const m = f.test;
          io.stdout.write(`  round ${f.round}: pairwise P ${pct(m.pairwise.precision)} R ${pct(m.pairwise.recall)} F1 ${pct(m.pairwise.f1)}, B-cubed F1 ${pct(m.bcubed.f1)}, cross-language R ${pct(m.crossLanguage.recall)}\n`);
        }
        const x = h.mean;
        io.stdout.write(`mean   pairwise P ${pct(x.precision)} (lowest ${pct(x.minPrecision)}) R ${pct(x.recall)} F1 ${pct(x.f1)}, B-cubed F1 ${pct(x.bcubedF1)}, cross-language R ${pct(x.crossLanguageRecall)}\n`);
      }
      return;
    }
    const r = await calibrateFile(config, log, file, { minPrecision, save: flags.save, writeModel: flags.writeModel });
    if (flags.json) io.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      const t = r.fitted.thresholds;
      io.stdout.write(`model ${r.model}, ${r.fitted.metrics.articles} articles, ${r.fitted.replays} replays\n`);
      io.stdout.write(
        `thresholds: sameLanguage ${t.sameLanguage}, crossLanguage ${t.crossLanguage}, merge ${t.merge}, original ${t.original}, passage ${t.passage}${r.fitted.feasible ? '' : ` (precision floor ${minPrecision} not reachable)`}\n`,
      );
      const goldPairs = r.fitted.metrics.pairwise.goldPairs;
      if (goldPairs < FEW_GOLD_PAIRS) io.stdout.write(`note: fitted on ${goldPairs} pairs of articles of one story; so few carry over poorly to other articles (estimate it with --holdout)\n`);
      for (const [name, m] of [['before', r.before], ['after', r.fitted.metrics]] as const) {
        io.stdout.write(`${name.padEnd(6)} pairwise P ${pct(m.pairwise.precision)} R ${pct(m.pairwise.recall)} F1 ${pct(m.pairwise.f1)}, B-cubed F1 ${pct(m.bcubed.f1)}, cross-language R ${pct(m.crossLanguage.recall)}\n`);
      }
      for (const where of r.savedTo) io.stdout.write(`saved to ${where}\n`);
    }
  });

  withCommon(program.command('stats').description('counts, model and index health')).action((flags: CommonFlags) => {
    const { config } = ctxFor(flags);
    const store = openStore(config, { unfinishedReembed: 'allow' });
    try {
      const idx = indexPath(config.db);
      const counts = store.counts();
      const model = store.getModel();
      // What the next open will find: the same checks as loading, short of reading the graph.
      const saved = model ? readSavedIndex(idx, { generation: store.generation(), modelId: model.modelId, dim: model.dim, count: counts.articles }) : undefined;
      const sidecar = saved ? saved.sidecar : readSidecar(idx);
      const stats = {
        db: config.db,
        ...counts,
        model: model ?? null,
        /** A reembed that was started and has not finished (every other command refuses the database meanwhile). */
        unfinishedReembed: store.reembedTarget() ?? null,
        languages: Object.fromEntries(store.languages().map((l) => [l.lang, l.n])),
        index: {
          path: idx,
          exists: existsSync(idx),
          bytes: existsSync(idx) ? statSync(idx).size : 0,
          vectors: sidecar?.count ?? 0,
          current: saved !== undefined && saved.reason === undefined,
          ...(saved?.reason !== undefined && { problem: saved.reason }),
          // m and efConstruction are the graph's own (fixed when it was built); efSearch is the configured one.
          ...(sidecar?.params && { m: sidecar.params.m, efConstruction: sidecar.params.efConstruction }),
          efSearch: config.hnsw.efSearch,
        },
        advice: indexAdvice(counts.articles, { m: sidecar?.params?.m, efSearch: config.hnsw.efSearch }),
        calibration: calibrationInUse(model?.modelId, store, config),
      };
      if (flags.json) io.stdout.write(`${JSON.stringify(stats)}\n`);
      else {
        io.stdout.write(`database ${stats.db}\n`);
        io.stdout.write(`articles ${counts.articles}, clusters ${counts.clusters} (${counts.multiClusters} with 2+ articles), matches ${counts.matches}\n`);
        // The settings too: a model folder with another window size keeps its id but makes other vectors.
        io.stdout.write(`model ${stats.model ? `${stats.model.modelId} (dim ${stats.model.dim}${stats.model.settings ? `, ${stats.model.settings}` : ''})` : '-'}\n`);
        const r = stats.unfinishedReembed;
        if (r) io.stdout.write(`reembed unfinished: to ${r.modelId} (dim ${r.dim}, ${r.settings}); other commands refuse the database until ${reembedCommand(config.db, r.modelFlags)} finishes it\n`);
        io.stdout.write(`languages ${Object.entries(stats.languages).map(([l, n]) => `${l} ${n}`).join(', ') || '-'}\n`);
        io.stdout.write(
          `index ${stats.index.exists ? `${stats.index.vectors} vectors, ${(stats.index.bytes / 1e6).toFixed(1)} MB, ${stats.index.current ? 'current' : `${stats.index.problem ?? 'stale'} (rebuilt on next open)`}` : 'missing (rebuilt on next open)'}` +
            `${stats.index.m === undefined ? '' : `, M ${stats.index.m}, efConstruction ${stats.index.efConstruction}`}, efSearch ${stats.index.efSearch}\n`,
        );
        const c = stats.calibration;
        const numbers = (t: Record<string, number>) => Object.entries(t).map(([k, v]) => `${k} ${v}`).join(', ');
        const from = { database: "this database's own (calibrate --save)", model: "the model's (its newsdedup.json)", fallback: 'built-in fallback (the model ships no thresholds: calibrate it, see README)' }[c.source];
        io.stdout.write(`calibration ${from}: ${numbers(c.thresholds)}${c.verifier ? ', with its verifier' : ', no verifier (the score is the document cosine)'}\n`);
        if (Object.keys(c.configured).length) io.stdout.write(`thresholds set by the configuration (they win): ${numbers(c.configured)}\n`);
        for (const line of stats.advice) io.stdout.write(`note: ${line}\n`);
      }
    } finally {
      store.close();
    }
  });

  withCommon(
    program.command('reembed').description('re-embed every stored article with the configured model (after changing models), then rebuild the index; clusters are kept'),
  ).action(async (flags: CommonFlags) => {
    const { config, log } = ctxFor(flags);
    // A writer: it opens the database (and upgrades it) once the model is loaded; a mistyped path is said first.
    requireDatabase(config);
    const ctx = await openContext(config, log, { reembed: true, writer: REEMBED_COMMAND });
    // Stopped partway, the database stays marked (worker/reembed.ts): say so, and what to run.
    const release = onStopSignal((signal) => {
      io.stderr.write(
        `newsdedup: reembed stopped by ${signal}: until a reembed finishes, every command but stats refuses ${config.db}; ` +
          `run ${reembedCommand(config.db, modelFlags(config))} again (it starts over)\n`,
      );
      ctx.close();
    });
    try {
      const { reembedAll } = await import('./reembed.ts');
      const n = await reembedAll(ctx);
      if (flags.json) io.stdout.write(`${JSON.stringify({ reembedded: n, model: ctx.embedder.id })}\n`);
      else io.stdout.write(`re-embedded ${n} articles with ${ctx.embedder.id}\n`);
    } finally {
      // After close, as in ingest: a signal caught while the index is saved must not end the save.
      ctx.close();
      release();
    }
  });

  withCommon(
    program
      .command('worker')
      .description("run the service until SIGTERM/SIGINT: HTTP API and editors' page, watched inbox folder, durable job queue (docs/service.md)")
      .option('--host <host>', 'address to bind (env NEWSDEDUP_HTTP_HOST; default 127.0.0.1)')
      .option('--port <port>', 'port to listen on, 0 for any free port (env NEWSDEDUP_HTTP_PORT; default 8080)')
      .option('--inbox <dir>', 'folder to watch for article files (env NEWSDEDUP_INBOX)'),
  ).action(async (flags: CommonFlags & { host?: string; port?: string; inbox?: string }) => {
    const config = buildConfig(flags, io, { http: { host: flags.host, port: flags.port }, inbox: flags.inbox });
    const log = createLogger(config.logLevel);
    const { runWorker } = await import('./service/command.ts');
    setExit(await runWorker(config, log, { json: Boolean(flags.json), stdout: io.stdout }));
  });

  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      io.stderr.write(`newsdedup: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ModelMismatchError || err instanceof ModelLoadError || err instanceof InputError || err instanceof NewsdedupError) {
      io.stderr.write(`newsdedup: ${err.message}\n`);
      return 1;
    }
    // A system call that failed (a port in use, a host not found, a folder not writable) says
    // what happened in its message; a stack is for bugs.
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr.write(`newsdedup: ${typeof code === 'string' && /^E[A-Z]+$/.test(code) ? (err as Error).message : ((err as Error).stack ?? err)}\n`);
    return 1;
  }
}
