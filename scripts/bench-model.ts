// Benchmarks a model folder through the product embedder (models/embedder.ts), i.e. exactly the
// tokenizer + ONNX + centring + normalisation path newsdedup uses:
//  * Tatoeba and FLORES sentence retrieval accuracy, xx→en and en→xx, per language
//  * dev.jsonl document translation recall@1 per language, and the same on FLORES documents
//  * embedding speed (articles/s, this single process) on dev articles and on ~600-word articles
//
//   npm run bench:model -- [--model-dir models/newsdedup-static-v1] [--data ../shared/data] [--json]
//                          [--speed-seconds 5] [--skip-speed | --speed-only] [--dtype fp32|q8]
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Embedder } from '../models/embedder.ts';
import { scriptArgs } from './args.ts';
import { loadBenchmark, loadDev, type DevArticle } from './model/data.ts';
import { bitextScores, devRecall, LABSE_TATOEBA } from './model/evaluate.ts';
import { floresDocs, SENTENCES_PER_DOC } from './model/flores-docs.ts';

const { values: a } = scriptArgs(
  `Benchmarks a model folder through the product embedder: Tatoeba/FLORES sentence retrieval per language,
dev.jsonl and FLORES-document translation recall@1 per language, embedding speed (articles/s, one process).

  npm run bench:model -- [--model-dir DIR] [--data ../shared/data] [--json] [--skip-speed | --speed-only]`,
  {
    'model-dir': { type: 'string', default: 'models/newsdedup-static-v1' },
    data: { type: 'string', default: '../shared/data' },
    dtype: { type: 'string' },
    json: { type: 'boolean', default: false },
    'speed-seconds': { type: 'string', default: '5' },
    'skip-speed': { type: 'boolean', default: false },
    'speed-only': { type: 'boolean', default: false },
  },
);
const modelDir = resolve(a['model-dir']!);
const say = (...m: unknown[]) => {
  if (!a.json) console.log(...m);
};

function folderBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    n += f.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return n;
}

const tLoad = performance.now();
const embedder = await Embedder.load({ modelDir, dtype: a.dtype as never });
say(`model ${embedder.id} (dim ${embedder.dim}), loaded in ${((performance.now() - tLoad) / 1000).toFixed(1)} s, folder ${(folderBytes(modelDir) / 1e6).toFixed(1)} MB`);

const report: Record<string, unknown> = { model: embedder.id, dim: embedder.dim, folder_mb: folderBytes(modelDir) / 1e6 };
const pct = (x: number) => (100 * x).toFixed(1).padStart(5);

// ---------- sentence retrieval
for (const set of a['speed-only'] ? [] : ['tatoeba', 'flores']) {
  const dir = join(a.data!, 'benchmarks', set);
  if (!existsSync(dir)) continue;
  const rows: Record<string, { xx2en: number; en2xx: number; n: number }> = {};
  say(`\n${set}: nearest-neighbour retrieval accuracy (%)`);
  say(set === 'tatoeba' ? 'lang      n  xx→en  en→xx   mean  LaBSE(paper)' : 'lang      n  xx→en  en→xx   mean');
  for (const [lang, pairs] of loadBenchmark(dir)) {
    const xs = await embedder.embedTexts(pairs.map((p) => p[0]), pairs.map(() => lang));
    const es = await embedder.embedTexts(pairs.map((p) => p[1]), pairs.map(() => 'en'));
    const s = bitextScores(xs, es);
    rows[lang] = { ...s, n: pairs.length };
    const ref = set === 'tatoeba' && LABSE_TATOEBA[lang] !== undefined ? `  ${LABSE_TATOEBA[lang]!.toFixed(1).padStart(5)}` : '';
    say(`${lang.padEnd(4)} ${String(pairs.length).padStart(6)}  ${pct(s.xx2en)}  ${pct(s.en2xx)}  ${pct((s.xx2en + s.en2xx) / 2)}${ref}`);
  }
  const vals = Object.values(rows);
  const avg = vals.reduce((x, r) => x + (r.xx2en + r.en2xx) / 2, 0) / Math.max(1, vals.length);
  say(`mean over ${vals.length} languages: ${pct(avg)}`);
  report[set] = rows;
}

