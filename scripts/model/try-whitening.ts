// Experiment: effect of partial whitening (scripts/model/postprocess.ts) on an exported model, using
// only training text for the statistics; prints in-process dev / Tatoeba / FLORES figures per β.
//   npx tsx scripts/model/try-whitening.ts <model dir> <parallel dir> <dev.jsonl> <benchmarks dir> [β,...]
import { join } from 'node:path';
import { readTable, whiteningMatrix, applyLinear } from './postprocess.ts';
import { WordPieceEncoder } from './tokenize.ts';
import { loadParallel, isNewsSource, loadDev, loadBenchmark } from './data.ts';
import { embedDoc, embedText, finish, languageMeans, meanOfIds, type TableModel } from './embed.ts';
import { devRecall, bitextScores } from './evaluate.ts';
import { scriptPositionals } from '../args.ts';

const usage = `Experiment: partial whitening of an exported model (statistics from training text only); prints dev / Tatoeba / FLORES figures per β.

  npx tsx scripts/model/try-whitening.ts <model dir> <parallel dir> <dev.jsonl> <benchmarks dir> [β,...]`;
const [dir, dataDir, devPath, benchDir, betasArg] = scriptPositionals(usage, 4);
const { rows, dim, vocab } = readTable(dir!);
const enc = new WordPieceEncoder(vocab);
const files = loadParallel(dataDir!);
const perLang = new Map<string, Int32Array[]>();
const add = (l: string, ids: Int32Array) => {
  const a = perLang.get(l) ?? [];
  perLang.set(l, a);
  a.push(ids);
};
for (const f of files) {
  const news = f.pairs.map((_, i) => i).filter((i) => isNewsSource(f.sources[i]!));
  const idx = news.length >= 1000 ? news : f.pairs.map((_, i) => i);
  const step = Math.max(1, Math.floor(idx.length / 3000));
  for (let k = 0; k < idx.length; k += step) {
    const [x, e] = f.pairs[idx[k]!]!;
    add(f.lang, enc.encode(x));
    if ((perLang.get('en')?.length ?? 0) < 20000) add('en', enc.encode(e));
  }
}
const dev = loadDev(devPath!);
const tat = loadBenchmark(join(benchDir!, 'tatoeba'));
const flo = loadBenchmark(join(benchDir!, 'flores'));
const evalModel = (m: TableModel, tag: string) => {
  const r = devRecall(dev, dev.map((d) => embedDoc(m, d)));
  const bt = (set: Map<string, [string, string][]>) => {
    const out: string[] = [];
    let s = 0;
    for (const [l, pairs] of set) {
      const sc = bitextScores(pairs.map(([x]) => embedText(m, x, l)), pairs.map(([, e]) => embedText(m, e, 'en')));
      s += (sc.xx2en + sc.en2xx) / 2;
      out.push(`${l} ${((sc.xx2en + sc.en2xx) / 2).toFixed(3)}`);
    }
    return `${(s / set.size).toFixed(4)} [${out.join(' ')}]`;
  };
  console.log(`${tag}: dev ${r.overall.toFixed(4)} | ${Object.entries(r.perLang).map(([l, x]) => `${l} ${x.recall.toFixed(3)}`).join(' ')}`);
  console.log(`   tatoeba ${bt(tat)}`);
  console.log(`   flores ${bt(flo)}`);
};
for (const beta of (betasArg ?? '0,0.5,1').split(',').map(Number)) {
  let m: TableModel = { rows, dim, enc };
  m.means = languageMeans(m, perLang);
  if (beta > 0) {
    const vecs = new Map<string, Float32Array[]>();
    for (const [l, list] of perLang) vecs.set(l, list.map((ids) => finish(m, meanOfIds(m, ids), l)));
    const W = whiteningMatrix(vecs, dim, beta);
    m = { rows: applyLinear(rows, dim, W), dim, enc };
    m.means = languageMeans(m, perLang);
  }
  evalModel(m, `beta ${beta}`);
}
