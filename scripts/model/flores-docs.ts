// Multilingual documents from FLORES-200 devtest, which is multi-parallel (the same 1,012
// English sentences translated into every language, in article order): each run of 12
// consecutive sentences is one document (first sentence the title, the rest in paragraphs of
// three) in English and in every other language, and the translations of one run are one gold
// cluster. It checks the product on 20 languages where dev.jsonl has 9 (FLORES is never trained
// on). Runs cut across FLORES's short articles, so neighbouring runs can share a topic.
//
//   npx tsx scripts/model/flores-docs.ts --flores ../shared/data/benchmarks/flores --out flores-docs.jsonl
//   newsdedup eval flores-docs.jsonl
import { writeFileSync } from 'node:fs';
import { scriptArgs } from '../args.ts';
import { loadBenchmark } from './data.ts';

export interface FloresDoc {
  id: string;
  lang: string;
  title: string;
  text: string;
  cluster: string;
}

export const SENTENCES_PER_DOC = 12;
const PER_PARAGRAPH = 3;
const UNSPACED = new Set(['zh', 'ja']);

export function floresDocs(dir: string): FloresDoc[] {
  const byLang = new Map<string, string[]>();
  for (const [lang, pairs] of loadBenchmark(dir)) {
    byLang.set(lang, pairs.map(([xx]) => xx));
    byLang.set('en', pairs.map(([, en]) => en));
  }
  const docs: FloresDoc[] = [];
  for (const [lang, sentences] of byLang) {
    const join = UNSPACED.has(lang) ? '' : ' ';
    for (let c = 0; (c + 1) * SENTENCES_PER_DOC <= sentences.length; c++) {
      const run = sentences.slice(c * SENTENCES_PER_DOC, (c + 1) * SENTENCES_PER_DOC);
      const paragraphs: string[] = [];
      for (let i = 1; i < run.length; i += PER_PARAGRAPH) paragraphs.push(run.slice(i, i + PER_PARAGRAPH).join(join));
      docs.push({ id: `flores-${lang}-${c}`, lang, title: run[0]!, text: paragraphs.join('\n'), cluster: `flores-${c}` });
    }
  }
  return docs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = scriptArgs(
    `Writes FLORES-200 devtest as labelled multilingual documents (12 consecutive sentences each; the translations
of one run form a gold cluster), for newsdedup eval.

  npx tsx scripts/model/flores-docs.ts --flores ../shared/data/benchmarks/flores --out flores-docs.jsonl`,
    { flores: { type: 'string', default: '../shared/data/benchmarks/flores' }, out: { type: 'string', default: 'flores-docs.jsonl' } },
  );
  const docs = floresDocs(values.flores!);
  writeFileSync(values.out!, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  console.log(`wrote ${docs.length} documents (${new Set(docs.map((d) => d.lang)).size} languages) to ${values.out}`);
}
