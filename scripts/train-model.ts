// Trains newsdedup's own multilingual static sentence-embedding model from parallel text and
// exports it in the transformers.js layout (see scripts/model/*.ts for the pieces).
//
//   npx tsx scripts/train-model.ts --data ../shared/data/parallel --out models/newsdedup-static-v1 \
//       [--dev ../shared/data/dev.jsonl] [--bench ../shared/data/benchmarks]   (evaluation only)
//
// Seeded and deterministic for a given data folder and options.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadParallel, loadDicts, isNewsSource, NON_COMMERCIAL_SOURCES, loadDev, loadBenchmark, type ParallelFile } from './model/data.ts';
import { words, WordPieceEncoder } from './model/tokenize.ts';
import { buildVocab } from './model/vocab.ts';
import { train, type Corpus } from './model/train.ts';
import { embedDoc, embedText, finish, languageMeans, meanOfIds, type TableModel } from './model/embed.ts';
import { devRecall, bitextScores } from './model/evaluate.ts';
import { exportStaticModel } from './model/export.ts';
import { whiteningMatrix, applyLinear } from './model/postprocess.ts';
import { writeLanguageDirections } from './model/language-directions.ts';
import { scriptArgs } from './args.ts';

const { values: a } = scriptArgs(
  `Trains newsdedup's static multilingual embedding model from parallel text and exports it (transformers.js layout).

  npx tsx scripts/train-model.ts --data ../shared/data/parallel --out models/newsdedup-static-v1 \\
      [--dev ../shared/data/dev.jsonl] [--bench ../shared/data/benchmarks]   (evaluation only)`,
  {
    data: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string', default: 'newsdedup-static-v1' },
    'vocab-size': { type: 'string', default: '120000' },
    dim: { type: 'string', default: '256' },
    steps: { type: 'string', default: '3000' },
    batch: { type: 'string', default: '512' },
    lr: { type: 'string', default: '0.3' },
    temperature: { type: 'string', default: '0.05' },
    'token-dropout': { type: 'string', default: '0.1' },
    'sif-a': { type: 'string', default: '0.001' },
    'lang-alpha': { type: 'string', default: '0.3' },
    'center-momentum': { type: 'string', default: '0.99' },
    'whiten-beta': { type: 'string', default: '0.6' },
    'language-directions': { type: 'string', default: '2' },
    'news-weight': { type: 'string', default: '3' },
    'dict-weight': { type: 'string', default: '0.5' },
    'manythings-weight': { type: 'string', default: '0.5' },
    'min-word-count': { type: 'string', default: '3' },
    'word-share': { type: 'string', default: '0.75' },
    'exclude-noncommercial': { type: 'boolean', default: false },
    'no-dict': { type: 'boolean', default: false },
    variants: { type: 'string', default: 'q8' },
    seed: { type: 'string', default: '1' },
    dev: { type: 'string' },
    bench: { type: 'string' },
    'eval-every': { type: 'string', default: '0' },
    'no-export': { type: 'boolean', default: false },
    'full-graph': { type: 'boolean', default: false },
    'tokenizer-pipeline': { type: 'string', default: 'regex' },
  },
);
if (!a.data || (!a.out && !a['no-export'])) {
  console.error('usage: tsx scripts/train-model.ts --data <parallel dir> --out <model dir> [options]');
  process.exit(2);
}
const num = (k: keyof typeof a) => Number(a[k]);
const t0 = Date.now();
const log = (...m: unknown[]) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(5)}s]`, ...m);

// ---------- data
const excluded = a['exclude-noncommercial'] ? NON_COMMERCIAL_SOURCES : [];
let files: ParallelFile[] = loadParallel(a.data);
let dicts: ParallelFile[] = a['no-dict'] ? [] : loadDicts(a.data);
const srcWeight = (s: string) => {
  if (excluded.includes(s)) return 0;
  if (s === 'dict' || s.startsWith('dict:')) return num('dict-weight');
  if (s === 'tatoeba-manythings') return num('manythings-weight');
  return isNewsSource(s) ? num('news-weight') : 1;
};
const usedSources = new Map<string, number>();
for (const f of [...files, ...dicts])
  f.sources.forEach((s) => {
    if (srcWeight(s) > 0) usedSources.set(`${f.lang}:${s}`, (usedSources.get(`${f.lang}:${s}`) ?? 0) + 1);
  });
log(`loaded ${files.reduce((n, f) => n + f.pairs.length, 0)} pairs, ${dicts.reduce((n, f) => n + f.pairs.length, 0)} dictionary entries`);

// ---------- pass 1: word counts per language
const counts = new Map<string, Map<string, number>>();
const bump = (lang: string, ws: string[]) => {
  let m = counts.get(lang);
  if (!m) counts.set(lang, (m = new Map()));
  for (const w of ws) m.set(w, (m.get(w) ?? 0) + 1);
};
const seenEn = new Set<string>();
for (const f of files) {
  f.pairs.forEach(([x, e], i) => {
    if (srcWeight(f.sources[i]!) <= 0) return;
    bump(f.lang, words(x));
    if (!seenEn.has(e)) {
      seenEn.add(e);
      bump('en', words(e));
    }
  });
}
seenEn.clear();
log(`counted words: ${[...counts].map(([l, m]) => `${l} ${m.size}`).join(', ')}`);
const vocab = buildVocab(counts, {
  size: num('vocab-size'),
  wordShare: num('word-share'),
  minWordCount: num('min-word-count'),
  minCharCount: 2,
});
counts.clear();
log(`vocabulary: ${vocab.length} tokens`);
const enc = new WordPieceEncoder(vocab);

// ---------- pass 2: encode
const langs = [...new Set([...files, ...dicts].map((f) => f.lang)), 'en'];
const langIdx = new Map(langs.map((l, i) => [l, i]));
const sentToks: Int32Array[] = [];
const enIntern = new Map<string, number>();
const pX: number[] = [];
const pE: number[] = [];
const pL: number[] = [];
const pW: number[] = [];
const newsSents = new Map<string, number[]>(); // lang -> sentence indices from news sources (for language means)
const allSents = new Map<string, number[]>();
const pushTo = (m: Map<string, number[]>, l: string, s: number) => {
  let arr = m.get(l);
  if (!arr) m.set(l, (arr = []));
  arr.push(s);
};
for (const f of [...files, ...dicts]) {
  f.pairs.forEach(([x, e], i) => {
    const src = f.sources[i]!;
    const wgt = srcWeight(src);
    if (wgt <= 0) return;
    const xs = sentToks.length;
    sentToks.push(enc.encode(x));
    let es = enIntern.get(e);
    if (es === undefined) {
      es = sentToks.length;
      sentToks.push(enc.encode(e));
      enIntern.set(e, es);
      if (!src.startsWith('dict')) {
        pushTo(allSents, 'en', es);
        if (isNewsSource(src)) pushTo(newsSents, 'en', es);
      }
    }
    if (!src.startsWith('dict')) {
      pushTo(allSents, f.lang, xs);
      if (isNewsSource(src)) pushTo(newsSents, f.lang, xs);
    }
    pX.push(xs);
    pE.push(es);
    pL.push(langIdx.get(f.lang)!);
    pW.push(wgt);
  });
}
enIntern.clear();
let totalTok = 0;
for (const t of sentToks) totalTok += t.length;
const tok = new Int32Array(totalTok);
const off = new Int32Array(sentToks.length + 1);
const tokCount = new Float64Array(vocab.length);
{
  let o = 0;
  sentToks.forEach((t, i) => {
    off[i] = o;
    tok.set(t, o);
    o += t.length;
    for (let k = 0; k < t.length; k++) tokCount[t[k]!]!++;
  });
  off[sentToks.length] = o;
}
const unk = tokCount[enc.unkId]!;
log(`encoded ${sentToks.length} sentences, ${totalTok} tokens, [UNK] ${(unk / totalTok * 100).toFixed(3)}%, ${pX.length} pairs`);
const corpus: Corpus = {
  tok,
  off,
  pairX: Int32Array.from(pX),
  pairE: Int32Array.from(pE),
  pairLang: Uint8Array.from(pL),
  pairW: Float32Array.from(pW),
  langs,
};

// SIF weights a/(a+p(t)) from the training token frequencies
const sifA = num('sif-a');
const tokenWeight = new Float32Array(vocab.length);
for (let t = 0; t < vocab.length; t++) tokenWeight[t] = sifA > 0 ? sifA / (sifA + tokCount[t]! / totalTok) : 1;
tokenWeight[0] = 0;

// ---------- evaluation helpers
const dim = num('dim');
const dev = a.dev ? loadDev(a.dev) : undefined;
const tatoeba = a.bench ? loadBenchmark(join(a.bench, 'tatoeba')) : new Map();
const flores = a.bench ? loadBenchmark(join(a.bench, 'flores')) : new Map();
const sampleIds = (m: Map<string, number[]>, l: string, n: number) => {
  const arr = m.get(l) ?? [];
  const step = Math.max(1, Math.floor(arr.length / n));
  const out: Int32Array[] = [];
  for (let i = 0; i < arr.length && out.length < n; i += step) out.push(tok.subarray(off[arr[i]!]!, off[arr[i]! + 1]!));
  return out;
};
function exportedRows(E: Float32Array): Float32Array {
  const R = new Float32Array(E.length);
  for (let t = 0; t < vocab.length; t++) {
    const wt = tokenWeight[t]!;
    for (let j = 0; j < dim; j++) R[t * dim + j] = wt * E[t * dim + j]!;
  }
  return R;
}
function means(rows: Float32Array, perLang: number): Map<string, Float32Array> {
  const texts = new Map<string, Int32Array[]>();
  for (const l of langs) {
    const news = newsSents.get(l) ?? [];
    texts.set(l, sampleIds(news.length >= 1000 ? newsSents : allSents, l, perLang));
  }
  return languageMeans({ rows, dim, enc }, texts);
}
function evaluate(rows: Float32Array, m: Map<string, Float32Array>, full: boolean) {
  const model: TableModel = { rows, dim, enc, means: m };
  const res: Record<string, unknown> = {};
  if (dev) {
    const vecs = dev.map((d) => embedDoc(model, d));
    const r = devRecall(dev, vecs);
    res.dev = r;
    log(`dev recall@1 ${r.overall.toFixed(4)} | ${Object.entries(r.perLang).map(([l, x]) => `${l} ${x.recall.toFixed(3)}`).join(' ')}`);
  }
  for (const [name, set] of [['tatoeba', tatoeba], ['flores', flores]] as const) {
    if (!set.size) continue;
    const out: Record<string, { xx2en: number; en2xx: number }> = {};
    for (const [l, pairs] of set) {
      if (!full && !['fr', 'de', 'ru', 'hu', 'uk', 'it', 'ja', 'hr'].includes(l)) continue;
      const xs = pairs.map(([x]: [string, string]) => embedText(model, x, l));
      const es = pairs.map(([, e]: [string, string]) => embedText(model, e, 'en'));
      out[l] = bitextScores(xs, es);
    }
    res[name] = out;
    const avg = Object.values(out).reduce((s, x) => s + (x.xx2en + x.en2xx) / 2, 0) / Object.keys(out).length;
    log(`${name} avg ${avg.toFixed(4)} | ${Object.entries(out).map(([l, x]) => `${l} ${x.xx2en.toFixed(3)}/${x.en2xx.toFixed(3)}`).join(' ')}`);
  }
  return res;
}

// ---------- train
const steps = num('steps');
let lastLog = Date.now();
const tTrain = Date.now();
const E = train(corpus, {
  dim,
  vocabSize: vocab.length,
  tokenWeight,
  steps,
  batch: num('batch'),
  lr: num('lr'),
  temperature: num('temperature'),
  tokenDropout: num('token-dropout'),
  langAlpha: num('lang-alpha'),
  centerMomentum: num('center-momentum'),
  seed: num('seed'),
  log: (step, loss) => {
    if (Date.now() - lastLog > 15000 || step === steps - 1) {
      lastLog = Date.now();
      const el = (Date.now() - tTrain) / 1000;
      log(`step ${step + 1}/${steps} loss ${loss.toFixed(4)} ${((step + 1) / el).toFixed(2)} steps/s eta ${((steps - step - 1) / ((step + 1) / el)).toFixed(0)}s`);
    }
  },
  evalEvery: num('eval-every'),
  onEval: (step, table) => {
    const rows = exportedRows(table);
    log(`eval at step ${step}`);
    evaluate(rows, means(rows, 3000), false);
  },
});
log('training done');
let rows = exportedRows(E);
let langMeans = means(rows, 20000);
const beta = num('whiten-beta');
if (beta > 0) {
  // Partial whitening of the centred sentence vectors of the training text, folded into the table.
  const model: TableModel = { rows, dim, enc, means: langMeans };
  const vecs = new Map<string, Float32Array[]>();
  for (const l of langs) {
    const news = newsSents.get(l) ?? [];
    vecs.set(l, sampleIds(news.length >= 1000 ? newsSents : allSents, l, 3000).map((ids) => finish(model, meanOfIds(model, ids), l)));
  }
  rows = applyLinear(rows, dim, whiteningMatrix(vecs, dim, beta));
  langMeans = means(rows, 20000);
  log(`whitened (beta ${beta})`);
}
const results = evaluate(rows, langMeans, true);

if (!a['no-export']) {
  const out = a.out!;
  mkdirSync(out, { recursive: true });
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const meansJson: Record<string, number[]> = {};
  for (const [l, v] of [...langMeans].sort()) meansJson[l] = Array.from(v, round);
  const variants = a.variants!.split(',') as ('fp32' | 'q8')[];
  // Keys other code added to newsdedup.json (e.g. the product's calibrated thresholds) are kept.
  const settingsPath = join(out, 'newsdedup.json');
  const previous = existsSync(settingsPath) ? (JSON.parse(readFileSync(settingsPath, 'utf8')) as Record<string, unknown>) : {};
  // Sentence-sized windows: passage evidence aligns sentences (issue 4's measurements).
  const written = {
    dtype: variants.includes('q8') ? 'q8' : 'fp32',
    // A gather and a mean: one onnxruntime thread does it as fast, and an idle pool spins on the other core.
    onnx_threads: 1,
    window_tokens: 64,
    language_means: 'language_means.json',
    centering: 'project',
    language_directions: 'language_directions.json',
  };
  const settings = { ...previous, ...written };
  const kept = Object.keys(previous).filter((k) => !(k in written));
  if (kept.length) log(`kept newsdedup.json keys ${kept.join(', ')} (calibrated on the previous weights: recalibrate)`);
  const options = Object.fromEntries(Object.entries(a).filter(([k]) => !['data', 'out', 'dev', 'bench'].includes(k)));
  exportStaticModel({
    outDir: out,
    name: a.name!,
    vocab,
    embeddings: rows,
    dim,
    // A static model has no length limit; a large max length keeps the product's windows untruncated.
    maxLength: 4096,
    variants,
    lowercase: true,
    pooledOnly: !a['full-graph'],
    tokenizerPipeline: a['tokenizer-pipeline'] as 'bert' | 'regex',
    extraFiles: {
      'newsdedup.json': `${JSON.stringify(settings, null, 2)}\n`,
      'language_means.json': JSON.stringify(meansJson),
      'training.json': `${JSON.stringify(
        {
          options,
          seconds: Math.round((Date.now() - t0) / 1000),
          vocab_size: vocab.length,
          dim,
          pairs_used_by_source: Object.fromEntries([...usedSources].sort()),
          in_process_eval: results,
        },
        null,
        1,
      )}\n`,
    },
  });
  // From the exported (quantised) table, as the embedder will read it, and only the sources trained on.
  const trained = files.map((f) => {
    const keep = f.sources.map((s) => srcWeight(s) > 0);
    return { ...f, pairs: f.pairs.filter((_, i) => keep[i]), sources: f.sources.filter((_, i) => keep[i]) };
  });
  const k = num('language-directions');
  log(`exported to ${out}; ${writeLanguageDirections(out, trained, k)} languages × ${k} language directions`);
}
log(`total ${((Date.now() - t0) / 1000).toFixed(0)}s`);