// ---------- dev document translation recall@1
const devPath = join(a.data!, 'dev.jsonl');
let dev: DevArticle[] = [];
if (existsSync(devPath)) {
  dev = loadDev(devPath);
}
if (dev.length && !a['speed-only']) {
  const embs = await embedder.embedDocuments(dev.map((d) => ({ title: d.title, text: d.text, lang: d.lang })));
  const r = devRecall(dev, embs.map((e) => e.vector));
  say(`\ndev.jsonl translation recall@1 (nearest other-language article is in the gold cluster)`);
  say('lang    n  recall@1');
  for (const [lang, x] of Object.entries(r.perLang).sort()) say(`${lang.padEnd(4)} ${String(x.n).padStart(4)}  ${x.recall.toFixed(3)}`);
  say(`all  ${String(r.n).padStart(4)}  ${r.overall.toFixed(3)}`);
  report.dev = r;
}

// ---------- FLORES documents: the same recall@1 on 20 languages (scripts/model/flores-docs.ts)
const floresDir = join(a.data!, 'benchmarks', 'flores');
if (existsSync(floresDir) && !a['speed-only']) {
  const docs = floresDocs(floresDir);
  const embs = await embedder.embedDocuments(docs.map((d) => ({ title: d.title, text: d.text, lang: d.lang })));
  const r = devRecall(docs, embs.map((e) => e.vector));
  say(`\nFLORES documents (${SENTENCES_PER_DOC} consecutive sentences, ${docs.length} in all): translation recall@1 over every other language`);
  say('lang    n  recall@1');
  for (const [lang, x] of Object.entries(r.perLang).sort()) say(`${lang.padEnd(4)} ${String(x.n).padStart(4)}  ${x.recall.toFixed(3)}`);
  say(`all  ${String(r.n).padStart(4)}  ${r.overall.toFixed(3)}`);
  report.flores_documents = r;
}

// ---------- speed
if (!a['skip-speed'] && dev.length) {
  const seconds = Number(a['speed-seconds']);
  const measure = async (docs: { title?: string; text: string; lang?: string }[]) => {
    await embedder.embedDocuments(docs.slice(0, 50)); // warm-up
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await embedder.embedDocuments(docs);
      n += docs.length;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
  const devDocs = dev.map((d) => ({ title: d.title, text: d.text, lang: d.lang }));
  const devWords = dev.reduce((n, d) => n + words(d.title) + words(d.text), 0) / dev.length;
  // ~600-word articles: paragraphs of same-language dev articles concatenated, cut at 600 words
  const byLang = new Map<string, string[]>();
  for (const d of dev) byLang.set(d.lang, [...(byLang.get(d.lang) ?? []), ...d.text.split('\n')]);
  const long: { title: string; text: string; lang: string }[] = [];
  for (const [lang, paras] of byLang) {
    let cur: string[] = [];
    let w = 0;
    for (const p of paras) {
      const pw = p.split(/\s+/).filter(Boolean);
      if (w + pw.length > 600) {
        cur.push(pw.slice(0, 600 - w).join(' '));
        long.push({ title: cur[0]!.split(/\s+/).slice(0, 10).join(' '), text: cur.join('\n'), lang });
        cur = [];
        w = 0;
        continue;
      }
      cur.push(p);
      w += pw.length;
    }
  }
  const longChars = long.reduce((n, d) => n + d.text.length, 0) / Math.max(1, long.length);
  const devRate = await measure(devDocs);
  const longRate = await measure(long);
  // The loops above repeat their articles, so the tokenizer's word cache is warm; once through a
  // freshly loaded model, in batches of 64 as the pipeline sends them, every word is new to it.
  const fresh = await Embedder.load({ modelDir, dtype: a.dtype as never });
  const tCold = performance.now();
  for (let i = 0; i < long.length; i += 64) await fresh.embedDocuments(long.slice(i, i + 64));
  const coldRate = long.length / ((performance.now() - tCold) / 1000);
  say(`\nspeed (embedDocuments, this process, ${seconds} s each)`);
  say(`dev articles (${devWords.toFixed(0)} words avg): ${devRate.toFixed(0)} articles/s`);
  say(`~600-word articles (${long.length} built from dev paragraphs, ${longChars.toFixed(0)} chars avg): ${longRate.toFixed(0)} articles/s`);
  say(`the same, once through a freshly loaded model (no word cached yet): ${coldRate.toFixed(0)} articles/s`);
  report.speed = { dev_articles_per_s: devRate, dev_words_avg: devWords, long_articles_per_s: longRate, long_cold_articles_per_s: coldRate, long_words: 600, long_chars_avg: longChars, long_count: long.length };
}
if (a.json) console.log(JSON.stringify(report, null, 1));
