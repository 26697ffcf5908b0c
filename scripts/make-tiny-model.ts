// Generates a tiny static embedding model (real ONNX graph + WordPiece tokenizer.json) for
// plumbing tests: every word of the given texts becomes a token with a seeded random vector,
// so texts sharing words get similar vectors. It knows no translations; quality tests use the
// shipped model instead.
//
//   tsx scripts/make-tiny-model.ts <outDir> [--dim 32] [--name tiny] [text files...]
import { readFileSync } from 'node:fs';
import { exportStaticModel } from './model/export.ts';
import { prng } from './model/train.ts';
import { scriptArgs } from './args.ts';

export interface TinyModelOptions {
  outDir: string;
  texts: string[];
  dim?: number;
  name?: string;
  seed?: number;
}

export function makeTinyModel(opts: TinyModelOptions): string {
  const dim = opts.dim ?? 32;
  const words = new Set<string>();
  for (const t of opts.texts) for (const w of t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) words.add(w);
  // Single characters as ## pieces let WordPiece spell out any unseen word instead of mapping it to [UNK].
  const chars = new Set<string>();
  for (const w of words) for (const c of w) chars.add(c);
  for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789') chars.add(c);
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...[...words].sort()];
  for (const c of [...chars].sort()) {
    if (!words.has(c)) vocab.push(c);
    vocab.push(`##${c}`);
  }
  const rand = prng(opts.seed ?? 42);
  const embeddings = new Float32Array(vocab.length * dim);
  for (let i = 0; i < embeddings.length; i++) embeddings[i] = rand() * 2 - 1;
  embeddings.fill(0, 0, dim); // [PAD]
  exportStaticModel({
    outDir: opts.outDir,
    name: opts.name ?? 'tiny-test-model',
    vocab,
    embeddings,
    dim,
    maxLength: 512,
    variants: ['fp32'],
  });
  return opts.outDir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = scriptArgs(
    `Writes a tiny real model (ONNX + tokenizer, transformers.js layout) learned from the given texts, for tests.

  tsx scripts/make-tiny-model.ts <outDir> [--dim N] [--name NAME] [text files...]`,
    { dim: { type: 'string', default: '32' }, name: { type: 'string', default: 'tiny-test-model' } },
    true,
    1,
  );
  const [outDir, ...files] = positionals;
  makeTinyModel({ outDir: outDir!, texts: files.map((f) => readFileSync(f, 'utf8')), dim: Number(values.dim), name: values.name });
  console.log(`wrote ${outDir}`);
}
