// Lists dev.jsonl translation-retrieval failures (which language/article was retrieved instead) for a model folder.
//   npx tsx scripts/model/diag-dev.ts <model dir> <dev.jsonl>
import { resolve } from 'node:path';
import { Embedder } from '../../models/embedder.ts';
import { loadDev } from './data.ts';
import { dot } from './embed.ts';
import { scriptPositionals } from '../args.ts';

const usage = `Lists dev.jsonl translation-retrieval failures of a model folder (what was retrieved instead of the translation).

  npx tsx scripts/model/diag-dev.ts <model dir> <dev.jsonl>`;
const [dir, devPath] = scriptPositionals(usage, 2);
const e = await Embedder.load({ modelDir: resolve(dir!) });
const dev = loadDev(devPath!);
const v = (await e.embedDocuments(dev.map((d) => ({ title: d.title, text: d.text, lang: d.lang })))).map((x) => x.vector);
const conf = new Map<string, number>();
for (let i = 0; i < dev.length; i++) {
  const d = dev[i]!;
  if (!dev.some((o) => o.cluster === d.cluster && o.lang !== d.lang)) continue;
  let best = -2, bj = -1, bestGold = -2, gj = -1;
  for (let j = 0; j < dev.length; j++) {
    if (dev[j]!.lang === d.lang) continue;
    const s = dot(v[i]!, v[j]!);
    if (s > best) { best = s; bj = j; }
    if (dev[j]!.cluster === d.cluster && s > bestGold) { bestGold = s; gj = j; }
  }
  if (dev[bj]!.cluster !== d.cluster) {
    const k = `${d.lang}->${dev[bj]!.lang} (gold ${dev[gj]!.lang})`;
    conf.set(k, (conf.get(k) ?? 0) + 1);
    console.log(`${d.id} ${d.lang} got ${dev[bj]!.id} ${dev[bj]!.lang} ${best.toFixed(3)} vs gold ${dev[gj]!.id} ${dev[gj]!.lang} ${bestGold.toFixed(3)} | ${d.title.slice(0, 50)} | ${dev[bj]!.title.slice(0, 50)}`);
  }
}
console.log([...conf].sort((a, b) => b[1] - a[1]));
