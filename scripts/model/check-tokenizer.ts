// Checks that the training-side tokenisation (scripts/model/tokenize.ts) gives exactly the ids that
// the exported tokenizer.json gives through @huggingface/transformers AutoTokenizer, on dev
// articles and benchmark sentences of every language.
//
//   npx tsx scripts/model/check-tokenizer.ts <model dir> [dev.jsonl] [benchmarks dir]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { WordPieceEncoder } from './tokenize.ts';
import { loadBenchmark, loadDev } from './data.ts';
import { scriptPositionals } from '../args.ts';

const [dir, devPath, benchDir] = scriptPositionals(
  `Checks that the training-side tokenisation gives exactly the ids of the exported tokenizer.json through transformers.js.

  npx tsx scripts/model/check-tokenizer.ts <model dir> [dev.jsonl] [benchmarks dir]`,
  1,
) as [string, string | undefined, string | undefined];
env.allowRemoteModels = false;
const tk = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
const vocab: string[] = [];
for (const [t, i] of Object.entries(tk.model.vocab)) vocab[i] = t;
const enc = new WordPieceEncoder(vocab);
const tok = await AutoTokenizer.from_pretrained(resolve(dir));
const texts: string[] = [];
if (devPath) for (const d of loadDev(devPath)) texts.push(`${d.title}\n\n${d.text}`);
if (benchDir)
  for (const sub of ['tatoeba', 'flores'])
    for (const pairs of loadBenchmark(join(benchDir, sub)).values()) for (const [x, e] of pairs.slice(0, 200)) texts.push(x, e);
texts.push('Hans-Jörg Schmidt-Trenz 「我々が飼っている生後4か月のマウス」 İSTANBUL ΣΊΣΥΦΟΣ ﬁnance ½ x\u200by \u0000z');
let mismatches = 0;
let tokens = 0;
for (const t of texts) {
  const ours = Array.from(enc.encode(t));
  const theirs = (tok.encode(t, { add_special_tokens: false }) as number[]).map(Number);
  tokens += theirs.length;
  if (ours.length !== theirs.length || ours.some((x, i) => x !== theirs[i])) {
    if (mismatches++ < 5) {
      const k = ours.findIndex((x, i) => x !== theirs[i]);
      console.log('MISMATCH at', k, JSON.stringify(t.slice(0, 80)), ours.slice(Math.max(0, k - 2), k + 3).map((i) => vocab[i]), theirs.slice(Math.max(0, k - 2), k + 3).map((i) => vocab[i]));
    }
  }
}
const unk = enc.ids.get('[UNK]');
let unks = 0;
for (const t of texts) for (const i of enc.encode(t)) if (i === unk) unks++;
console.log(`${texts.length} texts, ${tokens} tokens, ${mismatches} mismatching texts, [UNK] ${unks}`);
// speed of the real tokenizer
const sample = texts.slice(0, 435);
const bytes = sample.reduce((n, t) => n + Buffer.byteLength(t), 0);
const t0 = performance.now();
for (let r = 0; r < 3; r++) for (const t of sample) tok.encode(t, { add_special_tokens: false });
const s = (performance.now() - t0) / 1000;
console.log(`AutoTokenizer: ${((3 * sample.length) / s).toFixed(0)} texts/s, ${((3 * bytes) / s / 1e6).toFixed(2)} MB/s`);
process.exit(mismatches ? 1 : 0);
